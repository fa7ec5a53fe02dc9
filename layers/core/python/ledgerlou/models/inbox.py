"""The inbox's shared shapes: what an extraction of an invoice document found.

``Extraction`` is the answer of ``POST /v1/ocr/extract`` (seed: vendor_name … raw_markdown) and the
``ocr_extraction`` of an inbox item; the review case's ``normalized_invoice`` starts from it. Every field
may be null: a scan can lack any of them, and a missing value must read as missing, never as 0 or "".
Money is Decimal (written as JSON numbers with 2 decimals), dates are ISO strings ``YYYY-MM-DD``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ledgerlou.models.common import JsonNumber
from ledgerlou.models.out import ExactOut

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


class PaymentTerms(ExactOut):
    due_date: str | None = None
    skonto_percent: JsonNumber | None = None
    skonto_days: int | None = None
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
    payment_terms: PaymentTerms | None = None
    reference_text: str | None = None
    raw_markdown: str | None = Field(default=None, description="The document's text as read (text layer or OCR)")

