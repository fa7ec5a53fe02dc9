"""Response models of the match suggestions and of a bank transaction's evidence (Eigenbeleg)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ledgerlou.models.common import JsonNumber
from ledgerlou.models.out import ExactOut

Reason = Literal["invoice_number_in_purpose", "iban_matches_partner", "amount_exact", "amount_within_skonto",
                 "name_similar", "date_window", "booking_exists"]


class SuggestionCandidate(ExactOut):
    candidate_kind: Literal["open_receivable", "open_liability", "booking"]
    intent_id: str = Field(description="POST …/reconcile's intent_id: the invoice's booking (open items) or the "
                                       "booking to link")
    open_item_account: str | None = Field(description="The open item's account (null for a booking)")
    invoice_id: str | None
    invoice_number: str | None = Field(description="The invoice's number; a booking's external_reference")
    partner_id: str | None
    partner_name: str | None
    amount: JsonNumber = Field(description="The invoice's gross total; a booking's amount on the bank's ledger account")
    remaining_amount: JsonNumber | None = Field(description="What is still open (null for a booking)")
    confidence: float = Field(ge=0, le=1, description="Noisy-or of the reasons' weights (docs/reconciliation.md)")
    reasons: list[Reason]


class GroupHint(ExactOut):
    """A payment of several invoices at once (Sammelzahlung): reconcile it as a match group."""

    invoice_ids: list[str]
    invoice_numbers: list[str]
    amount: JsonNumber = Field(description="Σ of the invoices' remaining amounts")
    reasons: list[Reason]


class Suggestion(ExactOut):
    bank_transaction_id: str
    candidates: list[SuggestionCandidate] = Field(description="Best first (at most 5)")
    group_hint: GroupHint | None = Field(description="The purpose names several open items that together fit "
                                                     "the amount (POST /v1/bank-match-groups)")


class EvidenceOut(ExactOut):
    id: str
    bank_transaction_id: str
    version: int = Field(ge=1)
    evidence_type: str
    title: str
    note: str | None
    document_id: str | None
    metadata: dict[str, Any] | None
    created_at: str
    created_by: str


class EvidenceEnvelope(ExactOut):
    evidence: EvidenceOut | None = Field(description="The latest version, null when there is none")
    history: list[EvidenceOut] = Field(description="Every version, oldest first (none is ever overwritten)")
