"""TARGET2 business days: the days on which a SEPA credit transfer can be executed.

TARGET is closed on Saturdays, Sundays, 1 January, Good Friday, Easter Monday, 1 May, 25 and
26 December (ECB; the same calendar SepaUtilities' ``dateIsTargetDay`` checks). A requested
execution date that is not a business day moves to the next one (the bank would do so anyway; the
run says so in its answer instead of leaving it to a rejection).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from dateutil.easter import easter


@lru_cache(maxsize=64)
def holidays(year: int) -> frozenset[dt.date]:
    sunday = easter(year)
    return frozenset({dt.date(year, 1, 1), sunday - dt.timedelta(days=2), sunday + dt.timedelta(days=1),
                      dt.date(year, 5, 1), dt.date(year, 12, 25), dt.date(year, 12, 26)})


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def next_business_day(day: dt.date) -> dt.date:
    """``day`` itself if TARGET is open then, else the first business day after it."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day
