"""The two sides of the open-item ledger: receivables (customers, outgoing invoices) and payables
(vendors, incoming invoices). One code path serves both; a Side says what differs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Side:
    code: str  # AR | AP: the key segment of every stored item
    partner: str  # customer | vendor
    partner_field: str  # customer_id | vendor_id in invoice bodies and filters
    first_number: int  # DATEV: Debitoren 10000–69999, Kreditoren 70000–99999
    last_number: int
    default_account_type: str  # a customer's default account is revenue, a vendor's expense
    open_item_category: str  # chart category of the open-item accounts: receivable | payable
    open_item_account: dict[str, str]  # the chart's Forderungen / Verbindlichkeiten aus L+L
    tax_direction: str  # output (USt) for outgoing invoices, input (VSt) for incoming ones
    numbers_per_partner: bool  # an incoming invoice number is unique per vendor only
    label: str  # booking text
    credit_label: str

    @property
    def open_on_debit(self) -> bool:
        """An invoice of this side is open on the debit of its open-item account (a receivable)."""
        return self.code == "AR"


RECEIVABLES = Side("AR", "customer", "customer_id", 10000, 69999, "revenue", "receivable",
                   {"skr03": "1400", "skr04": "1200"}, "output", False, "Ausgangsrechnung", "Gutschrift")
PAYABLES = Side("AP", "vendor", "vendor_id", 70000, 99999, "expense", "payable",
                {"skr03": "1600", "skr04": "3300"}, "input", True, "Eingangsrechnung", "Gutschrift des Lieferanten")
SIDES = {s.code: s for s in (RECEIVABLES, PAYABLES)}
