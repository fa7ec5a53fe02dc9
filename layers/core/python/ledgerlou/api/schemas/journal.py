"""Request/response models of the journal group (bookings, journal, reversal, opening balances)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ledgerlou.models.common import JsonNumber, OutModel, StrictModel, examples
from ledgerlou.models.journal import BookingRequest
from ledgerlou.models.out import ExactOut
from ledgerlou.money import MoneyOut


class BookingCreated(OutModel):
    intent_id: str
    event_count: int


class BatchRequest(StrictModel):
    model_config = examples({"bookings": [
        {"booking_date": "2026-01-16", "description": "Porto",
         "lines": [{"account_debit": "4910", "account_credit": "1000", "amount": "8.50"}]},
        {"booking_date": "2026-01-16", "description": "Bewirtung",
         "lines": [{"account_debit": "4650", "account_credit": "1000", "amount": "59.50", "tax_code": "VSt19"}]}]})

    bookings: list[BookingRequest] = Field(min_length=1, max_length=100)


class BatchCreated(OutModel):
    intents: list[BookingCreated]
    event_count: int






class OpeningBalancesCreated(OutModel):
    intent_id: str
    event_count: int
    total_debit: MoneyOut
    total_credit: MoneyOut




class ReverseCreated(OutModel):
    reversal_intent_id: str
    original_intent_id: str
    event_count: int


class JournalEntryOut(OutModel):
    id: str
    intent_id: str
    journal_number: int
    booking_date: str
    account_debit: str
    account_credit: str
    amount: JsonNumber
    currency: str
    description: str
    created_at: str
    created_by: str
    source: str
    document_id: str | None
    reverses_intent_id: str | None
    audit_hash: str
    prev_hash: str
    tax_code: str | None = Field(description="The tax code of the booking line the entry comes from")


class JournalList(OutModel):
    entries: list[JournalEntryOut]
    total: int
    offset: int
    limit: int


class AccountEntry(ExactOut):
    """A journal entry on the Kontoblatt: the entry, which side of it the account is on, and the balance."""

    id: str
    intent_id: str
    journal_number: int
    booking_date: str
    account_debit: str
    account_credit: str
    amount: MoneyOut
    currency: str
    description: str
    created_at: str
    created_by: str
    source: str
    document_id: str | None
    reverses_intent_id: str | None
    audit_hash: str
    prev_hash: str
    tax_code: str | None
    side: Literal["debit", "credit"]
    contra_account: str
    running_balance: MoneyOut = Field(description="The account's balance after this entry, debit positive")


class AccountEntries(ExactOut):
    account: str
    entries: list[AccountEntry] = Field(description="The first `limit` entries of the range")
    opening_balance: MoneyOut = Field(description="Balance before startDate, debit positive")
    balance: MoneyOut = Field(description="Balance at the end of the range")
    total: int = Field(description="Entries in the range")


class VerifyOut(OutModel):
    verified: bool
    entries: int
    head_hash: str
    first_break: dict[str, Any] | None
