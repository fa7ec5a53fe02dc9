"""An invoice as an open item: its state is a pure fold of the journal's facts about it.

Events (from journal blocks, projection.block_events):

    open      an invoice booked by its own intent, or linking an existing booking ({"invoice": {...}})
    settle    an intent settles it by an amount ({"intent_id", "amount", "base_amount", "date", "kind"})
    unsettle  the settling intent was reversed (Storno): the item reopens by that amount
    cancel    the invoice's own booking was reversed: status cancelled
    relink    a cancelled invoice links its corrected booking: open again
    due_date  / notes: changed by PATCH (recorded in the journal as well, so one writer keeps the order)

The projector (projection.py) folds each block's events into the stored state; reads fold the blocks
not yet projected on top of it, with the same function, so both always agree.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

from ledgerlou.domain.receivables import terms

ZERO = Decimal("0.00")


def reduce(state: dict[str, Any] | None, event: dict[str, Any]) -> dict[str, Any] | None:
    kind = event["type"]
    if kind == "open":
        if state is not None:
            return state  # replay of a block: the invoice exists already
        return {**event["invoice"], "settlements": [], "cancelled": False, "cancelled_by": None}
    if state is None:
        return None
    s = copy.deepcopy(state)
    if kind == "settle":
        s["settlements"].append({k: event[k] for k in ("intent_id", "amount", "base_amount", "date", "kind")}
                                | {"reversed_by": None})
    elif kind == "unsettle":
        for st in s["settlements"]:
            if st["intent_id"] == event["intent_id"] and st["reversed_by"] is None:
                st["reversed_by"] = event["reversal_intent_id"]
    elif kind == "cancel":
        if s["intent_id"] == event["intent_id"] and not s["cancelled"]:
            s["cancelled"], s["cancelled_by"] = True, event["reversal_intent_id"]
    elif kind == "relink":
        s.update(intent_id=event["intent_id"], open_item_account=event["open_item_account"],
                 base_total=event["base_total"], booked_on=event.get("booked_on"), cancelled=False,
                 cancelled_by=None, linked=True)
    elif kind == "due_date":
        s["due_date"] = event["due_date"]
    elif kind == "notes":
        s["notes"] = event["notes"]
    return s


def reduce_all(state: dict[str, Any] | None, events: list[dict[str, Any]]) -> dict[str, Any] | None:
    for event in events:
        state = reduce(state, event)
    return state


# ------------------------------------------------------------------------------------- figures
def sign(state: dict[str, Any]) -> int:
    return -1 if state["type"] == "credit_note" else 1


def active_settlements(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in state["settlements"] if s["reversed_by"] is None]


def settled(state: dict[str, Any]) -> tuple[Decimal, Decimal]:
    """(Σ settled in the document currency, Σ in the base currency) of the settlements in force."""
    active = active_settlements(state)
    return (sum((Decimal(s["amount"]) for s in active), ZERO),
            sum((Decimal(s["base_amount"]) for s in active), ZERO))


def unsigned_remaining(state: dict[str, Any]) -> Decimal:
    if state["cancelled"]:
        return ZERO
    return Decimal(state["total_gross"]) - settled(state)[0]


def remaining(state: dict[str, Any]) -> Decimal:
    """Document currency, signed: a credit note's remaining amount is negative (owed to the partner)."""
    return sign(state) * unsigned_remaining(state)


def open_base(state: dict[str, Any] | None) -> Decimal:
    """What the invoice adds to its partner's open_amount (base currency, signed)."""
    if state is None or state["cancelled"]:
        return ZERO
    return sign(state) * (Decimal(state["base_total"]) - settled(state)[1])


def is_open(state: dict[str, Any] | None) -> bool:
    return state is not None and unsigned_remaining(state) != 0


def status(state: dict[str, Any]) -> str:
    if state["cancelled"]:
        return "cancelled"
    if unsigned_remaining(state) == 0:
        return "paid"
    return "partially_paid" if settled(state)[0] != 0 else "open"


def days_overdue(state: dict[str, Any], today: dt.date) -> int:
    if not is_open(state):
        return 0
    return max(0, (today - dt.date.fromisoformat(state["due_date"])).days)


def _money(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def view(state: dict[str, Any], today: dt.date, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": state["id"], "type": state["type"], "partner_id": state["partner_id"],
        "partner_name": state["partner_name"], "partner_number": state["partner_number"],
        "invoice_number": state["invoice_number"], "invoice_date": state["invoice_date"],
        "due_date": state["due_date"], "currency": state["currency"],
        "exchange_rate": _money(state.get("exchange_rate")), "total_net": Decimal(state["total_net"]),
        "total_tax": Decimal(state["total_tax"]), "total_gross": Decimal(state["total_gross"]),
        "base_total_gross": Decimal(state["base_total"]), "remaining_amount": remaining(state),
        "status": status(state), "days_overdue": days_overdue(state, today), "intent_id": state["intent_id"],
        "open_item_account": state["open_item_account"], "document_id": state.get("document_id"),
        "notes": state.get("notes"), "payment_terms": terms.view(state), "created_at": state["created_at"],
    }
    if full:
        out["lines"] = [{"description": ln.get("description"), "quantity": Decimal(ln["quantity"]),
                         "unit_price": _money(ln.get("unit_price")), "net_amount": Decimal(ln["net_amount"]),
                         "tax_code": ln.get("tax_code"), "account": ln["account"]} for ln in state["lines"]]
        out["settlements"] = [{"intent_id": s["intent_id"], "amount": Decimal(s["amount"]), "date": s["date"],
                               "kind": s["kind"]} for s in active_settlements(state)]
    return out


def row(state: dict[str, Any]) -> dict[str, Any]:
    """What a list row keeps (the state without lines; settlements reduced to their sums)."""
    out = {k: v for k, v in state.items() if k not in ("lines", "settlements")}
    done, done_base = settled(state)
    out["settlements"] = [{"intent_id": "", "amount": str(done), "base_amount": str(done_base), "date": "",
                           "kind": "sum", "reversed_by": None}]
    out["lines"] = []
    return out


def open_item_view(state: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {"invoice_id": state["id"], "invoice_number": state["invoice_number"], "type": state["type"],
            "partner_id": state["partner_id"], "partner_name": state["partner_name"],
            "intent_id": state["intent_id"], "open_item_account": state["open_item_account"],
            "invoice_date": state["invoice_date"], "due_date": state["due_date"],
            "total_gross": Decimal(state["total_gross"]), "remaining_amount": remaining(state),
            "currency": state["currency"], "days_overdue": days_overdue(state, today)}
