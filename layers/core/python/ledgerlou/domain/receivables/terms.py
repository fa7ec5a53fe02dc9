"""Payment terms (Zahlungsbedingungen) of an invoice: Skonto and net days.

Stored on the invoice's record (and so on its state) as plain JSON: ``{"skonto_percent": "2.00",
"skonto_days": 10, "net_days": 30, "text": ...}``. The Skonto period runs from the invoice date
through invoice_date + skonto_days (inclusive, the German reading of "innerhalb 10 Tagen"). The
discount is taken on the amount still open when it is paid within that period.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def stored(terms: Any) -> dict[str, Any] | None:
    """The record form of a request's PaymentTerms (None when absent or empty)."""
    if terms is None:
        return None
    out = {"skonto_percent": str(terms.skonto_percent) if terms.skonto_percent is not None else None,
           "skonto_days": terms.skonto_days, "net_days": terms.net_days, "text": terms.text}
    return out if any(v is not None for v in out.values()) else None


def default_due_date(invoice_date: dt.date, terms: Any) -> dt.date:
    if terms is not None and terms.net_days is not None:
        return invoice_date + dt.timedelta(days=terms.net_days)
    return invoice_date


def skonto_until(state: dict[str, Any]) -> dt.date | None:
    terms = state.get("payment_terms") or {}
    if terms.get("skonto_percent") is None or terms.get("skonto_days") is None:
        return None
    return dt.date.fromisoformat(state["invoice_date"]) + dt.timedelta(days=int(terms["skonto_days"]))


def discount(state: dict[str, Any], amount: Decimal, paid_on: dt.date) -> Decimal:
    """The Skonto on paying ``amount`` (the open amount) on ``paid_on``: 0 outside the period."""
    until = skonto_until(state)
    if until is None or paid_on > until or amount <= 0:
        return Decimal("0.00")
    percent = Decimal(state["payment_terms"]["skonto_percent"])
    return (amount * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def view(state: dict[str, Any]) -> dict[str, Any] | None:
    terms = state.get("payment_terms")
    if not terms:
        return None
    until = skonto_until(state)
    percent = terms.get("skonto_percent")
    return {"skonto_percent": Decimal(percent) if percent is not None else None,
            "skonto_days": terms.get("skonto_days"), "net_days": terms.get("net_days"), "text": terms.get("text"),
            "skonto_until": until.isoformat() if until else None}
