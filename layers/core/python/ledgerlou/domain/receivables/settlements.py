"""Settlements: an intent that settles one or more open items, each by an amount.

The one way anything settles an open item (bank reconciliation, match groups, payment runs, a credit
note set off against an invoice): ``settle`` books the settling intent through the journal's booking
path with ``settles: [{side, invoice_id, invoice_intent_id, account, amount, base_amount, kind}]``
inside it. The open amount is checked in the append against the state the block builds on (two
settlements racing for the last euro cannot both win); the projector then lowers the remaining
amount, and a reversal (Storno) of the settling intent reopens the items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerlou.domain.caller import Caller as AuthContext
from ledgerlou.domain.journal import appender as ledger
from ledgerlou.domain.journal import booking as journal_booking
from ledgerlou.domain.receivables import invoices, open_items, projection
from ledgerlou.domain.receivables.sides import SIDES
from ledgerlou.errors import (
    InvalidInput,
    InvoiceCancelled,
    NotFound,
    SettlementAmountMismatch,
    SettlementExceedsOpenAmount,
)
from ledgerlou.models.journal import BookingRequest
from ledgerlou.store.receivables import invoices as store

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OpenItemAmount:
    """Settle the open item of invoice ``invoice_id`` (side AR/AP) by ``amount`` in the invoice's
    currency; ``base_amount`` is the base-currency part (default: the amount for a base-currency
    invoice, the invoice's own rate for a foreign one)."""

    side: str
    invoice_id: str
    amount: Decimal
    base_amount: Decimal | None = None


def find_by_intent(tenant_id: str, intent_id: str) -> tuple[str, str] | None:
    """(side, invoice id) of the open item an invoice booking ``intent_id`` opened (or that links it)."""
    return store.get_link(tenant_id, intent_id)


@dataclass
class Prepared:
    """A checked settlement: its booking, the ``settles`` annotation, the check to run in the append."""

    booking: BookingRequest
    settles: list[dict[str, Any]]
    check: Callable[[ledger.JournalState], None]
    mirror: bool


def prepare(ctx: AuthContext, items: list[OpenItemAmount], booking: BookingRequest, kind: str = "payment",
            mirror: bool = False, states: dict[tuple[str, str], dict[str, Any]] | None = None) -> Prepared:
    """Every check of ``settle`` that needs no journal state, and the one that does (``check``, to run
    inside the append). ``mirror``: the booking is booked with debit and credit swapped in every entry
    (post_bookings ``mirror``: a tax-coded line then corrects the tax as a credit note does, §17 UStG);
    its open-item accounts are checked on the sides it will really post. ``states``: the invoices'
    current states, (side, invoice id) → state, when the caller has read them already (a batch)."""
    if not items:
        raise InvalidInput.field("items", "at least one open item is required")
    settles: list[dict[str, Any]] = []
    per_account: dict[tuple[str, bool], Decimal] = defaultdict(Decimal)  # (account, closes on debit) → base
    numbers: dict[str, str] = {}  # invoice id → invoice number
    for i, item in enumerate(items):
        field = f"items[{i}]"
        side = SIDES.get(item.side)
        if side is None:
            raise InvalidInput.field(f"{field}.side", "must be AR or AP")
        if item.amount <= 0 or item.amount != item.amount.quantize(CENT):
            raise InvalidInput.field(f"{field}.amount", "must be greater than 0, with at most 2 decimals")
        known = (states or {}).get((side.code, item.invoice_id))
        state = known if known is not None else invoices.require_state(ctx, side, item.invoice_id)
        if state["cancelled"]:
            raise InvoiceCancelled(f"Invoice {state['id']} is cancelled.",
                                   details=[{"field": f"{field}.invoice_id", "issue": "cancelled"}])
        base = item.base_amount
        if base is None:
            base = item.amount if state["currency"] == ctx.base_currency else (
                item.amount * Decimal(state["base_total"]) / Decimal(state["total_gross"])).quantize(
                CENT, rounding=ROUND_HALF_UP)
        closes_on_debit = side.open_on_debit == (state["type"] == "credit_note")
        numbers[state["id"]] = state["invoice_number"]
        per_account[(state["open_item_account"], closes_on_debit)] += base
        settles.append({"side": side.code, "invoice_id": state["id"], "invoice_intent_id": state["intent_id"],
                        "account": state["open_item_account"], "amount": str(item.amount),
                        "base_amount": str(base), "kind": kind})
    _check_booking(booking, per_account, mirror)
    if booking.external_reference is None and len(numbers) == 1:
        # DATEV matches a payment to its open item by Belegfeld 1: the invoice number
        booking = booking.model_copy(update={"external_reference": next(iter(numbers.values()))})

    def check(state: ledger.JournalState) -> None:
        wanted: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for s in settles:
            wanted[(s["side"], s["invoice_id"])] += Decimal(s["amount"])
        # The states on top of this block's journal state, read in batches: a payment run settles up
        # to 1,000 invoices, and one read (and one walk of the tail) per invoice made that seconds
        current: dict[tuple[str, str], dict[str, Any]] = {}
        for side_code in sorted({side for side, _i in wanted}):
            ids = [i for side, i in wanted if side == side_code]
            got = projection.current_states(ctx.tenant_id, side_code, ids, state.tail)
            current.update({(side_code, i): st for i, st in got.items()})
        for (side_code, invoice_id), amount in wanted.items():
            now = current.get((side_code, invoice_id))
            if now is None:
                raise NotFound(f"Invoice {invoice_id} not found.")
            if now["cancelled"]:
                raise InvoiceCancelled(f"Invoice {invoice_id} is cancelled.")
            left = open_items.unsigned_remaining(now)
            if amount > left:
                raise SettlementExceedsOpenAmount(f"Invoice {now['invoice_number']} has {left} {now['currency']} "
                                                  f"open; a settlement of {amount} exceeds it.",
                                                  details=[{"field": "amount", "issue": f"exceeds the open {left}"}])

    return Prepared(booking, settles, check, mirror)


def settle(ctx: AuthContext, items: list[OpenItemAmount], booking: BookingRequest, source: str = "api",
           kind: str = "payment", appender: ledger.Appender | None = None, *, intent_id: str | None = None,
           mirror: bool = False, annotate: dict[str, Any] | None = None) -> str:
    """Book ``booking`` as the intent that settles ``items``; returns its intent id.

    The booking must move exactly the settled base amounts off each open-item account, on the side
    that closes it (a receivable is credited, a payable debited; a credit note the other way):
    400 SETTLEMENT_AMOUNT_MISMATCH otherwise. More than an item's remaining amount: 400
    SETTLEMENT_EXCEEDS_OPEN_AMOUNT; a cancelled invoice: 409 INVOICE_CANCELLED. ``intent_id``: the
    caller's derived id of the intent; ``annotate``: more facts for the intent (bank reconciliation:
    which transactions it books)."""
    return post(ctx, prepare(ctx, items, booking, kind, mirror), source, appender, intent_id=intent_id,
                annotate=annotate)


def post(ctx: AuthContext, p: Prepared, source: str = "api", appender: ledger.Appender | None = None, *,
         intent_id: str | None = None, annotate: dict[str, Any] | None = None,
         fx_lines: dict[int, tuple[str, Decimal]] | None = None) -> str:
    """Book a prepared settlement (``prepare``): the second half of ``settle``, for callers that must
    check everything before they write anything of their own (bank reconciliation claims the bank
    transaction in between). ``fx_lines``: the lines' own foreign amounts (journal post_bookings)."""
    [(booked, _count)] = journal_booking.post_bookings(
        ctx, [p.booking], source, appender, annotate=[{"settles": p.settles, **(annotate or {})}], check=p.check,
        mirror=[p.mirror] if p.mirror else None, intent_ids=[intent_id] if intent_id else None,
        fx_lines=[fx_lines] if fx_lines else None)
    return booked


def _check_booking(booking: BookingRequest, per_account: dict[tuple[str, bool], Decimal], mirror: bool = False
                   ) -> None:
    posted: dict[tuple[str, bool], Decimal] = defaultdict(Decimal)
    for ln in booking.lines:
        amount = journal_booking._fx_to_base(ln.amount, booking.fx) if booking.fx else ln.amount
        posted[(ln.account_debit, not mirror)] += amount
        posted[(ln.account_credit, mirror)] += amount
    for (account, on_debit), base in per_account.items():
        got = posted.get((account, on_debit), ZERO)
        if got != base:
            side = "debit" if on_debit else "credit"
            raise SettlementAmountMismatch(f"The settling booking posts {got} to the {side} of {account}; the "
                                           f"settled open items need exactly {base}.",
                                           details=[{"field": "lines", "issue": f"{side} of {account} must be {base}"}])
