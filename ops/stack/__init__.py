"""The whole bus on one machine: ``enlace up``, ``down``, ``status``, ``demo`` and ``trace``."""

from ops.stack._demo import DemoResult, run_demo
from ops.stack._population import Citizen, citizens
from ops.stack._stack import DEMO_CITIZENS, Stack, require_stack, stack_dir
from ops.stack._status import bus_status, format_table, status_tables
from ops.stack._trace import Hop, find_trace_id, hops, parent_chain, trace_report

__all__ = [
    "DEMO_CITIZENS",
    "Citizen",
    "DemoResult",
    "Hop",
    "Stack",
    "bus_status",
    "citizens",
    "find_trace_id",
    "format_table",
    "hops",
    "parent_chain",
    "require_stack",
    "run_demo",
    "stack_dir",
    "status_tables",
    "trace_report",
]
