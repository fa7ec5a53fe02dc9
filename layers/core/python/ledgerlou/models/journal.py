"""Request models of the journal group that the domain reads (bookings, opening balances, reversals)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StringConstraints, field_validator, model_validator

from ledgerlou.models.common import AccountNumber, IsoDate, StrictModel, Text, examples, refused_character
from ledgerlou.money import PositiveMoney, to_decimal

Description = Annotated[str, Text(500, min_length=1, strip=True)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class BookingLine(StrictModel):
    account_debit: AccountNumber
    account_credit: AccountNumber
    amount: PositiveMoney = Field(description="Gross amount when tax_code is set (DATEV convention)")
    tax_code: Annotated[str, Text(20)] | None = None
    description: Annotated[str, Text(500)] | None = None

    @model_validator(mode="after")
    def _different_accounts(self) -> BookingLine:
        if self.account_debit == self.account_credit:
            raise ValueError("account_debit and account_credit must differ")
        return self


class Fx(StrictModel):
    currency: Currency = Field(description="Currency of the lines' amounts, e.g. USD")
    rate: Decimal = Field(description="Units of the foreign currency per 1 unit of the base currency (ECB quote)")

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Decimal:
        d = to_decimal(value)
        if d <= 0 or d > Decimal("1000000"):
            raise ValueError("must be greater than 0")
        exp = d.normalize().as_tuple().exponent
        if isinstance(exp, int) and exp < -10:
            raise ValueError("must have at most 10 decimals")
        return d


class BookingRequest(StrictModel):
    model_config = examples(
        {"booking_date": "2026-01-15", "description": "Büromaterial Rechnung 4711", "external_reference": "RE-4711",
         "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": "119.00", "tax_code": "VSt19"}]})

    booking_date: IsoDate
    description: Description
    lines: list[BookingLine] = Field(min_length=1, max_length=500)
    document_id: str | None = Field(default=None, pattern=r"^[0-9a-fA-F-]{36}$")
    external_reference: Annotated[str, Text(100)] | None = None
    custom_metadata: dict[str, Any] | None = None
    skip_duplicate_check: StrictBool = False
    adjustment_period: int | None = Field(
        default=None, ge=13, le=16,
        description="13–16: a year-end adjustment (Abschlussbuchung) of the fiscal year of booking_date, "
                    "which must then be the fiscal year's last day")
    fx: Fx | None = None

    @field_validator("custom_metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(str(value)) > 4000:
            raise ValueError("must be at most 4000 characters")
        if value is not None and (issue := _metadata_text_issue(value)):
            raise ValueError(issue)  # its keys and texts are free text too, shown wherever the booking is
        return value


def _metadata_text_issue(value: Any, where: str = "") -> str | None:
    """The first key or text of ``custom_metadata`` with a refused character, as ``<where>: <issue>``."""
    if isinstance(value, str):
        issue = refused_character(value)
        return f"{where}: {issue}" if issue else None
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if issue := refused_character(key):
                return f"key {where + '.' if where else ''}{key!r}: {issue}"
            children.append((f"{where}.{key}" if where else key, item))
    elif isinstance(value, list):
        children = [(f"{where}[{i}]", item) for i, item in enumerate(value)]
    for child_where, item in children:
        if issue := _metadata_text_issue(item, child_where):
            return issue
    return None


class OpeningBalance(StrictModel):
    account: AccountNumber
    amount: PositiveMoney
    side: Literal["debit", "credit"]


class OpeningBalancesRequest(StrictModel):
    model_config = examples(
        {"booking_date": "2026-01-01", "description": "Eröffnungsbilanz 2026",
         "balances": [{"account": "1200", "amount": "12500.00", "side": "debit"},
                      {"account": "0800", "amount": "12500.00", "side": "credit"}]})

    booking_date: IsoDate
    balances: list[OpeningBalance] = Field(min_length=1, max_length=500)
    description: Annotated[str, Text(500)] | None = None


class ReverseRequest(StrictModel):
    model_config = examples(
        {"intent_id": "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c", "reason": "Falscher Betrag",
         "posting_mode": "original_date"})

    intent_id: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")
    reason: Annotated[str, Text(500, min_length=1, strip=True)]
    posting_mode: Literal["original_date", "current_date"] = "original_date"
