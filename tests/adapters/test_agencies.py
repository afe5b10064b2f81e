"""Agencies declared once: each declaration agrees with the catalog and the policy, and everything
that starts, addresses or runs an agency reads it."""

from __future__ import annotations

import pytest

from adapters import Agency, agencies, agency
from adapters._agencies import _start_order
from adapters._runtime import _arguments
from bus.records import catalog

_COMMON = ["--key-file", "k.key", "--data-dir", "data", "--port", "8000"]


def _owned_by(urn: str) -> set[str]:
    return {t.full_name for t in catalog().records() if t.owner == urn}


@pytest.mark.parametrize("declared", agencies(), ids=lambda a: a.name)
def test_an_agency_publishes_only_records_its_namespace_owns(declared: Agency) -> None:
    owned = _owned_by(declared.urn)
    assert owned, f"the policy gives {declared.urn} no namespace with records"
    assert declared.publishes and set(declared.publishes) <= owned, set(declared.publishes) - owned


@pytest.mark.parametrize("declared", agencies(), ids=lambda a: a.name)
def test_an_agency_reads_records_of_the_catalog_that_another_agency_publishes(declared: Agency) -> None:
    published = {name for each in agencies() if each is not declared for name in each.publishes}
    assert declared.reads and set(declared.reads) <= set(catalog().names()), set(declared.reads) - set(
        catalog().names()
    )
    assert set(declared.reads) <= published, f"nobody sends {set(declared.reads) - published}"


@pytest.mark.parametrize("declared", agencies(), ids=lambda a: a.name)
def test_an_agency_is_its_own_package_run_with_python_m(declared: Agency) -> None:
    import importlib

    assert declared.module == f"adapters.{declared.name}"
    package = importlib.import_module(declared.module)
    assert package.AGENCY is declared and package.SPEC.urn == declared.urn and package.SPEC.name == declared.name
    assert importlib.util.find_spec(f"{declared.module}.__main__") is not None


def test_every_agency_is_found_once_in_start_order_receivers_before_senders() -> None:
    names = [a.name for a in agencies()]
    assert names == ["fiscal", "crm", "transparencia", "portal"]
    assert len({a.urn for a in agencies()}) == len(names)
    for position, each in enumerate(agencies()):
        assert set(each.starts_after) <= set(names[:position])
    assert agency("urn:mx:gob:crm").name == "crm"
    with pytest.raises(LookupError, match="urn:mx:gob:nadie"):
        agency("urn:mx:gob:nadie")


def test_a_start_order_that_goes_round_or_names_nobody_is_refused() -> None:
    def declare(name: str, *after: str) -> Agency:
        return Agency(urn=f"urn:mx:gob:{name}", name=name, module=f"adapters.{name}", title=name, starts_after=after)

    with pytest.raises(ValueError, match=r"\['a', 'b'\]"):
        _start_order({"a": declare("a", "b"), "b": declare("b", "a"), "c": declare("c")})
    with pytest.raises(LookupError, match="nobody"):
        _start_order({"a": declare("a", "nobody")})
    ordered = _start_order({"z": declare("z"), "b": declare("b", "z"), "a": declare("a", "z")})
    assert [a.name for a in ordered] == ["z", "a", "b"]


def test_only_fiscal_services_take_a_register_on_their_command_line() -> None:
    from adapters.crm import SPEC as CRM
    from adapters.fiscal import SPEC as FISCAL

    assert _arguments(FISCAL, [*_COMMON, "--register", "padron.txt"]).register == "padron.txt"
    assert _arguments(FISCAL, _COMMON).register is None
    with pytest.raises(SystemExit):
        _arguments(CRM, [*_COMMON, "--register", "padron.txt"])


def test_the_fiscal_register_option_gives_enlace_up_the_demo_citizens_register() -> None:
    from adapters.fiscal import parse_export
    from ops.stack import citizens

    (register,) = agency("urn:mx:gob:sat").options
    assert register.flag == "--register" and register.dest == "register" and register.demo_input is not None
    people = citizens(10)
    assert [t.rfc for t in parse_export(register.demo_input(people))] == [p.rfc for p in people if p.tax_status]


def test_the_portal_offers_exactly_the_agencies_transparency_holds_an_answer_book_for() -> None:
    from adapters.portal import addressable_agencies
    from adapters.portal._forms import read_information_request
    from adapters.transparencia._routing import ANSWER_BOOKS

    offered = addressable_agencies()
    assert set(offered) == set(ANSWER_BOOKS)
    assert offered["urn:mx:gob:sat"] == agency("urn:mx:gob:sat").title
    asked = {"curp": "HEGG560427MVZRRL04", "question": "budget?", "consent": True}
    _, problems = read_information_request(asked | {"agency": "urn:mx:gob:transparencia"})
    assert [p.rule for p in problems] == ["form.agency"]
