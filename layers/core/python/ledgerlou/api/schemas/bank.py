"""Request/response models of the bank group (bank accounts, bank transactions, statement imports)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ledgerlou.models.bank import Currency
from ledgerlou.models.common import AccountNumber, JsonNumber, ShortText, StrictModel, Text, examples

TxStatus = Literal["unreconciled", "reconciled", "dismissed"]



# ------------------------------------------------------------------------------------- bank accounts
class BankAccountCreate(StrictModel):
    model_config = examples({"name": "Geschäftskonto", "iban": "DE89370400440532013000"})

    name: ShortText
    iban: Annotated[str, Text(42)] | None = Field(default=None, description="Validated (country, length, checksum)")
    bic: Annotated[str, Text(15)] | None = None
    account_number: Annotated[str, Text(40, min_length=1)] | None = Field(
        default=None, description="Required when there is no IBAN")
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
