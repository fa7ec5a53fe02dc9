"""Date query parameters shared by the groups that filter by date (journal, bank, reports), and what the
OpenAPI document says about each kind of range; the check itself is ``ledgerlou.domain.ranges``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from ledgerlou.domain.ranges import MAX_REPORT_MONTHS
from ledgerlou.models.common import IsoDate

DateQuery = Annotated[IsoDate | None, Query(description="YYYY-MM-DD")]
RequiredDate = Annotated[IsoDate, Query(description="YYYY-MM-DD")]


def iso(day: dt.date | None) -> str | None:
    """A date filter as the store compares it (``YYYY-MM-DD``), or None when not given."""
    return day.isoformat() if day else None


# What the OpenAPI document says about each kind of range (one wording per kind, so the routes agree).
REPORT_RANGE_DOC = (f"startDate/endDate are whole months (the first and the last day of a month; default: the "
                    f"current calendar year) and span at most {MAX_REPORT_MONTHS} months (10 years); a wider "
                    "range is 400 RANGE_TOO_LARGE naming the limit, a reversed one 400 INVALID_INPUT.")
LIST_RANGE_DOC = ("The date range (inclusive) is not limited in span: the answer is one page (limit at most 500) "
                  "and the reads follow the months that hold entries, not the months named. A reversed range "
                  "is 400 INVALID_INPUT.")
