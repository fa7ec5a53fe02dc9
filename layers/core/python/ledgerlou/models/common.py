"""Shared request/response building blocks."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

AccountNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$"), Field(description="Account number")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=2000)]

# Responses write Decimals as JSON numbers (money.dumps: 119.00, never "119.00"), while pydantic
# documents a Decimal as a string in its serialisation schema; response models say what is sent.
JsonNumber = Annotated[Decimal, WithJsonSchema({"type": "number"})]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ISO_DATE_ISSUE = "must be a date written YYYY-MM-DD"


def _calendar_date_text(value: Any) -> Any:
    # pydantic's lax date also takes Unix timestamps (0, "86400" -> 1970-01-02) and datetimes at
    # midnight ("2026-01-15T00:00:00"); a booking date in an API of record is a calendar date written
    # one way only, so a client's unit mix-up is refused instead of silently booked into 1970.
    if type(value) is dt.date:
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value  # pydantic then checks it is a real day (2026-02-30 is refused)
    raise ValueError(ISO_DATE_ISSUE)


class IsoDate(dt.date):
    """A calendar date given as ``YYYY-MM-DD`` (request bodies and query parameters alike).

    A type rather than ``Annotated`` metadata, because powertools keeps only its own ``Query``/``Path``
    markers of an annotated parameter and would drop a validator. Validates to a plain ``dt.date``."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(_calendar_date_text, core_schema.date_schema())

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


def examples(*bodies: dict[str, Any]) -> ConfigDict:
    """``model_config`` of a request model with example bodies for the OpenAPI document: integrators copy
    them, and the conformance test (tests/e2e) sends them, so they must be valid on the demo tenant."""
    return ConfigDict(json_schema_extra={"examples": list(bodies)})


class StrictModel(BaseModel):
    """Request bodies reject unknown fields: a typo must not be silently ignored in bookkeeping.

    defer_build: a model's validator is built the first time it is used, so a cold start pays only
    for the models of the route it serves."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class OutModel(BaseModel):
    """Response models: documentation for the OpenAPI document (responses are written by json_response)."""

    model_config = ConfigDict(defer_build=True)


class Ok(OutModel):
    ok: bool = True
