"""Fiscal services (urn:mx:gob:sat): the taxpayer register, status answers and status changes.

Its native format is the fixed-width register export (``_legacy``), kept as-is in SQLite
(``_store``) and mapped to mx.gob.sat records (``_mapping``). Run it with
``python -m adapters.fiscal --key-file K --data-dir D --port P [--register EXPORT]``.
"""

from pathlib import Path

from adapters._agencies import Agency, Option
from adapters._runtime import AgencySpec
from adapters.fiscal._demo import register_export
from adapters.fiscal._desk import RECORDS_READ, FiscalDesk
from adapters.fiscal._legacy import LINE_WIDTH, LegacyTaxpayer, format_line, parse_export, parse_line
from adapters.fiscal._store import SCHEMA

__all__ = [
    "AGENCY",
    "LINE_WIDTH",
    "RECORDS_READ",
    "SPEC",
    "FiscalDesk",
    "LegacyTaxpayer",
    "format_line",
    "parse_export",
    "parse_line",
    "register_export",
]

AGENCY = Agency(
    urn="urn:mx:gob:sat",
    name="fiscal",
    module=__name__,
    title="Fiscal services (SAT)",
    reads=tuple(model.avro_name for model in RECORDS_READ),
    publishes=("mx.gob.sat.TaxpayerStatusReported", "mx.gob.sat.TaxpayerStatusChanged"),
    options=(
        Option(
            "--register",
            help="a fixed-width register export to load at start",
            demo_input=register_export,
        ),
    ),
    answers_information_requests=True,
)


def _desk(store, args) -> FiscalDesk:  # type: ignore[no-untyped-def]
    desk = FiscalDesk(store)
    if getattr(args, "register", None):
        desk.load_register(Path(args.register).read_text(encoding="ascii"))
    return desk


SPEC = AgencySpec(
    urn=AGENCY.urn,
    name=AGENCY.name,
    schema=SCHEMA,
    make_desk=_desk,
    describe=lambda desk: {"taxpayers": desk.register.count()},  # type: ignore[attr-defined]
)
