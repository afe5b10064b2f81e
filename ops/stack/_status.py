"""``enlace status``: topics and end offsets, group lag, dead-letter depth, adapters' health."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bus.transport import KafkaClientConfig, Topics
from ops.stack._stack import Stack

__all__ = ["bus_status", "format_table", "status_tables"]


def format_table(title: str, headers: list[str], rows: Iterable[list[Any]]) -> str:
    """A plain-text table (no colour: it is read in CI logs too)."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows] or ["(none)"]
    return "\n".join([title, line, "-" * len(line), *body])


def bus_status(kafka: KafkaClientConfig | str) -> dict[str, Any]:
    """Per topic its partitions and end offsets; per group its lag per topic; per DLQ its depth.

    Args:
        kafka: the Kafka client configuration (or a bare ``host:port`` for a PLAINTEXT cluster).
    """
    admin = Topics(kafka, timeout_s=10)
    try:
        topics = [t for t in admin.names() if not t.startswith("__")]
        partitions = {t: admin.partitions(t) for t in topics}
        every = [p for t in topics for p in partitions[t]]
        ends = admin.end_offsets(every)
        begins = admin.beginning_offsets(every)
        groups: dict[str, dict[str, int]] = {}
        for group in admin.groups():
            for partition, offset in admin.committed(group).items():
                lag = max(0, ends.get(partition, offset) - offset) if offset >= 0 else ends.get(partition, 0)
                groups.setdefault(group, {}).setdefault(partition.topic, 0)
                groups[group][partition.topic] += lag
    finally:
        admin.close()
    return {
        "topics": {
            t: {"partitions": len(partitions[t]), "end_offsets": [ends.get(p, 0) for p in partitions[t]]}
            for t in topics
        },
        "groups": groups,
        "dead_letters": {
            t: sum(ends.get(p, 0) - begins.get(p, 0) for p in partitions[t]) for t in topics if t.endswith(".dlq")
        },
    }


def status_tables(stack: Stack) -> str:
    """The whole ``enlace status`` report."""
    state = bus_status(stack.client_config())
    parts = [
        format_table(
            "TOPICS",
            ["topic", "partitions", "end offsets"],
            ([t, v["partitions"], ",".join(map(str, v["end_offsets"]))] for t, v in state["topics"].items()),
        ),
        format_table(
            "AGENCY GROUPS",
            ["group", "topic", "lag"],
            ([g, t, lag] for g, per in sorted(state["groups"].items()) for t, lag in sorted(per.items())),
        ),
        format_table("DEAD LETTERS", ["topic", "depth"], ([t, d] for t, d in state["dead_letters"].items())),
    ]
    rows = []
    for name, health in stack.health().items():
        detail = health["detail"] or {}
        summary = (
            ", ".join(
                f"{k}={v}" for k, v in detail.items() if k not in {"status", "agency", "records_read", "uptime_s"}
            )
            if isinstance(detail, dict)
            else ""
        )
        rows.append(
            [
                name,
                health["pid"],
                "UP" if health["healthy"] else ("DOWN" if health["alive"] else "EXITED"),
                summary[:90],
            ]
        )
    parts.append(format_table("PROCESSES", ["component", "pid", "health", "detail"], rows))
    parts.append("\n".join(f"{k}: {v}" for k, v in stack.urls.items() if k in ("portal", "registry", "dashboard")))
    return "\n\n".join(parts)
