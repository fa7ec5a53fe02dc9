"""limit/offset pagination as in the seed (default 50, max 500)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

Limit = Annotated[int, Query(ge=1, le=500, description="Page size (default 50, max 500)")]
Offset = Annotated[int, Query(ge=0, description="Number of items to skip")]
DEFAULT_LIMIT = 50
