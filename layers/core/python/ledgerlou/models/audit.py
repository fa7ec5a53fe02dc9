"""The audit view of one intent (seed 002), which the domain builds (domain/journal/reads.intent_view): a
response model, so it lives below the domain."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ledgerlou.models.out import ExactOut
from ledgerlou.money import MoneyOut


class Provenance(ExactOut):
    """Who booked through which channel, as the audit view shows it (built when the intent was booked)."""

    surface: str = Field(description="api | mcp | dashboard | system")
    surface_label: str
    channel: str = Field(description="The client channel: api, dashboard, mcp, import, batch, bank")
    channel_label: str
    actor_type: str = Field(description="api_key | user | system")
    actor_label: str
    actor_key_prefix: str | None = Field(description="The API key's prefix when an API key booked")
    actor_display: str


class IntentEntry(ExactOut):
    """One journal entry of the intent, with account names and the hash chain fields."""

    id: str
    intent_id: str
    journal_number: int
    booking_date: str
    account_debit: str
    account_credit: str
    account_debit_name: str | None
    account_credit_name: str | None
    amount: MoneyOut
    currency: str
    description: str
    created_at: str
    created_by: str
    source: str
    document_id: str | None
    reverses_intent_id: str | None
    tax_code: str | None
    audit_hash: str
    prev_hash: str
    provenance_summary: Provenance


class FxOut(ExactOut):
    """The exchange rate a foreign-currency booking was converted with, as stored with the intent."""

    currency: str
    rate: str = Field(description="Units of the foreign currency per 1 unit of the base currency, as sent")
    base_currency: str
    total_foreign: str = Field(description="Sum of the lines in the foreign currency (2 decimals, as text)")


class ReversalOut(ExactOut):
    reason: str
    posting_mode: Literal["original_date", "current_date"]
    original_intent_id: str


class IntentSummary(ExactOut):
    booking_date: str
    description: str
    source: str
    created_at: str
    created_by: str
    created_by_label: str | None
    provenance_summary: Provenance
    document_id: str | None
    reverses_intent_id: str | None
    reversed_by_intent_id: str | None
    total_amount: MoneyOut = Field(description="Sum of the booked lines (gross), in the base currency")
    currency: str | None
    journal_number_min: int | None
    journal_number_max: int | None
    fx: FxOut | None
    external_reference: str | None
    custom_metadata: dict[str, Any] | None
    adjustment_period: int | None = Field(description="13-16 for a booking into an adjustment period")
    kind: Literal["booking", "opening_balance", "reversal"]


class LinkedIntents(ExactOut):
    settles_intent_ids: list[str] = Field(description="Open items (intents) this intent settles")
    settlement_intent_ids: list[str] = Field(description="Intents (payments) that settle this one")


class NamedAccount(ExactOut):
    number: str
    name: str | None


class IntentLine(ExactOut):
    """One line of the booking as it was sent (a tax-code line is one line, split into two entries)."""

    line_index: int
    content_hash: str
    debit_account: NamedAccount
    credit_account: NamedAccount
    fx_amount: MoneyOut | None = Field(description="The line's amount in the foreign currency (fx bookings)")


class IntentMetadata(ExactOut):
    intent_category: str | None
    confidence: int
    source_type: str
    confirmed_at: str
    confirmed_by: str
    original_description: str
    document_id: str | None
    bank_transaction_id: str | None
    is_split_booking: bool
    total_lines: int
    duplicate_override: bool
    fx: FxOut | None
    reversal: ReversalOut | None
    external_reference: str | None
    custom_metadata: dict[str, Any] | None
    lines: list[IntentLine]


class IntentView(ExactOut):
    """The audit view of one intent (seed 002): its entries with account names and provenance, the GoBD
    hash chain, the reversal references both ways and the settlement links."""

    intent_id: str
    entries: list[IntentEntry]
    summary: IntentSummary
    linked_intents: LinkedIntents
    metadata: IntentMetadata
