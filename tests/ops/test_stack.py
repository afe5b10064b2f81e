"""The stack's pure parts: demo citizens, the status table, trace hops from Zipkin spans, the state file."""

from __future__ import annotations

import sys

from adapters.fiscal import parse_export, register_export
from bus.records import validate_curp, validate_rfc
from ops.process import ManagedProcess, free_port
from ops.stack import Stack, citizens, format_table, hops, parent_chain


def test_demo_citizens_have_valid_distinct_identifiers_and_a_register_export():
    people = citizens(40)
    assert len({p.curp for p in people}) == 40
    for person in people:
        validate_curp(person.curp)
        validate_rfc(person.rfc)
    registered = [p for p in people if p.tax_status]
    assert 0 < len(registered) < 40 and {p.tax_status for p in registered} == {"A", "S"}
    assert [t.rfc for t in parse_export(register_export(people))] == [p.rfc for p in registered]
    assert citizens(5) == people[:5]  # deterministic


def test_a_status_table_lines_up_its_columns():
    table = format_table("TOPICS", ["topic", "end"], [["a.b", 3], ["a.longer-name", 12]])
    lines = table.splitlines()
    assert lines[0] == "TOPICS" and lines[1].index("end") == lines[3].index("3") == lines[4].index("12")
    assert format_table("EMPTY", ["x"], []).endswith("(none)")


def _span(span_id, parent, kind, service, **tags):
    span = {
        "traceId": "a" * 32,
        "id": span_id,
        "kind": kind,
        "timestamp": int(span_id, 16) * 1000,
        "localEndpoint": {"serviceName": service},
        "tags": tags,
    }
    if parent:
        span["parentId"] = parent
    return span


def test_hops_are_read_from_consumer_spans_in_time_order_with_their_outcome():
    spans = [
        _span(
            "0000000000000003",
            "0000000000000002",
            "CONSUMER",
            "urn:mx:gob:crm",
            **{
                "enlace.sender.agency": "urn:mx:gob:portal",
                "enlace.receiver.agency": "urn:mx:gob:crm",
                "messaging.destination.name": "mx.gob.portal.service-request-submitted",
                "messaging.message.id": "ce-1",
            },
        ),
        _span("0000000000000001", None, "SERVER", "urn:mx:gob:portal"),
        _span("0000000000000002", "0000000000000001", "PRODUCER", "urn:mx:gob:portal"),
        _span(
            "0000000000000005",
            "0000000000000004",
            "CONSUMER",
            "urn:mx:gob:sat",
            **{
                "enlace.sender.agency": "urn:mx:gob:crm",
                "error.type": "LookupError",
                "messaging.destination.name": "mx.gob.crm.taxpayer-status-requested",
            },
        ),
    ]
    found = hops(spans)
    assert [(h.sender, h.receiver, h.outcome) for h in found] == [
        ("urn:mx:gob:portal", "urn:mx:gob:crm", "ok"),
        ("urn:mx:gob:crm", "urn:mx:gob:sat", "error: LookupError"),
    ]
    assert "urn:mx:gob:portal -> urn:mx:gob:crm" in found[0].line()
    assert [s["id"][-1] for s in parent_chain(spans, "0000000000000003")] == ["1", "2", "3"]


def test_down_stops_every_process_the_state_file_names(tmp_path):
    port = free_port()
    started = ManagedProcess(
        name="portal",
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        log=tmp_path / "portal.log",
        health_url=f"http://127.0.0.1:{port}/",
        tied_to_parent=False,
    ).start(timeout=20)
    try:
        stack = Stack(
            root=tmp_path,
            bootstrap_servers="127.0.0.1:1",
            urls={"portal": f"http://127.0.0.1:{port}/"},
            processes=[started],
        )
        stack.save()
        again = Stack.load(tmp_path)
        assert again is not None and again.health()["portal"]["healthy"]
        again.down(say=lambda _: None)
        # down returns once /proc shows the process exited (gone or a zombie); a zombie leader can
        # still be on its way out, so its parent waits for the exit instead of polling once.
        assert started._popen is not None and started._popen.wait(timeout=10) is not None
        assert not started.alive() and Stack.load(tmp_path) is None
    finally:
        started.stop()
