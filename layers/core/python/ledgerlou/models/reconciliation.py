"""Request and response models of bank reconciliation (reconcile, unmatch, dismiss, batch, match groups,
the reconciliation view)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ledgerlou.models.common import AccountNumber, JsonNumber, StrictModel, Text, examples
from ledgerlou.models.out import ExactOut
from ledgerlou.money import PositiveMoney

Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$")]
# A plain string, checked by the domain: an unknown kind is 400 TARGET_KIND_UNSUPPORTED (API.md), not a
# schema error.
CandidateKind = Annotated[str, Text(40, min_length=1, strip=True)]
KIND_HELP = "open_receivable | open_liability | booking (else 400 TARGET_KIND_UNSUPPORTED)"


class ReconcileIn(StrictModel):
    model_config = examples({"intent_id": "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c", "candidate_kind": "open_receivable",
                             "open_item_account": "1400"})

    intent_id: Uuid = Field(description="The open item's invoice intent, or the booking to link")
    candidate_kind: CandidateKind = Field(description=KIND_HELP)
    open_item_account: AccountNumber | None = Field(
        default=None, description="The open item's account (required for open_receivable / open_liability)")


class BatchPair(ReconcileIn):
    model_config = examples({"bank_transaction_id": "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c",
                             "intent_id": "1b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c", "candidate_kind": "open_receivable",
                             "open_item_account": "1400"})

    bank_transaction_id: Uuid


class BatchReconcileIn(StrictModel):
    model_config = examples({"pairs": [{"bank_transaction_id": "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c",
                                        "intent_id": "1b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c",
                                        "candidate_kind": "open_receivable", "open_item_account": "1400"}]})

    pairs: list[BatchPair] = Field(min_length=1, max_length=100, description="1–100 pairs, each on its own")


class Allocation(StrictModel):
    intent_id: Uuid = Field(description="The open item's invoice intent")
    candidate_kind: CandidateKind = Field(description="open_receivable | open_liability")
    open_item_account: AccountNumber
    allocated_bank_amount: PositiveMoney = Field(description="The bank amount given to this item (bank currency)")
    settled_document_amount: PositiveMoney | None = Field(
        default=None, description="What the open item is settled by (its currency); default the allocated amount, "
                                  "required for an item in another currency than the bank account's")


class Adjustment(StrictModel):
    account_number: AccountNumber
    posting_side: Literal["debit", "credit"]
    amount: PositiveMoney = Field(description="In the base currency (EUR)")
    description: Annotated[str, Text(500)] | None = None
    tax_code: Annotated[str, Text(20)] | None = Field(
        default=None, description="Corrects the open items' VAT by the tax part of amount (Skonto, §17 UStG)")


class MatchGroupIn(StrictModel):
    model_config = examples({
        "bank_transaction_ids": ["0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c", "1b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c"],
        "allocations": [{"intent_id": "2b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c", "candidate_kind": "open_receivable",
                         "open_item_account": "1200", "allocated_bank_amount": 119},
                        {"intent_id": "3b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c", "candidate_kind": "open_receivable",
                         "open_item_account": "1200", "allocated_bank_amount": 228, "settled_document_amount": 238}],
        "adjustments": [{"account_number": "6969", "posting_side": "debit", "amount": 10,
                         "description": "Kleinbetragsdifferenz"}]})

    bank_transaction_ids: list[Uuid] = Field(min_length=1, max_length=40)
    allocations: list[Allocation] = Field(min_length=1, max_length=40)
    adjustments: list[Adjustment] = Field(default_factory=list, max_length=20)


# ------------------------------------------------------------------------------------- responses
class ReconcileOut(ExactOut):
    ok: bool
    mode: Literal["settlement", "link"]
    intent_id: str = Field(description="settlement: the settlement intent booked; link: the booking linked")


class UnmatchOut(ExactOut):
    ok: bool
    status: Literal["unreconciled"]
    reversal_intent_id: str | None = Field(description="The Storno of the settlement (null for a link or dismissal)")


class DismissOut(ExactOut):
    ok: bool


class Reconciled(ExactOut):
    bank_transaction_id: str
    intent_id: str
    mode: Literal["settlement", "link"]


class PairError(ExactOut):
    index: int
    bank_transaction_id: str
    code: str
    message: str


class BatchReconcileOut(ExactOut):
    reconciled: list[Reconciled]
    errors: list[PairError]


class MatchGroupOut(ExactOut):
    ok: bool
    match_group_id: str
    intent_id: str
    mode: Literal["settlement"]


class MatchGroupUnmatchOut(ExactOut):
    ok: bool
    match_group_id: str
    status: Literal["unmatched"]
    reversal_intent_id: str


class BankOpenTx(ExactOut):
    """An unreconciled transaction (the shape of GET /v1/bank-transactions/{id})."""

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
    status: str
    batch_id: str | None
    document_id: str | None
    created_at: str


class BankSide(ExactOut):
    balance: JsonNumber
    open: list[BankOpenTx]
    open_count: int
    reconciled_count: int
    dismissed_count: int


class LedgerSide(ExactOut):
    account: str
    amount: JsonNumber = Field(description="Balance of the bank's ledger account in the account's currency")
    base_amount: JsonNumber


class LedgerEntry(ExactOut):
    intent_id: str
    booking_date: str
    description: str
    external_reference: str | None
    amount: JsonNumber
    base_amount: JsonNumber


class UnmatchedLedger(ExactOut):
    amount: JsonNumber
    base_amount: JsonNumber
    entries: list[LedgerEntry]


class ReconciliationView(ExactOut):
    bank_account_id: str
    currency: str
    base_currency: str
    bank: BankSide
    ledger: LedgerSide
    unmatched_ledger: UnmatchedLedger
    difference: JsonNumber = Field(description="bank.balance − ledger.amount")
