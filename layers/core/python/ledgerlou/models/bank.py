"""Request models of the bank group that the domain reads (the rows of a JSON transaction import)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from ledgerlou.models.common import IsoDate, StrictModel, Text, examples
from ledgerlou.money import Money

Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Reference = Annotated[str, Text(140, strip=True)]
MAX_JSON_ROWS = 1000

_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")
_BIC_SHAPE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")


# ------------------------------------------------------------------------------------- transactions
class BankTransactionIn(StrictModel):
    """One row of a JSON import. Only booking_date and amount are required."""

    booking_date: IsoDate
    value_date: IsoDate | None = None
    amount: Money = Field(description="Signed: money in is positive")
    currency: Currency | None = Field(default=None, description="Default: the bank account's currency")
    counterparty_name: Annotated[str, Text(200)] | None = None
    counterparty_iban: Annotated[str, Text(42)] | None = None
    counterparty_bic: Annotated[str, Text(15)] | None = None
    purpose: Annotated[str, Text(2000)] | None = None
    end_to_end_id: Reference | None = None
    mandate_id: Reference | None = None
    creditor_id: Reference | None = None
    bank_reference: Reference | None = Field(default=None, description="The bank's own reference (duplicate key)")

    @field_validator("counterparty_iban")
    @classmethod
    def _iban_shape(cls, value: str | None) -> str | None:
        # Shape only: statements carry what the bank sent (anonymised test IBANs included); the
        # checksum is checked where an IBAN is entered by a person (bank accounts, vendors).
        if value is None or not value.strip():
            return None
        compact = re.sub(r"\s+", "", value).upper()
        if not _IBAN_SHAPE.match(compact):
            raise ValueError("is not shaped like an IBAN")
        return compact

    @field_validator("counterparty_bic")
    @classmethod
    def _bic_shape(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        compact = value.strip().upper()
        if not _BIC_SHAPE.match(compact):
            raise ValueError("is not shaped like a BIC")
        return compact


class BankTransactionsImport(StrictModel):
    model_config = examples({"bank_account_id": "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c", "transactions": [
        {"booking_date": "2026-01-15", "amount": "-119.00", "purpose": "RE-4711",
         "counterparty_name": "Bürobedarf GmbH", "counterparty_iban": "DE02120300000000202051"}]})

    bank_account_id: Uuid
    transactions: list[Any] = Field(
        max_length=MAX_JSON_ROWS,
        description=f"Up to {MAX_JSON_ROWS} rows shaped like BankTransactionIn. Each row is validated on its own: "
                    "a bad row is reported in `errors` and never stops the good ones.")
