"""The journal's records as the booking path builds them: frozen, so nothing changes them once built.

An ``Entry`` is one journal line (Buchungszeile: debit account, credit account, amount) before the
appender numbers and chains it, an ``Intent`` what the entries of one booking mean together; ``to_item``
gives the mapping the block stores (and, for entries, the chain hashes: ``domain.chain.canonical``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Entry:
    id: str
    intent_id: str
    booking_date: str  # YYYY-MM-DD
    account_debit: str
    account_credit: str
    amount: str  # in the base currency, canonical text with two decimals (chain.canonical.format_amount)
    currency: str
    description: str
    created_at: str
    created_by: str
    source: str
    document_id: str | None
    reverses_intent_id: str | None
    line_index: int | None
    tax_code: str | None
    role: str  # "main" | "tax"
    fx_amount: str | None = None  # the line's amount in its foreign currency, for bookings with fx
    fx_currency: str | None = None
    # a credit note's entries are booked with debit and credit swapped, as a Storno is; tax sums count
    # them negative (journal.projector.tax_sums). Stored only when set, so other entries keep their shape.
    mirrored: bool = False

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self.id, "intent_id": self.intent_id, "booking_date": self.booking_date,
            "account_debit": self.account_debit, "account_credit": self.account_credit, "amount": self.amount,
            "currency": self.currency, "description": self.description, "created_at": self.created_at,
            "created_by": self.created_by, "source": self.source, "document_id": self.document_id,
            "reverses_intent_id": self.reverses_intent_id, "line_index": self.line_index,
            "tax_code": self.tax_code, "role": self.role,
        }
        if self.fx_amount is not None:
            item.update(fx_amount=self.fx_amount, fx_currency=self.fx_currency)
        if self.mirrored:
            item["mirrored"] = True
        return item


@dataclass(frozen=True, kw_only=True)
class Intent:
    """What a booking, an opening balance or a reversal means as a whole (Buchungssatz): its lines, who
    booked it through which channel, and what the audit view shows. Its entries carry its ``intent_id``.
    The nested mappings (provenance, lines, fx, reversal) are built once and never changed."""

    intent_id: str
    kind: str  # "booking" | "opening_balance" | "reversal"
    booking_date: str
    description: str
    external_reference: str | None
    custom_metadata: dict[str, Any] | None
    document_id: str | None
    source: str
    created_at: str
    created_by: str
    created_by_label: str
    provenance: dict[str, Any]
    fingerprint: str | None  # the duplicate rule's hash; None when the check was skipped
    duplicate_override: bool
    adjustment_period: int | None
    fx: dict[str, Any] | None
    reverses_intent_id: str | None
    reversal: dict[str, Any] | None
    lines: list[dict[str, Any]]
    total_amount: str | None
    currency: str | None

    def to_item(self) -> dict[str, Any]:
        """The mapping the block stores, members in field order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
