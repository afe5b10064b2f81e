"""``enlace status``: topics and end offsets, group lag, dead-letter depth, adapters' health."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ops.stack._stack import Stack

__all__ = ["bus_status", "format_table", "status_tables"]


def format_table(title: str, headers: list[str], rows: Iterable[list[Any]]) -> str:
    """A plain-text table (no colour: it is read in CI logs too)."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows] or ["(none)"]
    return "\n".join([title, line, "-" * len(line), *body])


def bus_status(bootstrap_servers: str) -> dict[str, Any]:
    """Per topic its partitions and end offsets; per group its lag per topic; per DLQ its depth."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10000)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    try:
        topics = sorted(t for t in admin.list_topics() if not t.startswith("__"))
        partitions = {t: sorted(consumer.partitions_for_topic(t) or ()) for t in topics}
        tps = [TopicPartition(t, p) for t in topics for p in partitions[t]]
        ends = consumer.end_offsets(tps) if tps else {}
        begins = consumer.beginning_offsets(tps) if tps else {}
        groups: dict[str, dict[str, int]] = {}
        for listed in admin.list_groups():  # kafka-python 3.x: dicts with "group_id"
            group = listed["group_id"]
            committed = admin.list_group_offsets(group).get(group, {})
            for tp, meta in committed.items():
                lag = max(0, ends.get(tp, meta.offset) - meta.offset) if meta.offset >= 0 else ends.get(tp, 0)
                groups.setdefault(group, {}).setdefault(tp.topic, 0)
                groups[group][tp.topic] += lag
    finally:
        consumer.close()
        admin.close()
    return {
        "topics": {
            t: {
                "partitions": len(partitions[t]),
                "end_offsets": [ends.get(TopicPartition(t, p), 0) for p in partitions[t]],
            }
            for t in topics
        },
        "groups": groups,
        "dead_letters": {
            t: sum(ends.get(TopicPartition(t, p), 0) - begins.get(TopicPartition(t, p), 0) for p in partitions[t])
            for t in topics
            if t.endswith(".dlq")
        },
    }


def status_tables(stack: Stack) -> str:
    """The whole ``enlace status`` report."""
    state = bus_status(stack.bootstrap_servers)
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
