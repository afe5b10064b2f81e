"""Agencies declared once: what each agency is, reads, publishes and takes on its command line.

Every agency package (``adapters/<name>/__init__.py``) declares one :class:`Agency` as ``AGENCY``;
:func:`agencies` finds them all. ``enlace up`` (what to start, in which order, with which options),
the demo, the portal's forms (which agencies a citizen can address) and the agency process's command
line all read these declarations, so a new agency is a new package plus its namespace in
``schemas/policy.yaml``.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Agency", "DemoCitizen", "Option", "agencies", "agency"]


class DemoCitizen(Protocol):
    """One person of ``enlace up``'s demo population, as an agency's demo input reads them."""

    @property
    def curp(self) -> str: ...

    @property
    def rfc(self) -> str: ...

    @property
    def full_name(self) -> str: ...

    @property
    def tax_status(self) -> str | None: ...


@dataclass(frozen=True)
class Option:
    """A command-line option of one agency's process, beyond those every agency takes.

    Attributes:
        flag: the option as typed, e.g. ``"--register"``; its value is a string.
        help: one line for ``--help``.
        demo_input: what ``enlace up`` passes: given the demo's citizens, the text of a file it
            writes and names in this option. None: ``enlace up`` leaves the option out.
    """

    flag: str
    help: str
    demo_input: Callable[[Sequence[DemoCitizen]], str] | None = None

    @property
    def dest(self) -> str:
        """The option's attribute on the parsed command line (``--register`` -> ``register``)."""
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Agency:
    """One agency on the bus, as everything that starts, addresses or checks it sees it.

    Attributes:
        urn: the agency's URN (DESIGN.md "Names"), the owner of its namespace in the policy.
        name: its short name: the process, its files, its consumer group, its logs.
        module: the package run with ``python -m`` (declare it as ``__name__``).
        title: how a citizen knows it ("Fiscal services (SAT)").
        reads: full names of the records it handles (the topics it subscribes to).
        publishes: full names of the records it sends; each in its own namespace.
        options: its own command-line options (fiscal services' ``--register``).
        starts_after: names of agencies ``enlace up`` starts before it, so the agencies that
            answer its first records are already listening.
        answers_information_requests: a citizen may address a transparency information request
            to it (the portal's form offers it; transparency holds its answer book).
    """

    urn: str
    name: str
    module: str
    title: str
    reads: tuple[str, ...] = ()
    publishes: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    starts_after: tuple[str, ...] = ()
    answers_information_requests: bool = False


@functools.cache
def agencies() -> tuple[Agency, ...]:
    """Every agency declared by a subpackage of ``adapters``, in start order.

    Start order honours each agency's ``starts_after``; agencies free to start at the same point
    go by name, so the order is the same on every machine.

    Raises:
        LookupError: two agencies share a name or URN, or ``starts_after`` names an unknown agency.
        ValueError: ``starts_after`` goes round in a circle.
    """
    import adapters

    declared: dict[str, Agency] = {}
    urns: set[str] = set()
    for found in pkgutil.iter_modules(adapters.__path__):
        if not found.ispkg:
            continue
        package = importlib.import_module(f"adapters.{found.name}")
        declaration = getattr(package, "AGENCY", None)
        if not isinstance(declaration, Agency):
            continue
        if declaration.name in declared or declaration.urn in urns:
            raise LookupError(f"adapters.{found.name}: agency {declaration.name} ({declaration.urn}) is declared twice")
        declared[declaration.name] = declaration
        urns.add(declaration.urn)
    return tuple(_start_order(declared))


def _start_order(declared: dict[str, Agency]) -> list[Agency]:
    for each in declared.values():
        unknown = sorted(set(each.starts_after) - set(declared))
        if unknown:
            raise LookupError(f"agency {each.name} starts after {unknown}, which no package declares")
    ordered: list[Agency] = []
    started: set[str] = set()
    while len(ordered) < len(declared):
        ready = sorted(
            name for name, each in declared.items() if name not in started and started.issuperset(each.starts_after)
        )
        if not ready:
            waiting = sorted(set(declared) - started)
            raise ValueError(f"agencies {waiting} each start after another of them: no order starts them")
        ordered.append(declared[ready[0]])
        started.add(ready[0])
    return ordered


def agency(urn: str) -> Agency:
    """The declaration of the agency with this URN.

    Raises:
        LookupError: no package declares it.
    """
    for each in agencies():
        if each.urn == urn:
            return each
    raise LookupError(f"no agency package declares {urn}; declared: {[a.urn for a in agencies()]}")
