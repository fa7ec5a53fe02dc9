"""Date ranges as the domain checks them: every range query goes through ``check_range``, so a reversed
range and one wider than an endpoint can answer within Lambda's limits (6 MB, 29 s) are a 400 naming the
parameter and the limit (README "API conventions"). Months are counted as integers, never compared as
strings."""

from __future__ import annotations

import datetime as dt

from ledgerlou.errors import InvalidInput, RangeTooLarge

# Reports are computed per month; ten years (the GoBD/§ 147 AO retention period) is the longest span
# anyone needs in one answer, and monthly-revenue-expenses then has at most 120 rows.
MAX_REPORT_MONTHS = 120


def month_index(day: dt.date) -> int:
    """Months since year 0 as an integer: months are counted and compared as numbers, never as "YYYY-MM"
    strings (lexically "99989-12" > "9999-12", which once let a month loop run to the year 99989)."""
    return day.year * 12 + day.month - 1


def months_spanned(start: dt.date, end: dt.date) -> int:
    """How many calendar months start..end touches (2026-01-15..2026-02-01 touches 2)."""
    return month_index(end) - month_index(start) + 1


def check_range(start: dt.date | None, end: dt.date | None, *, max_months: int | None = None,
                start_field: str = "startDate", end_field: str = "endDate", what: str = "This endpoint") -> None:
    """Refuse a reversed range (400 INVALID_INPUT) and one touching more than ``max_months`` months (400
    RANGE_TOO_LARGE, the limit in the message and the details). Dates are compared as dates."""
    if start is not None and end is not None and start > end:
        raise InvalidInput.field(start_field, f"must not be after {end_field}")
    if max_months is None or start is None or end is None:
        return
    spanned = months_spanned(start, end)
    if spanned > max_months:
        raise RangeTooLarge(
            f"{what} covers at most {max_months} months per request; {start_field}..{end_field} "
            f"({start.isoformat()}..{end.isoformat()}) spans {spanned}. Split the range.",
            details=[{"field": end_field, "issue": f"at most {max_months} months from {start_field}"}])
