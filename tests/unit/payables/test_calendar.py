"""TARGET business days: weekends and the six TARGET holidays are closed, the next open day is taken."""

from __future__ import annotations

import datetime as dt

from ledgerlou.domain.payables import calendar

D = dt.date


def test_given_the_target_holidays_of_2026_then_each_is_closed_and_easter_is_computed() -> None:
    assert calendar.holidays(2026) == {D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 1), D(2026, 12, 25),
                                       D(2026, 12, 26)}
    assert D(2027, 3, 26) in calendar.holidays(2027) and D(2027, 3, 29) in calendar.holidays(2027)  # Easter 28 Mar


def test_given_weekdays_that_are_no_holiday_then_they_are_business_days() -> None:
    assert calendar.is_business_day(D(2026, 12, 4))  # Friday
    assert calendar.is_business_day(D(2026, 12, 24))  # Heiligabend: TARGET is open
    assert calendar.is_business_day(D(2026, 10, 3))  is False  # a Saturday (Tag der Deutschen Einheit)
    assert calendar.is_business_day(D(2026, 10, 5))  # German holidays other than TARGET's do not close it


def test_given_a_weekend_or_holiday_then_the_next_business_day_is_taken() -> None:
    assert calendar.next_business_day(D(2026, 12, 5)) == D(2026, 12, 7)  # Saturday → Monday
    assert calendar.next_business_day(D(2026, 12, 25)) == D(2026, 12, 28)  # Fri 25, Sat 26, Sun 27
    assert calendar.next_business_day(D(2026, 4, 3)) == D(2026, 4, 7)  # Good Friday → after Easter Monday
    assert calendar.next_business_day(D(2026, 12, 31)) == D(2026, 12, 31)
    assert calendar.next_business_day(D(2027, 1, 1)) == D(2027, 1, 4)  # New Year (Fri) → Monday
    assert calendar.next_business_day(D(2026, 5, 1)) == D(2026, 5, 4)
