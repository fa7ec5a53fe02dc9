"""What the compliance check (§14 Abs. 4 UStG, §33 UStDV, §14a) needs to know about an invoice, beyond the
``Extraction`` the API shows: both parties with addresses, the seller's tax number beside the VAT id, the
delivery date or period, the items, the net and tax per rate, and the free text in which the §13b
wording would stand. Every path (e-invoice XML, text layer, OCR) fills what it found; None is "not found"."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Party:
    name: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    vat_id: str | None = None
    tax_number: str | None = None  # Steuernummer (BT-32 / schemeID FC)

    @property
    def has_address(self) -> bool:
        return bool(self.street and self.city) or bool(self.postal_code and self.city)


@dataclass(frozen=True)
class TaxLine:
    """One VAT breakdown group (EN 16931 BG-23): the net and the tax of one category and rate."""

    category: str | None  # S, Z, E, AE (reverse charge), K (intra-EU), G (export), O (not subject), L, M
    rate: Decimal | None
    net: Decimal | None
    tax: Decimal | None
    exemption_reason: str | None = None


@dataclass(frozen=True)
class Item:
    description: str | None
    quantity: Decimal | None
    unit: str | None = None
    unit_price: Decimal | None = None
    net: Decimal | None = None


@dataclass(frozen=True)
class InvoiceFacts:
    seller: Party = field(default_factory=Party)
    buyer: Party = field(default_factory=Party)
    invoice_number: str | None = None
    invoice_date: str | None = None
    type_code: str | None = None  # UNTDID 1001: 380 invoice, 381 credit note, 384 correction, 389 self-billing
    delivery_date: str | None = None
    delivery_period: tuple[str | None, str | None] | None = None
    items: tuple[Item, ...] = ()
    tax_lines: tuple[TaxLine, ...] = ()
    total_net: Decimal | None = None
    total_tax: Decimal | None = None
    total_gross: Decimal | None = None
    currency: str | None = None
    notes: str = ""  # invoice notes, exemption reasons, payment terms: where "Steuerschuldnerschaft …" stands
    structured: bool = False  # True when read from e-invoice XML (fields by business term), False from text
