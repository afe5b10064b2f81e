"""CURP and RFC validators on real-format examples, valid and invalid."""

from __future__ import annotations

import pytest

from bus import ValidationError
from bus.records import (
    curp_check_digit,
    curp_problems,
    rfc_check_digit,
    rfc_problems,
    validate_curp,
    validate_rfc,
)

# RENAPO's own example in the CURP instructions, and CURPs built by its rules with their check digit.
VALID_CURPS = ["HEGG560427MVZRRL04", "ROMA900215HJCDRN09", "PEGL031108MDFRNCA4"]
# Public bodies' RFCs, SAT's documentation example, and SAT's test issuer for electronic invoices.
VALID_RFCS = [
    "SAT970701NN3",
    "CFE370814QI0",
    "PME380607P35",
    "GODE561231GR8",
    "EKU9003173C9",
    "ROMA900215AB1",
]


@pytest.mark.parametrize("curp", VALID_CURPS)
def test_valid_curps_pass(curp: str) -> None:
    assert curp_problems(curp) == []
    assert validate_curp(curp) == curp


@pytest.mark.parametrize("curp", VALID_CURPS)
def test_check_digit_matches_the_last_character_of_real_curps(curp: str) -> None:
    assert curp_check_digit(curp[:17]) == curp[17]


def test_wrong_curp_check_digit_names_found_and_expected_digit() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_curp("ROMA900215HJCDRN07", path="/citizenCurp", record="mx.gob.crm.CaseOpened")
    error = raised.value
    assert "check digit is 7, expected 9" in str(error)
    assert error.rule == "curp.check_digit"
    assert error.path == "/citizenCurp"
    assert error.value == "ROMA900215HJCDRN07"
    assert error.record == "mx.gob.crm.CaseOpened"


@pytest.mark.parametrize(
    ("curp", "rule", "fragment"),
    [
        ("ROMA900215HJCDRN0", "curp.length", "has 17 characters, expected 18"),
        ("roma900215hjcdrn09", "curp.format", "uppercase"),
        ("R0MA900215HJCDRN09", "curp.format", "characters 1-4"),
        ("ROMA9002A5HJCDRN09", "curp.format", "characters 5-10"),
        ("ROMA900215QJCDRN09", "curp.format", "character 11"),
        ("ROMA900215HJCDAN09", "curp.format", "characters 14-16"),
        ("ROMA900231HJCDRN09", "curp.birth_date", "characters 5-10 are not a birth date"),
        ("ROMA900215HZZDRN09", "curp.state", "characters 12-13 are not a state code"),
        (12345, "curp.type", "must be a string"),
    ],
)
def test_malformed_curps_say_which_rule_failed(curp: object, rule: str, fragment: str) -> None:
    problems = curp_problems(curp)
    assert problems, curp
    assert problems[0].rule == rule
    assert fragment in problems[0].message
    if isinstance(curp, str):  # the message names the rule and the place, never the CURP or a part of it
        assert curp not in problems[0].message and curp[4:10] not in problems[0].message


def test_curp_born_abroad_uses_state_ne() -> None:
    base = "ROMA900215HNEDRN0"
    assert curp_problems(base + curp_check_digit(base)) == []


def test_curp_differentiator_letter_means_born_in_2000s() -> None:
    # 29 February exists in 2000 (letter differentiator) but not in 1900 (digit differentiator).
    born_2000 = "PEGL000229MDFRNCA"
    born_1900 = "PEGL000229MDFRNC0"
    assert curp_problems(born_2000 + curp_check_digit(born_2000)) == []
    assert [p.rule for p in curp_problems(born_1900 + curp_check_digit(born_1900))] == ["curp.birth_date"]


@pytest.mark.parametrize("rfc", VALID_RFCS)
def test_valid_rfcs_pass(rfc: str) -> None:
    assert rfc_problems(rfc) == []
    assert validate_rfc(rfc) == rfc


@pytest.mark.parametrize("rfc", VALID_RFCS)
def test_rfc_check_digit_matches_real_rfcs(rfc: str) -> None:
    assert rfc_check_digit(rfc[:-1]) == rfc[-1]


def test_rfc_check_digit_can_be_a() -> None:
    assert rfc_check_digit("BIM0611276F") == "A"
    assert rfc_problems("BIM0611276FA") == []


@pytest.mark.parametrize("rfc", ["XAXX010101000", "XEXX010101000"])
def test_generic_rfcs_for_public_and_foreigners_are_valid(rfc: str) -> None:
    assert rfc_problems(rfc) == []


def test_wrong_rfc_check_digit_names_found_and_expected() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_rfc("SAT970701NN4", path="/rfc")
    assert "check digit is 4, expected 3" in str(raised.value)
    assert raised.value.rule == "rfc.check_digit"
    assert raised.value.path == "/rfc"


def test_lenient_rfc_skips_only_the_check_digit() -> None:
    assert rfc_problems("SAT970701NN4", strict=False) == []
    assert [p.rule for p in rfc_problems("SAT971301NN4", strict=False)] == ["rfc.date"]


@pytest.mark.parametrize(
    ("rfc", "rule", "fragment"),
    [
        ("SAT970701N", "rfc.length", "has 10 characters"),
        ("sat970701nn3", "rfc.format", "uppercase"),
        ("SA1970701NN3", "rfc.format", "not a company's RFC"),
        ("ROMA9002150AB1", "rfc.length", "has 14 characters"),
        ("ROM4900215AB1", "rfc.format", "not a person's RFC"),
        ("ROMA901315AB1", "rfc.date", "is not a date (YYMMDD)"),
        (None, "rfc.type", "must be a string"),
    ],
)
def test_malformed_rfcs_say_which_rule_failed(rfc: object, rule: str, fragment: str) -> None:
    problems = rfc_problems(rfc)
    assert problems[0].rule == rule
    assert fragment in problems[0].message
    if isinstance(rfc, str):
        assert rfc not in problems[0].message and rfc.upper()[-9:-3] not in problems[0].message


def test_every_broken_rule_is_reported_not_just_the_first() -> None:
    problems = curp_problems("ROMA900231HZZDRN00")
    assert {p.rule for p in problems} == {"curp.birth_date", "curp.state", "curp.check_digit"}
