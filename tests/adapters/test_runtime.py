"""The agency runtime never drops a record: one no handler reads is a dead letter."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from adapters._runtime import _Agency
from bus.records.models import CaseOpened, ServiceRequestSubmitted
from connectors import RecordRefused


def test_a_record_no_desk_handler_reads_is_refused_as_unhandled_type_not_dropped():
    handled = []
    agency = SimpleNamespace(
        spec=SimpleNamespace(urn="urn:mx:gob:crm"), handlers={ServiceRequestSubmitted: lambda r, m: handled.append(r)}
    )
    received = SimpleNamespace(ce_type="mx.gob.crm.CaseOpened.v2", topic="mx.gob.crm.case-opened")
    with pytest.raises(RecordRefused) as refused:
        _Agency.handle(agency, object.__new__(CaseOpened), received)  # type: ignore[arg-type]
    assert refused.value.reason == "unhandled-type"
    assert "no handler for mx.gob.crm.CaseOpened.v2" in str(refused.value) and handled == []
