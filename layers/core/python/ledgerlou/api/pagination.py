"""limit/offset pagination as in the seed (default 50, max 500)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ledgerlou.api.resolver import json_response

Limit = Annotated[int, Query(ge=1, le=500, description="Page size (default 50, max 500)")]
Offset = Annotated[int, Query(ge=0, description="Number of items to skip")]
DEFAULT_LIMIT = 50

# Lists that answer a JSON array (the partner and invoice lists) give the number of matches in a header.
TOTAL_COUNT = "X-Total-Count"


def counted_page(rows: list[Any], total: int) -> Response[str]:
    """One page of a list as a JSON array, the number of all matches in ``X-Total-Count``."""
    return json_response(rows, headers={TOTAL_COUNT: str(total)})


def with_total_count(out: dict[int, Any]) -> dict[int, Any]:
    """``responses=`` of a ``counted_page`` route: its 200 documents the X-Total-Count header."""
    out[200] = {**out[200], "headers": {TOTAL_COUNT: {"description": "Number of matches (for limit/offset paging)",
                                                      "schema": {"type": "integer", "minimum": 0}}}}
    return out
