"""Fiscal services' native format: the fixed-width taxpayer register export ("padrón").

One taxpayer per line, 150 characters, space-padded, ASCII upper case (Ñ kept as in the RFC)::

    cols   1-13   RFC                 left-aligned; a company's 12-character RFC has a trailing space
    cols  14-31   CURP                blank for companies
    cols  32-91   name                person's full name or company's legal name
    cols  92-94   regime code         SAT catalogue c_RegimenFiscal (601, 605, 612, 626...)
    col   95      status code         A active, S suspended, C cancelled
    cols  96-103  status since        YYYYMMDD
    cols 104-150  obligations         obligation codes separated by ';'

This module only reads and writes that layout; ``_mapping`` turns it into shared records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bus import ValidationError

__all__ = ["LINE_WIDTH", "STATUS_CODES", "LegacyTaxpayer", "format_line", "parse_export", "parse_line"]

LINE_WIDTH = 150
STATUS_CODES = {"A": "active", "S": "suspended", "C": "cancelled"}

# (name, first column, last column), 1-based and inclusive as in the export's documentation.
_LAYOUT = (
    ("rfc", 1, 13),
    ("curp", 14, 31),
    ("name", 32, 91),
    ("regime_code", 92, 94),
    ("status_code", 95, 95),
    ("status_since", 96, 103),
    ("obligations", 104, 150),
)


@dataclass(frozen=True)
class LegacyTaxpayer:
    """One line of the register, with its fields as the legacy system holds them."""

    rfc: str
    curp: str
    name: str
    regime_code: str
    status_code: str
    status_since: dt.date
    obligations: tuple[str, ...]


def _error(line_no: int, field: str, cols: tuple[int, int], rule: str, value: str, why: str) -> ValidationError:
    return ValidationError(
        f"register line {line_no}, {field} (columns {cols[0]}-{cols[1]}): {why}; found {value!r}",
        record="sat.padron",
        path=f"/{line_no}/{field}",
        rule=rule,
        value=value,
    )


def parse_line(line: str, *, line_no: int = 1) -> LegacyTaxpayer:
    """Read one register line.

    Args:
        line: the line, with or without its newline.
        line_no: its number in the file, for error messages.

    Raises:
        ValidationError: wrong width, a malformed code or date (names the columns and the value).
    """
    line = line.rstrip("\r\n")
    if len(line) != LINE_WIDTH:
        raise ValidationError(
            f"register line {line_no} has {len(line)} characters, expected {LINE_WIDTH}",
            record="sat.padron",
            path=f"/{line_no}",
            rule="padron.width",
            value=len(line),
        )
    raw = {name: line[first - 1 : last] for name, first, last in _LAYOUT}
    cols = {name: (first, last) for name, first, last in _LAYOUT}
    rfc = raw["rfc"].strip()
    if len(rfc) not in (12, 13):
        raise _error(line_no, "rfc", cols["rfc"], "padron.rfc", rfc, "an RFC has 12 or 13 characters")
    if not raw["regime_code"].isdigit():
        raise _error(
            line_no,
            "regime_code",
            cols["regime_code"],
            "padron.regime",
            raw["regime_code"],
            "the regime code is three digits",
        )
    if raw["status_code"] not in STATUS_CODES:
        raise _error(
            line_no,
            "status_code",
            cols["status_code"],
            "padron.status",
            raw["status_code"],
            f"the status code is one of {', '.join(STATUS_CODES)}",
        )
    try:
        since = dt.datetime.strptime(raw["status_since"], "%Y%m%d").date()
    except ValueError:
        raise _error(
            line_no,
            "status_since",
            cols["status_since"],
            "padron.date",
            raw["status_since"],
            "the date is YYYYMMDD",
        ) from None
    obligations = tuple(code for code in raw["obligations"].strip().split(";") if code)
    return LegacyTaxpayer(
        rfc=rfc,
        curp=raw["curp"].strip(),
        name=raw["name"].strip(),
        regime_code=raw["regime_code"],
        status_code=raw["status_code"],
        status_since=since,
        obligations=obligations,
    )


def format_line(taxpayer: LegacyTaxpayer) -> str:
    """Write one register line (without newline).

    Raises:
        ValidationError: a field does not fit its columns.
    """
    values = {
        "rfc": taxpayer.rfc,
        "curp": taxpayer.curp,
        "name": taxpayer.name,
        "regime_code": taxpayer.regime_code,
        "status_code": taxpayer.status_code,
        "status_since": taxpayer.status_since.strftime("%Y%m%d"),
        "obligations": ";".join(taxpayer.obligations),
    }
    parts = []
    for name, first, last in _LAYOUT:
        width = last - first + 1
        if len(values[name]) > width:
            raise _error(0, name, (first, last), "padron.overflow", values[name], f"at most {width} characters")
        parts.append(values[name].ljust(width))
    return "".join(parts)


def parse_export(text: str) -> list[LegacyTaxpayer]:
    """Read a whole export; blank lines are allowed, any bad line fails the whole file.

    Raises:
        ValidationError: the first bad line, with every problem found in ``problems``.
    """
    taxpayers, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            taxpayers.append(parse_line(line, line_no=number))
        except ValidationError as exc:
            problems.append(exc)
    if problems:
        first = problems[0]
        raise ValidationError(
            f"{len(problems)} bad line(s) in the register export; first: {first}",
            record="sat.padron",
            path=first.path,
            rule=first.rule,
            value=first.value,
            problems=problems,
        )
    return taxpayers
