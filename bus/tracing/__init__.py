"""Tracing and metrics for the bus: OpenTelemetry spans and counters per record sent and processed.

``Telemetry`` makes the spans (``send <topic>``, ``process <topic>``) with the OpenTelemetry
messaging attributes, and counts published, consumed, dead-lettered and retried records.
``configure_from_env`` installs exporters named by the standard ``OTEL_*`` variables.
"""

from bus.tracing._configure import configure_from_env
from bus.tracing._telemetry import DEAD_LETTER_REASON, RECEIVER_AGENCY, SENDER_AGENCY, SendSpan, Telemetry

__all__ = [
    "DEAD_LETTER_REASON",
    "RECEIVER_AGENCY",
    "SENDER_AGENCY",
    "SendSpan",
    "Telemetry",
    "configure_from_env",
]
