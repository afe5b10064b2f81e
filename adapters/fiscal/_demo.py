"""Fiscal services' demo input: the register export ``enlace up`` loads for the demo's citizens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from adapters._agencies import DemoCitizen
from adapters.fiscal._legacy import LegacyTaxpayer, format_line

__all__ = ["register_export"]


def register_export(people: Sequence[DemoCitizen], *, since: dt.date = dt.date(2020, 1, 1)) -> str:
    """The fixed-width register export holding the registered ones among ``people``.

    Args:
        people: the demo's citizens; those without a tax status are not in the register.
        since: the date every status holds from.
    """
    lines = [
        format_line(
            LegacyTaxpayer(
                rfc=p.rfc,
                curp=p.curp,
                name=p.full_name.upper(),
                regime_code="612" if i % 2 else "605",
                status_code=p.tax_status,
                status_since=since,
                obligations=("ISR-PF", "IVA-MENSUAL") if i % 2 else ("ISR-SYS",),
            )
        )
        for i, p in enumerate(people)
        if p.tax_status
    ]
    return "\n".join(lines) + "\n"
