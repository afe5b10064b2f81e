"""The whole bus on one machine: ``enlace up``, ``down``, ``status``, ``demo`` and ``trace``."""

from ops.stack._demo import DemoResult, archive_through_bridge, run_demo
from ops.stack._population import Citizen, citizens
from ops.stack._stack import BRIDGE_AGENCIES, DEMO_CITIZENS, Stack, bridge_client_context, require_stack, stack_dir
from ops.stack._status import bus_status, format_table, status_tables
from ops.stack._trace import Hop, find_trace_id, hops, parent_chain, trace_report

__all__ = [
    "BRIDGE_AGENCIES",
    "DEMO_CITIZENS",
    "Citizen",
    "DemoResult",
    "Hop",
    "Stack",
    "archive_through_bridge",
    "bridge_client_context",
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
