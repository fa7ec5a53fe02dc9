"""Request/response models of the receivables group (customers, outgoing invoices, open items); the
payables group (api/schemas/payables.py) uses the same shapes for vendors and incoming invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from ledgerlou.models.common import (
    AccountNumber,
    IsoDate,
    JsonNumber,
    LongText,
    OutModel,
    ShortText,
    StrictModel,
    Text,
    examples,
)
from ledgerlou.money import Money, Rate, to_decimal

Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
InvoiceNumber = Annotated[str, Text(36, min_length=1, strip=True)]
InvoiceType = Literal["invoice", "credit_note"]
InvoiceStatus = Literal["open", "partially_paid", "paid", "cancelled"]
Notes = LongText


# ------------------------------------------------------------------------------------- partners
class Address(StrictModel):
    street: Annotated[str, Text(140)] | None = Field(default=None)
    postal_code: Annotated[str, Text(16)] | None = Field(default=None)
    city: Annotated[str, Text(70)] | None = Field(default=None, description="Town: a SEPA transfer needs it")
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        default="DE", description="ISO 3166-1 alpha-2")


class PartnerIn(StrictModel):
    """POST and PUT body (PUT replaces every editable field: one left out is cleared)."""

    model_config = examples({"name": "Muster Handel GmbH", "vat_id": "DE136695976", "iban": "DE89370400440532013000",
                             "address": {"street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin",
                                         "country": "DE"}, "default_account": "8400"})

    name: ShortText
    tax_id: Annotated[str, Text(20)] | None = Field(default=None, description="Steuernummer")
    vat_id: Annotated[str, Text(20)] | None = Field(default=None, description="USt-IdNr. (400 INVALID_VAT_ID)")
    iban: Annotated[str, Text(42)] | None = Field(default=None, description="Validated (400 INVALID_IBAN)")
    bic: Annotated[str, Text(15)] | None = Field(default=None)
    address: Address | None = None
    default_account: AccountNumber | None = Field(
        default=None, description="A customer's revenue account / a vendor's expense account (the invoice lines' "
                                  "default)")
    notes: Notes | None = None


class PartnerOut(OutModel):
    id: str
    number: str = Field(description="Debitor 10000–69999 / Kreditor 70000–99999, assigned in order")
    name: str
    tax_id: str | None
    vat_id: str | None
    iban: str | None
    bic: str | None
    address: dict[str, Any] | None
    default_account: str | None
    notes: str | None
    is_active: bool
    open_amount: JsonNumber = Field(description="Σ remaining amounts of the open invoices (base currency)")
    created_at: str
    updated_at: str


# ------------------------------------------------------------------------------------- invoices
def _quantity(value: Any) -> Decimal:
    d = to_decimal(value)
    if d <= 0 or d > Decimal("1000000000"):
        raise ValueError("must be greater than 0 and at most 1000000000")
    exponent = d.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise ValueError("must have at most 4 decimals")
    return d


class InvoiceLine(StrictModel):
    description: Annotated[str, Text(500)] | None = Field(default=None)
    quantity: Decimal = Field(default=Decimal(1), description="Default 1; at most 4 decimals")
    unit_price: Money | None = None
    net_amount: Money | None = Field(default=None, description="Default: quantity × unit_price (half-up to cents)")
    tax_code: Annotated[str, Text(20)] | None = Field(default=None, description="None: no VAT on this line")
    account: AccountNumber | None = Field(default=None, description="Default: the partner's default_account")

    @field_validator("quantity", mode="before")
    @classmethod
    def _qty(cls, value: Any) -> Decimal:
        return _quantity(value)

    @model_validator(mode="after")
    def _amount_given(self) -> InvoiceLine:
        if self.net_amount is None and self.unit_price is None:
            raise ValueError("net_amount or unit_price is required")
        return self


class PaymentTerms(StrictModel):
    """Zahlungsbedingungen, e.g. "2 % Skonto innerhalb 10 Tagen, 30 Tage netto". The names are those of
    the inbox's extracted terms (models/inbox.ExtractedPaymentTerms), so an extraction maps onto an invoice."""

    model_config = examples({"skonto_percent": "2.00", "skonto_days": 10, "net_days": 30})

    skonto_percent: Rate | None = Field(default=None, description="Cash discount in percent (0–100, 2 decimals)")
    skonto_days: int | None = Field(default=None, ge=0, le=365,
                                    description="Days after invoice_date within which the discount applies")
    net_days: int | None = Field(default=None, ge=0, le=3650,
                                 description="Days after invoice_date until payment is due (the default due_date)")
    text: Annotated[str, Text(500)] | None = Field(default=None, description="The terms as written on the invoice")

    @model_validator(mode="after")
    def _skonto_pair(self) -> PaymentTerms:
        if (self.skonto_percent is None) != (self.skonto_days is None):
            raise ValueError("skonto_percent and skonto_days go together")
        if self.skonto_percent is not None and not 0 < self.skonto_percent < 100:
            raise ValueError("skonto_percent must be greater than 0 and less than 100")
        if self.skonto_days is not None and self.net_days is not None and self.skonto_days > self.net_days:
            raise ValueError("skonto_days must not exceed net_days")
        return self


class InvoiceBase(StrictModel):
    document_id: Uuid | None = None
    invoice_number: InvoiceNumber
    invoice_date: IsoDate
    due_date: IsoDate | None = Field(default=None, description="Default: invoice_date")
    total_net: Money
    total_tax: Money
    total_gross: Money
    currency: Currency | None = Field(default=None, description="Document currency; default: the base currency")
    exchange_rate: Decimal | None = Field(
        default=None, description="Units of the document currency per 1 unit of the base currency (required for "
                                  "a foreign currency; the booking converts with it, as a booking's fx does)")
    type: InvoiceType = "invoice"
    intent_id: Uuid | None = Field(default=None, description="Link this existing booking instead of booking")
    notes: Notes | None = None
    payment_terms: PaymentTerms | None = Field(
        default=None, description="Skonto and net terms; without due_date, net_days sets it (invoice_date + net_days)")
    lines: list[InvoiceLine] = Field(default_factory=list, max_length=500,
                                     description="Required unless intent_id links an existing booking")

    @field_validator("exchange_rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Decimal | None:
        if value is None:
            return None
        d = to_decimal(value)
        if d <= 0 or d > Decimal("1000000"):
            raise ValueError("must be greater than 0 and at most 1000000")
        exponent = d.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -10:
            raise ValueError("must have at most 10 decimals")
        return d

    @model_validator(mode="after")
    def _shape(self) -> InvoiceBase:
        if not self.lines and self.intent_id is None:
            raise ValueError("lines are required unless intent_id links an existing booking")
        if self.due_date is not None and self.due_date < self.invoice_date:
            raise ValueError("due_date must not be before invoice_date")
        terms = self.payment_terms
        days = max((d for d in (terms.net_days, terms.skonto_days) if d is not None), default=0) if terms else 0
        if (dt.date.max - self.invoice_date).days < days:
            raise ValueError("invoice_date + the payment terms' days lies beyond 9999-12-31")
        return self


class OutgoingInvoiceIn(InvoiceBase):
    model_config = examples({"customer_id": "00000000-0000-4000-8000-000000000001", "invoice_number": "RE-2026-001",
                             "invoice_date": "2026-01-15", "due_date": "2026-02-14", "total_net": "100.00",
                             "total_tax": "19.00", "total_gross": "119.00",
                             "lines": [{"description": "Beratung", "quantity": "1", "unit_price": "100.00",
                                        "tax_code": "USt19", "account": "8400"}],
                             "payment_terms": {"skonto_percent": "2", "skonto_days": 10, "net_days": 30,
                                               "text": "2 % Skonto innerhalb 10 Tagen, 30 Tage netto"}})

    customer_id: Uuid


class InvoicePatch(StrictModel):
    model_config = examples({"notes": "Zahlungserinnerung versandt", "due_date": "2026-03-01"})

    intent_id: Uuid | None = Field(default=None, description="Only on a cancelled invoice: its corrected booking")
    notes: Notes | None = None
    due_date: IsoDate | None = None

    @model_validator(mode="after")
    def _something(self) -> InvoicePatch:
        if self.intent_id is None and self.notes is None and self.due_date is None:
            raise ValueError("give intent_id, notes or due_date")
        return self


class InvoiceCreated(OutModel):
    id: str
    intent_id: str
    status: InvoiceStatus


class SettlementOut(OutModel):
    intent_id: str
    amount: JsonNumber
    date: str
    kind: str


class InvoiceLineOut(OutModel):
    description: str | None
    quantity: JsonNumber
    unit_price: JsonNumber | None
    net_amount: JsonNumber
    tax_code: str | None
    account: str


class PaymentTermsOut(OutModel):
    skonto_percent: JsonNumber | None
    skonto_days: int | None
    net_days: int | None
    text: str | None
    skonto_until: str | None = Field(description="Last day of the Skonto period (invoice_date + skonto_days)")


class InvoiceOut(OutModel):
    id: str
    type: InvoiceType
    partner_id: str
    partner_name: str
    partner_number: str
    invoice_number: str
    invoice_date: str
    due_date: str
    currency: str
    exchange_rate: JsonNumber | None
    total_net: JsonNumber
    total_tax: JsonNumber
    total_gross: JsonNumber
    base_total_gross: JsonNumber = Field(description="total_gross in the base currency (as booked)")
    remaining_amount: JsonNumber = Field(description="Document currency; negative for a credit note")
    status: InvoiceStatus
    days_overdue: int
    intent_id: str
    open_item_account: str
    document_id: str | None
    notes: str | None
    payment_terms: PaymentTermsOut | None
    created_at: str
    lines: list[InvoiceLineOut] | None = Field(default=None, description="GET by id only")
    settlements: list[SettlementOut] | None = Field(default=None, description="GET by id only")


class OpenItemOut(OutModel):
    invoice_id: str
    invoice_number: str
    type: InvoiceType
    partner_id: str
    partner_name: str
    intent_id: str
    open_item_account: str
    invoice_date: str
    due_date: str
    total_gross: JsonNumber
    remaining_amount: JsonNumber = Field(description="Document currency; negative for a credit note")
    currency: str
    days_overdue: int
