"""Shared request/response building blocks."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
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

# ------------------------------------------------------------------------------------- free text
# What no text of the books may hold (README "API conventions", issue 14 item 7):
# - C0 controls but TAB, LF and CR, and DEL (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+007F): invisible,
#   NUL ends a string in C tools and PDF writers, ESC drives terminals, FS/GS/RS split records in exports.
# - C1 controls (U+0080-U+009F): no person types them; they are the mark of text decoded with the wrong code
#   page (Windows-1252 read as Latin-1), and Windows-1252, DATEV's encoding, cannot write them.
# - bidirectional embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069): they make a text
#   display in another order than it is stored ("Trojan Source", CVE-2021-42574; "Rechnung<U+202E>fdp.exe"
#   shows as "Rechnungexe.pdf"). An auditor must read what is booked.
# - lone surrogates (U+D800-U+DFFF, "\ud800" in JSON): not Unicode text, UTF-8 cannot store them.
# Allowed: the implicit marks LRM U+200E, RLM U+200F and ALM U+061C. They only set the direction of neutral
# characters next to them and reorder no run of letters or digits as the overrides do, and Arabic or Hebrew
# names and addresses copied from documents carry them. Refused text is refused, never cleaned: what a
# client sent is booked as sent or not at all. Reads do not validate: what is booked stays as it is.
_REFUSED_RANGES = [(0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F), (0x202A, 0x202E), (0x2066, 0x2069)]
_REFUSED_CHARS = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _REFUSED_RANGES) + "\ud800-\udfff]")
# The same rule in the OpenAPI document, as an ECMA-262 pattern. Lone surrogates cannot be said there: without
# the u flag a class of them would also refuse every emoji (a pair of surrogates in UTF-16).
TEXT_PATTERN = "^[^" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in _REFUSED_RANGES) + "]*$"


def refused_character(value: str) -> str | None:
    """The issue of a text holding a refused character (the first one, by code point and position), else None."""
    found = _REFUSED_CHARS.search(value)
    if found is None:
        return None
    return (f"must not contain U+{ord(found.group()):04X} (found at position {found.start()}): control, "
            "bidirectional formatting and surrogate characters are refused in text")


def _plain_text(value: Any) -> Any:
    # Before the string's own validation: a refused character is refused, never stripped as whitespace first.
    if isinstance(value, str) and (issue := refused_character(value)):
        raise ValueError(issue)
    return value


@dataclass(frozen=True)
class Text:
    """The one type of every free-text field of a request (names, labels, descriptions, references, search
    terms): ``Annotated[str, Text(500)]``, with the field's length limits, optionally stripped of surrounding
    whitespace. Refuses the characters above with 400 INVALID_INPUT naming the field.

    Metadata of ``Annotated`` (not a subclass of str): pydantic keeps its own messages for the lengths, and
    tests/unit/test_text_fields.py finds every string field that lacks it."""

    max_length: int
    min_length: int | None = None
    strip: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        text = core_schema.str_schema(max_length=self.max_length, min_length=self.min_length,
                                      strip_whitespace=self.strip or None)
        return core_schema.no_info_before_validator_function(_plain_text, text)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out["pattern"] = TEXT_PATTERN
        return out


ShortText = Annotated[str, Text(200, min_length=1, strip=True)]
LongText = Annotated[str, Text(2000)]
# A search term or filter text of a query string: ``Annotated[SearchTerm | None, Query()]`` in a route.
SearchTerm = Annotated[str, Text(100)]

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
