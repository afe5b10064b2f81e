"""Fiscal services' native fixed-width register: read, write, and errors that name the columns."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.fiscal._legacy import LINE_WIDTH, LegacyTaxpayer, format_line, parse_export, parse_line
from adapters.fiscal._store import SCHEMA, TaxpayerRegister
from bus import ValidationError
from connectors import AgencyStore

PERSON = LegacyTaxpayer(
    rfc="GODE561231GR8",
    curp="GODE561231HDFRRN00",
    name="EMILIO GOMEZ DIAZ",
    regime_code="612",
    status_code="A",
    status_since=dt.date(2019, 3, 1),
    obligations=("ISR-PF", "IVA-MENSUAL"),
)
COMPANY = LegacyTaxpayer(
    rfc="ABC680524P73",
    curp="",
    name="ABARROTES EL CENTRO SA DE CV",
    regime_code="601",
    status_code="S",
    status_since=dt.date(2024, 1, 15),
    obligations=("ISR-PM",),
)


def test_a_line_round_trips_through_the_fixed_width_layout():
    line = format_line(PERSON)
    assert len(line) == LINE_WIDTH
    assert line[0:13] == "GODE561231GR8"
    assert line[91:94] == "612" and line[94] == "A" and line[95:103] == "20190301"
    assert parse_line(line) == PERSON


def test_a_company_rfc_keeps_its_trailing_space_and_blank_curp():
    line = format_line(COMPANY)
    assert line[0:13] == "ABC680524P73 "
    assert line[13:31] == " " * 18
    assert parse_line(line) == COMPANY


def test_a_short_line_is_refused_with_its_length():
    with pytest.raises(ValidationError, match="line 7 has 20 characters, expected 150") as caught:
        parse_line("GODE561231GR8       ", line_no=7)
    assert caught.value.rule == "padron.width"


def test_an_unknown_status_code_names_its_column_and_value():
    line = format_line(PERSON)
    bad = line[:94] + "X" + line[95:]
    with pytest.raises(ValidationError, match=r"status_code \(columns 95-95\).*found 'X'") as caught:
        parse_line(bad, line_no=3)
    assert caught.value.path == "/3/status_code"


def test_a_bad_date_is_refused_and_an_export_reports_every_bad_line():
    good = format_line(PERSON)
    bad_date = good[:95] + "20191340" + good[103:]
    with pytest.raises(ValidationError, match="2 bad line") as caught:
        parse_export("\n".join([good, bad_date, "", "too short"]))
    assert [p.rule for p in caught.value.problems] == ["padron.date", "padron.width"]


def test_the_register_keeps_legacy_lines_and_finds_by_rfc_and_curp(tmp_path):
    store = AgencyStore(tmp_path / "sat.sqlite3", schema=SCHEMA)
    register = TaxpayerRegister(store)
    with store.transaction() as tx:
        assert register.load(tx, format_line(PERSON) + "\n" + format_line(COMPANY) + "\n") == 2
    assert store.reader().execute("SELECT line FROM padron WHERE rfc = ?", (PERSON.rfc,)).fetchone()[0] == (
        format_line(PERSON)
    )
    assert register.by_rfc("gode561231gr8") == PERSON
    assert register.by_curp(PERSON.curp) == PERSON
    assert register.by_curp("NOPE") is None
    with store.transaction() as tx:
        before, after = register.change_status(tx, PERSON.rfc, "S", since=dt.date(2026, 1, 2))
    assert before == PERSON and after.status_code == "S" and register.by_rfc(PERSON.rfc) == after
    assert register.count() == 2


def test_a_status_change_for_an_unknown_taxpayer_is_refused():
    store = AgencyStore(":memory:", schema=SCHEMA)
    register = TaxpayerRegister(store)
    with pytest.raises(ValidationError, match="no taxpayer with RFC XAXX010101000"), store.transaction() as tx:
        register.change_status(tx, "XAXX010101000", "C", since=dt.date(2026, 1, 1))
