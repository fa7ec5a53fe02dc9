"""Money and JSON: ``Decimal`` from the request bytes to the store and back, never ``float``.

Requests are parsed with ``parse_float=Decimal`` (see ``api.resolver``); responses are written by
``dumps`` which emits Decimals as JSON numbers (``119.00``), not strings and not floats.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

import simplejson
from pydantic import BaseModel, BeforeValidator, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")
# Decimal() also reads "١٢" (Arabic-Indic digits), " 5.00", "1_000", "1e2" and "+5": a number sent as a
# string must be written the one plain way, as the journal's canonical amount is (domain/chain/canonical.py).
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # also the documented pattern (_number_schema)


def to_decimal(value: Any) -> Decimal:
    """Accept a JSON number (already a Decimal/int thanks to parse_float) or a numeric string."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a number")
    if isinstance(value, float):
        # Only reachable from Python callers; a request body never yields floats.
        value = repr(value)
    elif isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value):
        raise ValueError("must be a number (a string must be a plain decimal like \"119.00\")")
    try:
        d = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError("must be a number") from None
    if not d.is_finite():
        raise ValueError("must be a finite number")
    return d


def parse_money(value: Any) -> Decimal:
    d = to_decimal(value)
    exponent = d.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("must have at most 2 decimals")
    if abs(d) > MAX_AMOUNT:
        raise ValueError("must be at most 999999999999.99")
    return d.quantize(CENT)


def parse_positive_money(value: Any) -> Decimal:
    d = parse_money(value)
    if d <= 0:
        raise ValueError("must be greater than 0")
    return d


def parse_rate(value: Any) -> Decimal:
    d = to_decimal(value)
    if d < 0 or d > 100:
        raise ValueError("must be between 0 and 100")
    exponent = d.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("must have at most 2 decimals")
    return d


def _number_schema(**bounds: float) -> WithJsonSchema:
    # What the OpenAPI document says a request accepts: a JSON number within the bounds, or a plain
    # decimal string. "At most 2 decimals" is left to the prose: multipleOf 0.01 is inexact on floats.
    return WithJsonSchema({"anyOf": [{"type": "number", **bounds},
                                     {"type": "string", "pattern": f"^{_PLAIN_NUMBER.pattern}$"}]})


_LIMIT = float(MAX_AMOUNT)
Money = Annotated[Decimal, BeforeValidator(parse_money), _number_schema(minimum=-_LIMIT, maximum=_LIMIT)]
PositiveMoney = Annotated[Decimal, BeforeValidator(parse_positive_money),
                          _number_schema(exclusiveMinimum=0, maximum=_LIMIT)]
Rate = Annotated[Decimal, BeforeValidator(parse_rate), _number_schema(minimum=0, maximum=100)]


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# An amount of money in a response model: written with exactly 2 decimals (0.00, 119.00), as
# docs/api-contract.md "Values" promises. Sums keep the exponent of their terms and Decimal(0) has none
# (a trial balance wrote "debit":0), and DynamoDB hands numbers back without trailing zeros, so the
# amount is brought to cents where it is written, not where it is computed. Only money is typed so: FX
# rates, tax rates and quantities are JsonNumber and keep their precision.
MoneyOut = Annotated[Decimal, PlainSerializer(cents), WithJsonSchema({"type": "number"})]


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="python")
    if isinstance(obj, dt.datetime):
        return obj.isoformat()
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(obj: Any) -> str:
    return simplejson.dumps(obj, use_decimal=True, ensure_ascii=False, separators=(",", ":"), default=_default)


def loads(text: str | bytes) -> Any:
    return simplejson.loads(text, use_decimal=True)
