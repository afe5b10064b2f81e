"""The legal deadline of an information request, in business days (LGTAIP art. 132, LFT art. 74)."""

from __future__ import annotations

import datetime as dt

from adapters.transparencia._deadlines import (
    add_business_days,
    business_days_between,
    is_business_day,
    legal_deadline,
    rest_days,
)


def test_rest_days_follow_the_federal_labour_law():
    days = rest_days(2026)
    assert dt.date(2026, 2, 2) in days  # first Monday of February
    assert dt.date(2026, 3, 16) in days  # third Monday of March
    assert dt.date(2026, 11, 16) in days  # third Monday of November
    assert dt.date(2026, 9, 16) in days and dt.date(2026, 12, 25) in days
    assert dt.date(2030, 10, 1) in rest_days(2030) and dt.date(2026, 10, 1) not in days


def test_weekends_and_rest_days_are_not_business_days():
    assert not is_business_day(dt.date(2026, 11, 28))  # Saturday
    assert not is_business_day(dt.date(2026, 11, 16))  # Revolution Day, a Monday
    assert is_business_day(dt.date(2026, 11, 17))


def test_twenty_business_days_skip_weekends_and_holidays():
    # Filed Monday 2 Nov 2026: 20 business days later, skipping 4 weekends and 16 Nov, is 1 Dec.
    assert legal_deadline(dt.date(2026, 11, 2)) == dt.date(2026, 12, 1)


def test_the_extension_adds_ten_business_days():
    assert legal_deadline(dt.date(2026, 11, 2), extended=True) == dt.date(2026, 12, 15)


def test_a_request_filed_on_a_saturday_counts_from_the_next_business_day():
    assert legal_deadline(dt.date(2026, 10, 31)) == legal_deadline(dt.date(2026, 11, 2))


def test_counting_business_days_between_two_dates():
    assert add_business_days(dt.date(2026, 11, 27), 1) == dt.date(2026, 11, 30)
    assert business_days_between(dt.date(2026, 11, 2), dt.date(2026, 12, 1)) == 20
    assert business_days_between(dt.date(2026, 12, 1), dt.date(2026, 11, 2)) == -20
