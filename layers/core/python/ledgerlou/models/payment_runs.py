"""Request and response models of the payment runs (``/v1/payment-runs``, group payables)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ledgerlou.models.common import IsoDate, JsonNumber, StrictModel, Text, examples
from ledgerlou.models.journal import BookingLine, BookingRequest
from ledgerlou.models.out import ExactOut
from ledgerlou.models.receivables import Address, Uuid

MAX_RUN_INVOICES = 1000
# A completion books a payment line per invoice and, with Skonto, a line per tax rate of the invoice
MAX_COMPLETION_LINES = 4 * MAX_RUN_INVOICES

RunStatus = Literal["draft", "approved", "exported", "completing", "completed", "cancelled"]


class PaymentRunIn(StrictModel):
    model_config = examples({"bank_account_id": "00000000-0000-4000-8000-000000000003",
                             "execution_date": "2026-12-07", "invoice_ids": ["00000000-0000-4000-8000-000000000004"],
                             "label": "Zahlungslauf KW 50",
                             "debtor_address": {"street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin",
                                                "country": "DE"}})

    bank_account_id: Uuid = Field(description="The account paid from (needs an IBAN: 400 BANK_ACCOUNT_WITHOUT_IBAN)")
    execution_date: IsoDate = Field(description="Requested execution date (not in the past: 400 "
                                                "EXECUTION_DATE_IN_PAST); a weekend or TARGET holiday moves to "
                                                "the next TARGET business day (execution_date_moved)")
    invoice_ids: list[Uuid] = Field(min_length=1, max_length=MAX_RUN_INVOICES,
                                    description="Incoming invoices to pay (409 INVOICE_NOT_ELIGIBLE names one that "
                                                "is not eligible)")
    label: Annotated[str, Text(140)] | None = Field(default=None)
    debtor_address: Address | None = Field(
        default=None, description="The payer's postal address (town and country are required to export: SEPA "
                                  "structured address)")


class EligibleInvoiceOut(ExactOut):
    invoice_id: str
    invoice_number: str
    vendor_id: str
    vendor_name: str
    iban: str
    bic: str | None
    invoice_date: str
    due_date: str
    currency: str
    total_gross: JsonNumber
    remaining_amount: JsonNumber
    skonto_amount: JsonNumber = Field(description="Cash discount if paid on execution_date (0 outside the period)")
    skonto_until: str | None
    amount: JsonNumber = Field(description="Amount to pay on execution_date: remaining_amount - skonto_amount")
    days_overdue: int


class EligibleInvoicesOut(ExactOut):
    execution_date: str = Field(description="The TARGET business day the amounts are computed for")
    items: list[EligibleInvoiceOut]
    has_more: bool


class RunItemOut(ExactOut):
    invoice_id: str
    invoice_number: str
    vendor_id: str
    vendor_name: str
    iban: str
    bic: str | None
    open_amount: JsonNumber
    skonto_amount: JsonNumber
    amount: JsonNumber
    remittance_information: str
    end_to_end_id: str


class RunProblemOut(ExactOut):
    item: str = Field(description="debtor, or items[i]")
    invoice_id: str | None
    issue: str


class _PaymentRunFields(ExactOut):
    """What a run says of itself, in the list and by id alike."""
    id: str
    status: RunStatus = Field(description="completing: the completion booking is being written")
    label: str | None
    bank_account_id: str
    debtor_name: str
    debtor_iban: str
    debtor_address: dict[str, Any] | None
    requested_execution_date: str
    execution_date: str = Field(description="A TARGET business day")
    execution_date_moved: bool = Field(description="The requested date was a weekend or TARGET holiday")
    total_amount: JsonNumber
    invoice_count: int
    skonto_amount: JsonNumber
    batch_booking: bool = Field(description="BtchBookg: the bank books the run as one debit")
    message_id: str
    exportable: bool
    document_id: str | None = Field(description="The stored SEPA file (after export)")
    sha256: str | None
    intent_id: str | None = Field(description="The completion booking")
    created_by: str
    created_at: str
    approved_by: str | None
    approved_at: str | None
    exported_at: str | None
    completed_at: str | None
    cancelled_at: str | None


class PaymentRunOut(_PaymentRunFields):
    items: list[RunItemOut]
    problems: list[RunProblemOut] = Field(description="What keeps the run from being exported (missing addresses)")


class PaymentRunSummaryOut(_PaymentRunFields):
    """A run in the list: without its items and problems (``GET /v1/payment-runs/{id}`` has them)."""
    problem_count: int = Field(description="How many problems keep the run from being exported")


class PaymentRunExportOut(ExactOut):
    run: PaymentRunOut
    sepa_xml: str = Field(description="pain.001.001.09, UTF-8 (ISO XSD and DK GBIC_5)")
    message_id: str
    number_of_transactions: int
    control_sum: JsonNumber
    document_id: str
    sha256: str


class CompletionBooking(BookingRequest):
    """The completion booking of a run (built by the domain, never read from a request): one intent
    for up to 1,000 payments with their Skonto lines, so more lines than a booking request's 500. The
    journal's own limit still holds: the block must fit MAX_BLOCK_BYTES (docs/payment-runs.md)."""

    lines: list[BookingLine] = Field(min_length=1, max_length=MAX_COMPLETION_LINES)
