"""The journal's records as the booking path builds them: frozen, so nothing changes them once built.

An ``Entry`` is one journal line (Buchungszeile: debit account, credit account, amount) before the
appender numbers and chains it; ``to_item`` gives the mapping the block stores and the chain hashes
(``domain.chain.canonical``). Intents are still mappings (``booking.build_booking``).
"""

from __future__ import annotations

from dataclasses import dataclass
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
        return item
