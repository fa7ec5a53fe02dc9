"""Date query parameters shared by the groups that filter by date (journal, bank, reports)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from ledgerlou.models.common import IsoDate

DateQuery = Annotated[IsoDate | None, Query(description="YYYY-MM-DD")]
RequiredDate = Annotated[IsoDate, Query(description="YYYY-MM-DD")]


def iso(day: dt.date | None) -> str | None:
    """A date filter as the store compares it (``YYYY-MM-DD``), or None when not given."""
    return day.isoformat() if day else None
