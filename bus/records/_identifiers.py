"""Validators for the identifiers every Mexican agency uses: CURP and RFC.

Each rule has an id (``curp.check_digit``) and each failure a sentence naming the value and what is
wrong with it, so a person can fix the record without reading this code.

References: RENAPO's CURP construction rules (Instructivo Normativo para la Asignación de la CURP) and
SAT's RFC homoclave algorithm, as summarised in /work/shared/notes/standards.md.
"""

from __future__ import annotations

import datetime as dt
import operator
import re

from bus._errors import ValidationError

__all__ = [
    "CURP_STATES",
    "GENERIC_RFCS",
    "curp_check_digit",
    "curp_problems",
    "rfc_check_digit",
    "rfc_problems",
    "validate_curp",
    "validate_rfc",
]

# Two-letter federal-entity codes used in position 12-13 of a CURP; NE is "nacido en el extranjero".
CURP_STATES = frozenset(
    {
        "AS", "BC", "BS", "CC", "CL", "CM", "CS", "CH", "DF", "DG", "GT", "GR", "HG", "JC", "MC", "MN", "MS",
        "NT", "NL", "OC", "PL", "QT", "QR", "SP", "SL", "SR", "TC", "TS", "TL", "VZ", "YN", "ZS", "NE",
    }
)  # fmt: skip

# The RFCs SAT assigns to the general public and to foreigners: valid although their check digit is not.
GENERIC_RFCS = frozenset({"XAXX010101000", "XEXX010101000"})

_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
_CURP_VALUES = {c: i for i, c in enumerate(_CURP_ALPHABET)}
_RFC_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"
_RFC_VALUES = {c: i for i, c in enumerate(_RFC_ALPHABET)}

_CONSONANT = "[B-DF-HJ-NP-TV-ZÑ]"
# One pattern per part, checked in order, so the error can say which part is wrong.
_CURP_PARTS: tuple[tuple[slice, re.Pattern[str], str], ...] = (
    (slice(0, 4), re.compile(r"[A-ZÑ][AEIOUX][A-ZÑ]{2}"), "4 letters from the names (the 2nd a vowel or X)"),
    (slice(4, 10), re.compile(r"[0-9]{6}"), "the birth date as 6 digits YYMMDD"),
    (slice(10, 11), re.compile(r"[HMX]"), "the sex: H, M or X"),
    (slice(11, 13), re.compile(r"[A-Z]{2}"), "a 2-letter state code"),
    (slice(13, 16), re.compile(f"{_CONSONANT}{{3}}"), "3 internal consonants of the names"),
    (slice(16, 17), re.compile(r"[0-9A-Z]"), "a differentiator: a digit (born before 2000) or a letter"),
    (slice(17, 18), re.compile(r"[0-9]"), "the check digit"),
)
# The parts have fixed lengths, so a CURP matches them all exactly when it matches their concatenation:
# one regular expression accepts the valid ones, the parts say what is wrong with the others.
_CURP = re.compile("".join(pattern.pattern for _, pattern, _ in _CURP_PARTS))
_CURP_WEIGHTS = range(18, 1, -1)  # the weight of each of the first 17 characters in the check digit
_RFC_PERSON = re.compile(r"[A-ZÑ&]{4}[0-9]{6}[A-Z0-9]{2}[0-9A]")
_RFC_COMPANY = re.compile(r"[A-ZÑ&]{3}[0-9]{6}[A-Z0-9]{2}[0-9A]")


def curp_check_digit(first17: str) -> str:
    """Compute a CURP's check digit (its 18th character) from its first 17 characters.

    Args:
        first17: the CURP's first 17 characters, uppercase.

    Returns:
        The check digit, one character ``"0"``..``"9"``.

    Raises:
        ValueError: ``first17`` is not 17 characters of the CURP alphabet.
    """
    if len(first17) != 17 or any(c not in _CURP_VALUES for c in first17):
        raise ValueError(
            f"a CURP check digit needs 17 characters of {_CURP_ALPHABET!r}, got {len(first17)} (or others)"
        )
    return _curp_digit(first17)


def _curp_digit(first17: str) -> str:
    values = map(_CURP_VALUES.__getitem__, first17)
    total = sum(map(operator.mul, values, _CURP_WEIGHTS))  # the weighted sum, without a frame per character
    return str((10 - total % 10) % 10)


def rfc_check_digit(base: str) -> str:
    """Compute an RFC's check character (homoclave digit) from the characters before it.

    Args:
        base: the RFC without its last character: 12 characters for a person, 11 for a company.

    Returns:
        The check character, ``"0"``..``"9"`` or ``"A"``.

    Raises:
        ValueError: ``base`` is not 11 or 12 characters of the RFC alphabet.
    """
    if len(base) not in (11, 12) or any(c not in _RFC_VALUES for c in base):
        raise ValueError(
            f"an RFC check digit needs 11 or 12 characters of {_RFC_ALPHABET!r}, got {len(base)} (or others)"
        )
    padded = base.rjust(12)  # a company's RFC is one letter shorter: pad with a space, as SAT does
    total = sum(_RFC_VALUES[c] * (13 - i) for i, c in enumerate(padded))
    digit = 11 - total % 11
    return "0" if digit == 11 else "A" if digit == 10 else str(digit)


def curp_problems(value: object, *, path: str = "", record: str | None = None) -> list[ValidationError]:
    """Every reason ``value`` is not a valid CURP (an empty list when it is one).

    Args:
        value: the candidate CURP.
        path: JSON pointer of the field holding it, for the errors.
        record: the record's full name, for the errors.

    Returns:
        One ``ValidationError`` per broken rule; rules after a format error are not checked.
    """

    def problem(rule: str, message: str) -> list[ValidationError]:
        # Messages never quote the CURP, nor a part of it (a birth date, a state): they land in logs,
        # dead letters and answers to whoever sent the record. The value stays on the error object.
        return [ValidationError(message, record=record, path=path, rule=rule, value=value)]

    if not isinstance(value, str):
        return problem("curp.type", f"CURP must be a string, got {type(value).__name__}")
    if not _CURP.fullmatch(value):
        return problem(*_curp_format_problem(value))
    found: list[ValidationError] = []
    century = 1900 if value[16].isdigit() else 2000
    if _date_or_none(century + int(value[4:6]), int(value[6:8]), int(value[8:10])) is None:
        found += problem("curp.birth_date", "CURP: characters 5-10 are not a birth date (YYMMDD)")
    if value[11:13] not in CURP_STATES:
        found += problem("curp.state", "CURP: characters 12-13 are not a state code (or NE for born abroad)")
    expected = _curp_digit(value[:17])  # the format check above proved the alphabet
    if value[17] != expected:
        found += problem("curp.check_digit", f"CURP: check digit is {value[17]}, expected {expected}")
    return found


def _curp_format_problem(value: str) -> tuple[str, str]:
    """The rule and message of the first format rule a CURP breaks (it does not match ``_CURP``)."""
    if len(value) != 18:
        return "curp.length", f"CURP has {len(value)} characters, expected 18"
    if value != value.upper():
        return "curp.format", "CURP must be uppercase"
    for where, pattern, meaning in _CURP_PARTS:
        if not pattern.fullmatch(value[where]):
            start, stop = where.start + 1, where.stop
            span = f"character {stop}" if start == stop else f"characters {start}-{stop}"
            return "curp.format", f"CURP: {span} must be {meaning}"
    raise AssertionError("a value matches every part of a CURP but not the whole")


def rfc_problems(
    value: object, *, path: str = "", record: str | None = None, strict: bool = True
) -> list[ValidationError]:
    """Every reason ``value`` is not a valid RFC (an empty list when it is one).

    Args:
        value: the candidate RFC: 13 characters for a person, 12 for a company.
        path: JSON pointer of the field holding it, for the errors.
        record: the record's full name, for the errors.
        strict: also check the check digit. About 1.5% of RFCs SAT really issued fail it, so a field
            that must accept every issued RFC validates with ``strict=False`` (format and date only).

    Returns:
        One ``ValidationError`` per broken rule. The generic RFCs for the general public
        (``XAXX010101000``) and foreigners (``XEXX010101000``) are always valid.
    """

    def problem(rule: str, message: str) -> list[ValidationError]:
        return [ValidationError(message, record=record, path=path, rule=rule, value=value)]

    if not isinstance(value, str):
        return problem("rfc.type", f"RFC must be a string, got {type(value).__name__}")
    if value in GENERIC_RFCS:
        return []
    if len(value) not in (12, 13):
        return problem("rfc.length", f"RFC has {len(value)} characters, expected 13 (person) or 12 (company)")
    if value != value.upper():
        return problem("rfc.format", "RFC must be uppercase")
    person = len(value) == 13
    pattern, kind = (_RFC_PERSON, "a person's") if person else (_RFC_COMPANY, "a company's")
    if not pattern.fullmatch(value):
        letters = 4 if person else 3
        return problem(
            "rfc.format",
            f"RFC is not {kind} RFC: expected {letters} letters, a date YYMMDD, "
            "2 homonymy characters and a check digit (0-9 or A)",
        )
    found: list[ValidationError] = []
    date = value[-9:-3]
    year, month, day = int(date[:2]), int(date[2:4]), int(date[4:])
    if _date_or_none(1900 + year, month, day) is None and _date_or_none(2000 + year, month, day) is None:
        found += problem("rfc.date", "RFC: the date part (the 6 characters before the last 3) is not a date (YYMMDD)")
    if strict:
        expected = rfc_check_digit(value[:-1])
        if value[-1] != expected:
            found += problem("rfc.check_digit", f"RFC: check digit is {value[-1]}, expected {expected}")
    return found


def validate_curp(value: object, *, path: str = "", record: str | None = None) -> str:
    """Check that ``value`` is a valid CURP.

    Args:
        value: the candidate CURP.
        path: JSON pointer of the field holding it, named in the error.
        record: the record's full name, named in the error.

    Returns:
        The CURP, unchanged.

    Raises:
        ValidationError: the first broken rule, e.g. "CURP 'GODE561231HDFRRN04': check digit is 4,
            expected 9", with every broken rule in ``.problems``.
    """
    return _raise_first(value, curp_problems(value, path=path, record=record))


def validate_rfc(value: object, *, path: str = "", record: str | None = None, strict: bool = True) -> str:
    """Check that ``value`` is a valid RFC (see :func:`rfc_problems` for ``strict``).

    Args:
        value: the candidate RFC.
        path: JSON pointer of the field holding it, named in the error.
        record: the record's full name, named in the error.
        strict: also check the check digit.

    Returns:
        The RFC, unchanged.

    Raises:
        ValidationError: the first broken rule, with every broken rule in ``.problems``.
    """
    return _raise_first(value, rfc_problems(value, path=path, record=record, strict=strict))


def _raise_first(value: object, problems: list[ValidationError]) -> str:
    if not problems:
        return value  # type: ignore[return-value]  # the problem lists prove it is a str
    first = problems[0]
    where = f" at {first.path}" if first.path else ""
    raise ValidationError(
        f"{first.message}{where} [{first.rule}]",
        record=first.record,
        path=first.path,
        rule=first.rule,
        value=value,
        problems=problems,
    )


def _date_or_none(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
