"""Request/response models of the bank group (bank accounts, bank transactions, statement imports)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from ledgerlou.api.schemas.common import AccountNumber, IsoDate, JsonNumber, ShortText, StrictModel, examples
from ledgerlou.money import Money

Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, max_length=140)]
TxStatus = Literal["unreconciled", "reconciled", "dismissed"]
MAX_JSON_ROWS = 1000

_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")
_BIC_SHAPE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")


# ------------------------------------------------------------------------------------- bank accounts
class BankAccountCreate(StrictModel):
    model_config = examples({"name": "Geschäftskonto", "iban": "DE89370400440532013000"})

    name: ShortText
    iban: str | None = Field(default=None, max_length=42, description="Validated (country, length, checksum)")
    bic: str | None = Field(default=None, max_length=15)
    account_number: str | None = Field(default=None, min_length=1, max_length=40,
                                       description="Required when there is no IBAN")
    currency: Currency | None = Field(default=None, description="Default: the tenant's base currency")
    ledger_account: AccountNumber | None = Field(
        default=None, description="Ledger account (category bank) the account is booked on; default: the first "
                                  "free one of 1200, 1210 … 1290 (SKR03) or 1800, 1810 … 1890 (SKR04)")


class BankAccountUpdate(StrictModel):
    model_config = examples({"name": "Geschäftskonto Sparkasse"})

    name: ShortText


class BankAccountOut(BaseModel):
    id: str
    name: str
    iban: str | None
    bic: str | None
    account_number: str | None
    currency: str
    ledger_account: str
    tx_count: int
    unreconciled_count: int
    last_tx_date: str | None
    stated_balance: JsonNumber | None = Field(description="Latest closing balance stated by an imported statement")
    stated_balance_date: str | None
    created_at: str
    updated_at: str


class BalancePoint(BaseModel):
    date: str
    balance: JsonNumber


class BalanceHistoryOut(BaseModel):
    history: list[BalancePoint] = Field(description="End-of-day balance of each of the last `days` days")
    startBalance: JsonNumber = Field(description="End-of-day balance of the day before the first history day")
    currentBalance: JsonNumber = Field(description="End-of-day balance of today")
    currency: str
    bank_account_id: str | None
    days: int


# ------------------------------------------------------------------------------------- transactions
class BankTransactionIn(StrictModel):
    """One row of a JSON import. Only booking_date and amount are required."""

    booking_date: IsoDate
    value_date: IsoDate | None = None
    amount: Money = Field(description="Signed: money in is positive")
    currency: Currency | None = Field(default=None, description="Default: the bank account's currency")
    counterparty_name: str | None = Field(default=None, max_length=200)
    counterparty_iban: str | None = Field(default=None, max_length=42)
    counterparty_bic: str | None = Field(default=None, max_length=15)
    purpose: str | None = Field(default=None, max_length=2000)
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


class BankTransactionOut(BaseModel):
    id: str
    bank_account_id: str
    booking_date: str
    value_date: str | None
    amount: JsonNumber
    currency: str
    counterparty_name: str | None
    counterparty_iban: str | None
    counterparty_bic: str | None
    purpose: str | None
    end_to_end_id: str | None
    mandate_id: str | None
    creditor_id: str | None
    bank_reference: str | None
    status: TxStatus
    batch_id: str | None
    document_id: str | None = Field(description="The statement file the transaction was imported from")
    created_at: str | None


class BankTransactionEnvelope(BaseModel):
    transaction: BankTransactionOut


class BankTransactionList(BaseModel):
    transactions: list[BankTransactionOut]
    total: int


class UnreconciledCount(BaseModel):
    count: int


# ------------------------------------------------------------------------------------- imports
class ImportRowError(BaseModel):
    index: int = Field(description="0-based: the row of a JSON import; for a file the entry/row within its "
                                   "statement as the parser counts it")
    reason: str
    statement: int | None = Field(default=None, description="0-based statement of the file (file imports)")


class StatementSummary(BaseModel):
    statement_id: str | None
    account_iban: str | None
    account_number: str | None
    currency: str | None
    opening_balance: JsonNumber | None
    closing_balance: JsonNumber | None
    opening_date: str | None
    closing_date: str | None
    transactions: int
    bank_account_id: str = Field(description="The bank account the statement was imported into")


class ImportResult(BaseModel):
    batch_id: str
    status: Literal["completed"]
    bank_account_id: str
    bank_account_ids: list[str] = Field(description="Every bank account the import went to: a multi-account "
                                                    "MT940 export imported by file has several")
    total_rows: int = Field(description="imported + skipped_duplicates + len(errors)")
    imported: int
    skipped_duplicates: int
    errors: list[ImportRowError]
    errors_truncated: bool = False


class FileImportResult(ImportResult):
    document_id: str
    format: str = Field(description="camt053 | mt940 | bankcsv")
    dialect: str | None
    statements: list[StatementSummary]
    balance_mismatches: list[str] = Field(description="Statements whose opening + transactions ≠ closing balance")


class ImportQueued(BaseModel):
    batch_id: str
    status: Literal["queued"]
    bank_account_id: str
    bank_account_ids: list[str]
    document_id: str
    format: str
    total_rows: int


class ImportBatchOut(BaseModel):
    batch_id: str
    status: Literal["queued", "processing", "completed", "failed"]
    bank_account_id: str
    bank_account_ids: list[str]
    source: Literal["json", "file"]
    document_id: str | None
    format: str | None
    dialect: str | None
    total_rows: int | None
    imported: int | None
    skipped_duplicates: int | None
    errors: list[ImportRowError]
    errors_truncated: bool
    statements: list[StatementSummary]
    balance_mismatches: list[str]
    failure_reason: str | None
    created_at: str
    completed_at: str | None
