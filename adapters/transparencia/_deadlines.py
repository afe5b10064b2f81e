"""The legal deadline of an information request, counted in business days.

The General Transparency Law (LGTAIP, 2015, art. 132) gives an agency at most 20 business days,
counted from the day after the request is filed, to answer; the transparency committee may extend
that once by up to 10 more. Business days are Monday to Friday except the mandatory rest days of the
Federal Labour Law (LFT, art. 74). Both terms are parameters, since the law has been amended before.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

__all__ = [
    "ANSWER_TERM_DAYS",
    "EXTENSION_DAYS",
    "add_business_days",
    "business_days_between",
    "is_business_day",
    "legal_deadline",
    "rest_days",
]

ANSWER_TERM_DAYS = 20
EXTENSION_DAYS = 10


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


@cache
def rest_days(year: int) -> frozenset[dt.date]:
    """The LFT art. 74 rest days of ``year`` that can fall on a weekday."""
    days = {
        dt.date(year, 1, 1),
        _nth_weekday(year, 2, 0, 1),  # first Monday of February (Constitution Day)
        _nth_weekday(year, 3, 0, 3),  # third Monday of March (Benito Juárez)
        dt.date(year, 5, 1),
        dt.date(year, 9, 16),
        _nth_weekday(year, 11, 0, 3),  # third Monday of November (Revolution Day)
        dt.date(year, 12, 25),
    }
    if (year - 2024) % 6 == 0:
        days.add(dt.date(year, 10, 1))  # transmission of the federal executive, every six years
    return frozenset(days)


def is_business_day(day: dt.date) -> bool:
    """Monday to Friday and not an LFT rest day."""
    return day.weekday() < 5 and day not in rest_days(day.year)


def add_business_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th business day after ``start`` (``start`` itself never counts)."""
    if days < 0:
        raise ValueError("days must be zero or more")
    day = start
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_business_day(day):
            counted += 1
    return day


def legal_deadline(
    filed_on: dt.date,
    *,
    extended: bool = False,
    term_days: int = ANSWER_TERM_DAYS,
    extension_days: int = EXTENSION_DAYS,
) -> dt.date:
    """The last day on which the agency may answer a request filed on ``filed_on``.

    A request filed on a non-business day counts as filed on the next business day.

    Args:
        filed_on: the filing date (the citizen's local date).
        extended: the committee granted the extension.
        term_days: the answer term in business days.
        extension_days: the extension in business days.
    """
    received = filed_on if is_business_day(filed_on) else add_business_days(filed_on, 1)
    return add_business_days(received, term_days + (extension_days if extended else 0))


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Business days after ``start`` up to and including ``end`` (negative when ``end`` is earlier)."""
    if end < start:
        return -business_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_business_day(start + dt.timedelta(days=n)))
