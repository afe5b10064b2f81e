"""Batch files through the bridge: every line reported, and a drop resumed after a crash publishes nothing twice."""

from __future__ import annotations

import json

import pytest

from bus.transport import Partition, Topics
from connectors.bridge._batch import drop_file
from tests.connectors.bridge.conftest import CASES, CRM, case_json

pytestmark = pytest.mark.integration

_COLUMNS = ["caseId", "citizenCurp", "channel", "category", "status", "priority", "slaDueDate", "openedAt"]


def _row(i: int, **changes: str) -> str:
    record = case_json(i) | changes
    return ",".join(str(record[c]) for c in _COLUMNS)


def _end(served) -> int:
    topic = served.bus.topic(CASES)
    with Topics(served.bus.kafka) as topics:
        return topics.end_offsets([Partition(topic, 0)])[Partition(topic, 0)]


class _Crash(Exception):
    pass


def test_a_csv_drop_reports_every_line_and_resumes_after_a_crash_without_doubles(served_bridge, tmp_path) -> None:
    served = served_bridge({CRM: None})
    file = tmp_path / "cases.csv"
    rows = [_row(20), _row(21, citizenCurp="NOTACURP"), _row(22), "CRM-2025-000023,too,few", _row(24), _row(25)]
    file.write_text(",".join(_COLUMNS) + "\n" + "\n".join(rows) + "\n")
    before = _end(served)

    def crash_after_first(index: int) -> None:
        if index == 0:
            raise _Crash

    with served.client(CRM) as crm:
        with pytest.raises(_Crash):
            drop_file(crm, CASES, file, chunk_size=2, after_chunk=crash_after_first)
        assert _end(served) == before + 1  # the first chunk: one accepted, one refused
        reports = drop_file(crm, CASES, file, chunk_size=2)
        assert [(r.line, r.outcome) for r in reports] == [
            (2, "accepted"),
            (3, "refused"),
            (4, "accepted"),
            (5, "refused"),
            (6, "accepted"),
            (7, "accepted"),
        ]
        assert reports[1].problems[0]["path"] == "/citizenCurp" and reports[3].reason == "csv.cell"
        assert _end(served) == before + 4
        # the progress file lost (a crash before it was written): the bridge's idempotency keys still hold
        (tmp_path / "cases.csv.progress.json").unlink()
        again = drop_file(crm, CASES, file, chunk_size=2)
        assert [r.ce_id for r in again] == [r.ce_id for r in reports]
        assert _end(served) == before + 4


def test_a_json_lines_drop_refuses_unreadable_lines_by_number(served_bridge, tmp_path) -> None:
    served = served_bridge({CRM: None})
    file = tmp_path / "cases.jsonl"
    file.write_text(json.dumps(case_json(30)) + "\n{oops\n\n" + json.dumps(case_json(31) | {"channel": 7}) + "\n")
    with served.client(CRM) as crm:
        reports = drop_file(crm, CASES, file)
    assert [(r.line, r.outcome, r.reason) for r in reports][:2] == [(1, "accepted", ""), (2, "refused", "json")]
    assert reports[2].line == 4 and reports[2].outcome == "refused" and reports[2].problems[0]["path"] == "/channel"
