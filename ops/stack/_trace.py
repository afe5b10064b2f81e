"""``enlace trace <ce_id>``: one record's hops across agencies, read from Zipkin's API."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from bus import TransportError
from ops.zipkin import fetch_trace

__all__ = ["Hop", "find_trace_id", "hops", "parent_chain"]

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Hop:
    """One record moving from one agency to another (a CONSUMER span and its PRODUCER parent)."""

    at: dt.datetime
    sender: str
    receiver: str
    topic: str
    ce_id: str
    outcome: str

    def line(self, *, asked: str = "") -> str:
        """One line; the record asked about is marked with ``*``."""
        mark = "*" if asked and self.ce_id == asked else " "
        when = f"{self.at:%H:%M:%S.%f}"[:-3]
        return f"{mark} {when}  {self.sender} -> {self.receiver}  {self.topic}  {self.ce_id}  {self.outcome}"


def find_trace_id(zipkin_url: str, ce_id: str) -> str | None:
    """The trace holding record ``ce_id`` (a span tagged messaging.message.id), or the id itself if it is one."""
    if _TRACE_ID.match(ce_id):
        return ce_id
    query = urllib.parse.urlencode(
        {
            "annotationQuery": f"messaging.message.id={ce_id}",
            "limit": 1,
            "lookback": 7 * 86_400_000,
            "endTs": int(time.time() * 1000),
        }
    )
    try:
        with urllib.request.urlopen(f"{zipkin_url.rstrip('/')}/api/v2/traces?{query}", timeout=10) as response:
            traces = json.loads(response.read())
    except OSError as exc:
        raise TransportError(f"zipkin at {zipkin_url} did not answer: {exc}", retriable=True) from exc
    return traces[0][0]["traceId"] if traces and traces[0] else None


def hops(spans: list[dict[str, Any]]) -> list[Hop]:
    """The agency-to-agency hops of a trace, in time order."""
    found = []
    for span in spans:
        if span.get("kind") != "CONSUMER":
            continue
        tags = span.get("tags", {})
        outcome = "ok"
        if "error" in tags or "error.type" in tags:
            outcome = f"error: {tags.get('error.type') or tags.get('error')}"
        if "enlace.dead_letter.reason" in tags:
            outcome = f"dead-lettered: {tags['enlace.dead_letter.reason']}"
        found.append(
            Hop(
                at=dt.datetime.fromtimestamp(span.get("timestamp", 0) / 1e6, dt.UTC),
                sender=tags.get("enlace.sender.agency", "?"),
                receiver=tags.get("enlace.receiver.agency", span.get("localEndpoint", {}).get("serviceName", "?")),
                topic=tags.get("messaging.destination.name", span.get("name", "")),
                ce_id=tags.get("messaging.message.id", ""),
                outcome=outcome,
            )
        )
    return sorted(found, key=lambda h: h.at)


def parent_chain(spans: list[dict[str, Any]], span_id: str) -> list[dict[str, Any]]:
    """The spans from the root down to ``span_id``, following parentId links."""
    by_id = {s["id"]: s for s in spans}
    chain = []
    current = by_id.get(span_id)
    while current is not None:
        chain.append(current)
        current = by_id.get(current.get("parentId", ""))
    return list(reversed(chain))


def trace_report(zipkin_url: str, ce_id: str) -> tuple[str | None, list[Hop]]:
    """The trace id and hops of record ``ce_id`` (or of trace id ``ce_id``)."""
    trace_id = find_trace_id(zipkin_url, ce_id)
    if trace_id is None:
        return None, []
    return trace_id, hops(fetch_trace(zipkin_url, trace_id))
