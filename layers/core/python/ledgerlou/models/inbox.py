"""The inbox's shared shapes: what an extraction of an invoice document found.

``Extraction`` is the answer of ``POST /v1/ocr/extract`` (seed: vendor_name … raw_markdown) and the
``ocr_extraction`` of an inbox item; the review case's ``normalized_invoice`` starts from it. Every field
may be null: a scan can lack any of them, and a missing value must read as missing, never as 0 or "".
Money is Decimal (written as JSON numbers with 2 decimals), dates are ISO strings ``YYYY-MM-DD``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from ledgerlou.models.common import AccountNumber, IsoDate, JsonNumber, StrictModel, Text, examples
from ledgerlou.models.out import ExactOut
from ledgerlou.models.receivables import PaymentTerms
from ledgerlou.money import Money

# Which path produced an extraction (``ocr_raw.path``), in the order they are tried: an e-invoice's XML
# (alone, or inside a ZUGFeRD/Factur-X PDF) is the invoice itself; the PDF's text layer next; OCR last.
ExtractionPath = Literal["xrechnung_ubl", "xrechnung_cii", "facturx_pdf", "pdf_text", "ocr", "none"]


class VendorAddress(ExactOut):
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2")


class LineItem(ExactOut):
    description: str | None = None
    quantity: JsonNumber | None = None
    unit_price: JsonNumber | None = None
    net_amount: JsonNumber | None = None
    tax_rate: JsonNumber | None = Field(default=None, description="Percent, e.g. 19.00")


class ExtractedPaymentTerms(ExactOut):
    """The invoice's terms as read: the names of an invoice's payment_terms (models/receivables.PaymentTerms),
    which approving a review case books them as, and the due date."""

    due_date: str | None = None
    skonto_percent: JsonNumber | None = None
    skonto_days: int | None = None
    net_days: int | None = Field(default=None, description="Days after the invoice date until payment is due")
    text: str | None = Field(default=None, description="The terms as written on the invoice")


class Extraction(ExactOut):
    """What was read from one invoice document (seed: POST /v1/ocr/extract)."""

    vendor_name: str | None = None
    vendor_vat_id: str | None = None
    vendor_iban: str | None = None
    vendor_address: VendorAddress | None = None
    invoice_number: str | None = None
    invoice_date: str | None = None
    due_date: str | None = None
    total_net: JsonNumber | None = None
    total_tax: JsonNumber | None = None
    total_gross: JsonNumber | None = None
    currency: str | None = None
    line_items: list[LineItem] = Field(default_factory=list)
    payment_terms: ExtractedPaymentTerms | None = None
    reference_text: str | None = None
    raw_markdown: str | None = Field(default=None, description="The document's text as read (text layer or OCR)")



# ------------------------------------------------------------------------------------- inbox items, review cases, log
# (the inbox flow: mail in → item → extraction → review case → booked incoming invoice)
InboxStatus = Literal["received", "processing", "extracted", "failed", "confirmed", "rejected"]
QueueState = Literal["open", "approved", "rejected"]
IngestionOutcome = Literal["accepted", "duplicate", "rejected", "failed", "skipped"]
IngestionSource = Literal["email", "upload"]


class VendorMatch(ExactOut):
    vendor_id: str
    confidence: JsonNumber = Field(description="0..1")
    matched_by: str = Field(description="vat_id, iban or name")


class ComplianceRule(ExactOut):
    rule: str
    ok: bool
    message: str | None = None


class ComplianceCheck(ExactOut):
    passed: bool
    checks: list[ComplianceRule] = Field(default_factory=list)


class InboxItemOut(ExactOut):
    id: str
    document_id: str
    status: InboxStatus
    ocr_extraction: Extraction | None = None
    ocr_raw: dict[str, Any] | None = Field(default=None, description="What the extraction path produced (path, …)")
    vendor_match: VendorMatch | None = None
    compliance_check: ComplianceCheck | None = None
    source_email: str | None = None
    source_subject: str | None = None
    original_name: str
    created_at: str
    updated_at: str
    einvoice_document_id: str | None = Field(default=None, description="The e-invoice XML kept as its own document "
                                                                       "(the invoice itself, GoBD)")
    review_case_id: str | None = None
    failure_reason: str | None = None
    rejected_reason: str | None = None


class InboxConfirmed(ExactOut):
    confirmed: bool
    inbox_id: str
    review_case_id: str


class InboxRejected(ExactOut):
    rejected: bool
    inbox_id: str


class InboxAddress(ExactOut):
    inbox_address: str


class RejectIn(StrictModel):
    model_config = examples({"reason": "Keine Rechnung (Werbung)"})

    reason: Annotated[str, Text(500, min_length=1, strip=True)]


class ReviewLine(ExactOut):
    description: str | None = None
    quantity: JsonNumber | None = None
    unit_price: JsonNumber | None = None
    net_amount: JsonNumber | None = None
    tax_rate: JsonNumber | None = Field(default=None, description="Percent, e.g. 19.00")
    tax_code: str | None = Field(default=None, description="Default: the input-VAT code of tax_rate (VSt19, VSt7)")
    account: str | None = Field(default=None, description="Default: the vendor's default_account, else the chart's "
                                                          "Sonstiger Betriebsbedarf")


class NormalizedInvoice(Extraction):
    """The extraction's fields as the review case books them (PATCH corrects them)."""

    line_items: list[ReviewLine] = Field(default_factory=list)  # type: ignore[assignment]


class BookingError(ExactOut):
    code: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


class VendorCandidate(ExactOut):
    vendor_id: str
    name: str
    number: str = Field(description="The Kreditor number")
    confidence: JsonNumber
    matched_by: str


class ReviewCaseOut(ExactOut):
    id: str
    inbox_id: str
    document_id: str
    queue_state: QueueState
    vendor_id: str | None = None
    normalized_invoice: NormalizedInvoice
    vendor_candidates: list[VendorCandidate] = Field(default_factory=list)
    booking_errors: list[BookingError] = Field(default_factory=list)
    compliance_check: ComplianceCheck | None = None
    created_at: str
    updated_at: str
    invoice_id: str | None = None
    intent_id: str | None = None
    rejected_reason: str | None = None
    document_type: str | None = Field(default=None, description="The extraction's document type (invoice, "
                                                                "credit_note …): a credit note is booked as one")
    approving: bool = Field(default=False, description="An approve is booking the case right now: PATCH, reject "
                                                       "and another approve answer 409 INVALID_STATE until it ends")


class ReviewLineIn(StrictModel):
    description: Annotated[str, Text(500)] | None = None
    quantity: Decimal | None = Field(default=None, ge=0)
    unit_price: Money | None = None
    net_amount: Money | None = None
    tax_rate: Decimal | None = Field(default=None, ge=0, le=100)
    tax_code: Annotated[str, Text(20)] | None = None
    account: AccountNumber | None = None


class NormalizedInvoiceIn(StrictModel):
    """Corrections of a case's normalized invoice: the fields given replace the extraction's."""

    vendor_name: Annotated[str, Text(200)] | None = None
    invoice_number: Annotated[str, Text(36, min_length=1, strip=True)] | None = None
    invoice_date: IsoDate | None = None
    due_date: IsoDate | None = None
    total_net: Money | None = None
    total_tax: Money | None = None
    total_gross: Money | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    line_items: list[ReviewLineIn] | None = Field(default=None, max_length=500)
    payment_terms: PaymentTerms | None = Field(
        default=None, description="Skonto and net days as the invoice is booked with them (replace the extracted "
                                  "terms as a whole)")
    reference_text: Annotated[str, Text(500)] | None = None


class ReviewCasePatch(StrictModel):
    model_config = examples({"vendor_id": "00000000-0000-4000-8000-000000000002",
                             "normalized_invoice": {
                                 "vendor_name": "Lieferant GmbH", "invoice_number": "RE-2026-0042",
                                 "invoice_date": "2026-01-15", "total_net": "100.00", "total_tax": "19.00",
                                 "total_gross": "119.00", "reference_text": "Bestellung 4711",
                                 "payment_terms": {"skonto_percent": "2.00", "skonto_days": 10, "net_days": 30,
                                                   "text": "2 % Skonto innerhalb 10 Tagen, 30 Tage netto"},
                                 "line_items": [{"description": "Büromaterial", "net_amount": "100.00",
                                                 "tax_rate": "19", "tax_code": "VSt19", "account": "4930"}]}})

    vendor_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$")] | None = None
    normalized_invoice: NormalizedInvoiceIn | None = None

    @model_validator(mode="after")
    def _something(self) -> ReviewCasePatch:
        if self.vendor_id is None and self.normalized_invoice is None:
            raise ValueError("give vendor_id or normalized_invoice")
        return self


class ReviewApproved(ExactOut):
    reviewCaseId: str
    intentId: str
    invoiceId: str


class OcrExtractIn(StrictModel):
    model_config = examples({"document_id": "00000000-0000-4000-8000-000000000003"})

    document_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$")]


class IngestionLogOut(ExactOut):
    id: str
    received_at: str
    source: IngestionSource
    source_email: str | None = None
    subject: str | None = None
    original_name: str | None = None
    document_id: str | None = None
    inbox_id: str | None = None
    outcome: IngestionOutcome
    message: str | None = None
