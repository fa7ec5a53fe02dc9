"""The receivables projector: invoices, open items, partner open amounts and the calendar, kept from
the journal's blocks in journal order (called by domain/journal/projector.apply_block for every block).

Exactly once without transactions: a block's effects are applied derived-first — list rows, claims
and open-item rows (idempotent puts and deletes), then the calendar and each partner (UpdateItems
guarded by ``applied_seq < seq``), and last the invoice states (conditional on the state read). A
crash anywhere leaves the invoice states behind, so the replay recomputes the same transitions, and
the guards make the counters skip what they had already taken.

Reads that must see a write at once (GET an invoice or a partner, the checks of a new invoice or
settlement) fold the blocks not yet projected on top of the stored state with the same functions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from ledgerlou.domain.journal import appender as ledger
from ledgerlou.domain.receivables import open_items
from ledgerlou.domain.receivables.sides import Side
from ledgerlou.store.journal import blocks as journal_store
from ledgerlou.store.receivables import invoices as store
from ledgerlou.store.receivables import partners as partner_store

CONTROL_ACTION = "receivables"
Links = dict[str, tuple[str, str]]


# ------------------------------------------------------------------------------------- events
def block_events(tenant_id: str, block: journal_store.Block, known: Links | None = None,
                 tail: ledger.TailIndex | None = None) -> list[dict[str, Any]]:
    """The receivables facts of one block, in order. ``known`` collects intent → invoice links of the
    blocks seen so far (a reversal in the same unprojected tail as the invoice it cancels)."""
    known = known if known is not None else {}
    events: list[dict[str, Any]] = []
    for intent in block.intents:
        inv = intent.get("invoice")
        if inv:
            known[intent["intent_id"]] = (inv["side"], inv["id"])
            events.append({"type": "open", "side": inv["side"], "invoice_id": inv["id"],
                           "invoice": {**inv, "intent_id": intent["intent_id"]}})
        for s in intent.get("settles") or ():
            events.append({"type": "settle", "side": s["side"], "invoice_id": s["invoice_id"],
                           "intent_id": intent["intent_id"], "amount": s["amount"], "base_amount": s["base_amount"],
                           "date": intent["booking_date"], "kind": s["kind"]})
        if intent.get("reverses_intent_id"):
            events.extend(_reversal_events(tenant_id, intent["reverses_intent_id"], intent["intent_id"], known, tail))
    control = block.payload.get("control") or {}
    if control.get("action") == CONTROL_ACTION:
        for ev in control.get("events", []):
            if ev["type"] == "open":
                known[ev["invoice"]["intent_id"]] = (ev["side"], ev["invoice_id"])
            elif ev["type"] == "relink":
                known[ev["intent_id"]] = (ev["side"], ev["invoice_id"])
            events.append(ev)
    return events


def _reversal_events(tenant_id: str, original: str, reversal: str, known: Links,
                     tail: ledger.TailIndex | None) -> list[dict[str, Any]]:
    from ledgerlou.domain.journal import reads as journal_reads  # it imports this package

    out: list[dict[str, Any]] = []
    link = known.get(original) or store.get_link(tenant_id, original)
    if link is not None:
        out.append({"type": "cancel", "side": link[0], "invoice_id": link[1], "intent_id": original,
                    "reversal_intent_id": reversal})
    found = journal_reads.find_intent(tenant_id, original, tail)
    if found is not None:
        for s in found[1].get("settles") or ():
            out.append({"type": "unsettle", "side": s["side"], "invoice_id": s["invoice_id"], "intent_id": original,
                        "reversal_intent_id": reversal})
    return out


def control_draft(events: list[dict[str, Any]]) -> ledger.Draft:
    """A journal block without entries that records receivables facts (a link, a PATCH)."""
    return ledger.Draft("control", [], [], control={"action": CONTROL_ACTION, "events": events})


# ------------------------------------------------------------------------------------- projecting
def apply_block(tenant_id: str, block: journal_store.Block) -> None:
    events = block_events(tenant_id, block)
    if not events:
        return
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for ev in events:
        grouped.setdefault((ev["side"], ev["invoice_id"]), []).append(ev)
    stored: dict[tuple[str, str], tuple[dict[str, Any], int]] = {}
    for side in {k[0] for k in grouped}:
        found = store.get_states(tenant_id, side, [k[1] for k in grouped if k[0] == side])
        stored.update({(side, invoice_id): got for invoice_id, got in found.items()})
    transitions = []
    for key, evs in grouped.items():
        old, applied = stored.get(key, (None, None))
        if applied is not None and applied >= block.seq:
            continue
        new = open_items.reduce_all(old, evs)
        if new is not None:
            transitions.append((key[0], old, new, applied))
    rows, claims, links = [], [], []
    numbers: dict[str, dict[str, str]] = defaultdict(dict)  # month → {linked intent: invoice number}
    day_deltas: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    month_deltas: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    day_sets: dict[tuple[str, str], tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    partner_deltas: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for side, old, new, _applied in transitions:
        rows.append((side, new, open_items.row(new)))
        if old is None:
            month_deltas[side][new["invoice_date"][:7]] += 1
            claims.append((side, new["number_scope"], new["invoice_number"], new["id"]))
        if old is None or old["intent_id"] != new["intent_id"]:
            links.append((new["intent_id"], side, new["id"]))
            if new.get("booked_on"):  # a linked booking: DATEV's Belegfeld 1 gets the invoice number
                numbers[new["booked_on"][:7]][new["intent_id"]] = new["invoice_number"]
        was, now = open_items.is_open(old), open_items.is_open(new)
        old_day, new_day = (old or {}).get("due_date"), new["due_date"]
        if was and old_day and (not now or old_day != new_day):
            day_sets[(side, old_day)][1].add(new["id"])
            day_deltas[side][old_day] -= 1
        if now and not (was and old_day == new_day):
            day_sets[(side, new_day)][0].add(new["id"])
            day_deltas[side][new_day] += 1
        partner_deltas[(side, new["partner_id"])] += open_items.open_base(new) - open_items.open_base(old)
    store.put_derived(tenant_id, rows, claims, links)
    for month, by_intent in numbers.items():
        store.add_linked_numbers(tenant_id, month, by_intent)
    # One write per due day and per partner, whatever the number of invoices behind it (the block's
    # changes are summed above), and those writes batched: a payment run's block settles 1,000 invoices.
    store.change_open(tenant_id, {key: (add - remove, remove - add) for key, (add, remove) in day_sets.items()})
    for side in set(day_deltas) | set(month_deltas):
        store.apply_calendar(tenant_id, side, dict(day_deltas[side]), dict(month_deltas[side]), block.seq)
    partner_store.apply_open_deltas(tenant_id, dict(partner_deltas), block.seq)
    # the match suggestions' candidate index (idempotent set ADD / DELETE, before the states like the rest)
    from ledgerlou.domain.reconciliation import candidate_index

    candidate_index.apply_transitions(tenant_id, [(side, old, new) for side, old, new, _applied in transitions])
    store.put_states(tenant_id, [(side, new, block.seq, applied) for side, _old, new, applied in transitions])


# ------------------------------------------------------------------------------------- reading
def _tail(tenant_id: str, tail: ledger.TailIndex | None) -> ledger.TailIndex:
    from ledgerlou.domain.journal import reads as journal_reads  # it imports this package

    if tail is not None:
        return tail

    return journal_reads.tail(tenant_id)


def current_state(tenant_id: str, side: str, invoice_id: str, tail: ledger.TailIndex | None = None
                  ) -> dict[str, Any] | None:
    """The invoice as the journal says now: the projection plus the blocks not yet projected.

    The tail first, then the state: a block the state does not hold yet was not fully projected when
    the watermark was read, so it is in the tail (read the other way round, a block projected in
    between would be in neither)."""
    index = _tail(tenant_id, tail)
    got = store.get_state(tenant_id, side, invoice_id)
    state, applied = got if got else (None, 0)
    known: Links = {}
    for block in index.blocks:
        events = block_events(tenant_id, block, known, index)
        if block.seq > applied:
            state = open_items.reduce_all(state, [e for e in events if e["side"] == side
                                                  and e["invoice_id"] == invoice_id])
    return state


def current_states(tenant_id: str, side: str, invoice_ids: list[str], tail: ledger.TailIndex | None = None
                   ) -> dict[str, dict[str, Any]]:
    """``current_state`` of many invoices of one side: one BatchGetItem, each block of the tail read
    once (a batch of bank reconciliations)."""
    index = _tail(tenant_id, tail)
    stored = store.get_states(tenant_id, side, invoice_ids)
    states: dict[str, tuple[dict[str, Any] | None, int]] = {i: stored.get(i, (None, 0)) for i in invoice_ids}
    known: Links = {}
    for block in index.blocks:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for ev in block_events(tenant_id, block, known, index):
            if ev["side"] == side and ev["invoice_id"] in states:
                grouped.setdefault(ev["invoice_id"], []).append(ev)
        for invoice_id, evs in grouped.items():
            state, applied = states[invoice_id]
            if block.seq > applied:
                states[invoice_id] = (open_items.reduce_all(state, evs), applied)
    return {i: st for i, (st, _applied) in states.items() if st is not None}


def partner_open_amount(tenant_id: str, side: Side, item: partner_store.PartnerItem,
                        index: ledger.TailIndex) -> Decimal:
    """The partner's open amount now: ``item`` (read after ``index``, see current_state) plus what the
    tail's blocks change that the item does not hold yet."""
    total = item.open_amount or Decimal(0)
    if not index.blocks:
        return total
    partner_applied = int(item.applied_seq or 0)
    states: dict[str, tuple[dict[str, Any] | None, int]] = {}
    known: Links = {}
    for block in index.blocks:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for ev in block_events(tenant_id, block, known, index):
            if ev["side"] == side.code:
                grouped.setdefault(ev["invoice_id"], []).append(ev)
        for invoice_id, evs in grouped.items():
            if invoice_id not in states:
                got = store.get_state(tenant_id, side.code, invoice_id)
                states[invoice_id] = got if got else (None, 0)
            old, applied = states[invoice_id]
            if block.seq <= applied:
                continue  # in the stored state already (and, applied before it, in the partner's sum)
            new = open_items.reduce_all(old, evs)
            states[invoice_id] = (new, applied)
            if new is not None and new["partner_id"] == item.partner_id and block.seq > partner_applied:
                total += open_items.open_base(new) - open_items.open_base(old)
    return total


def linked_intents(tenant_id: str, intent: dict[str, Any]) -> dict[str, list[str]]:
    """The audit view's ``linked_intents``: the invoices' intents this intent settles, and the
    settlements of the invoice this intent books (or that links it)."""
    settles = list(dict.fromkeys(s["invoice_intent_id"] for s in intent.get("settles") or ()))
    settlements: list[str] = []
    inv = intent.get("invoice")
    link = (inv["side"], inv["id"]) if inv else store.get_link(tenant_id, intent["intent_id"])
    if link is not None:
        state = current_state(tenant_id, link[0], link[1])
        if state is not None and state["intent_id"] == intent["intent_id"]:
            settlements = [s["intent_id"] for s in open_items.active_settlements(state)]
    return {"settles_intent_ids": settles, "settlement_intent_ids": settlements}


def invoice_numbers(tenant_id: str, months: list[str], tail: ledger.TailIndex) -> dict[str, str]:
    """intent id → invoice number of the bookings dated in ``months`` that an invoice links (an
    invoice's own booking carries its number as external_reference already): DATEV's Belegfeld 1."""
    out = store.linked_numbers(tenant_id, months)
    wanted = set(months)
    for block in tail.blocks:
        control = block.payload.get("control") or {}
        if control.get("action") != CONTROL_ACTION:
            continue
        for ev in control.get("events", []):
            if ev["type"] == "open" and (ev["invoice"].get("booked_on") or "")[:7] in wanted:
                out[ev["invoice"]["intent_id"]] = ev["invoice"]["invoice_number"]
            elif ev["type"] == "relink" and (ev.get("booked_on") or "")[:7] in wanted:
                out[ev["intent_id"]] = ev["invoice_number"]
    return out


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
