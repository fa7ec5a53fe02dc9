"""GET /v1/bank-transactions/suggestions: candidates for a bank account's unreconciled transactions.

The reads of one request, none of which grows with the number of open items:

1. the account's unreconciled transactions (status strings, then only pages holding one), paged
   by ``limit``/``offset`` in booking order;
2. the partners of the sides the page needs (one Query each: payers are found by IBAN and name);
3. the candidate index by key (BatchGetItem): each transaction's amount and Skonto-gross amounts,
   its purpose's reference tokens, its payer's partners — cards, scored without reading an invoice;
4. the journal's blocks not yet projected (normally none): the candidates they change are read as
   they are now (projection + tail), the others are what the projection says (the index is written
   in the same projector step as the invoices; a card from a projector that lost a race to another
   can lag, which the reconcile itself never trusts: it checks the open amount in the append);
5. the bank ledger account's entries of the page's months (one Query per month) for the
   ``booking`` candidates, minus the intents bank transactions claimed already (BatchGetItem).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from ledgerlou.domain.bank import accounts as bank
from ledgerlou.domain.caller import Caller
from ledgerlou.domain.reconciliation import candidate_index
from ledgerlou.domain.reconciliation import suggestions as engine
from ledgerlou.store.bank import pages as page_store
from ledgerlou.store.journal import projections
from ledgerlou.store.receivables import partners as partner_store
from ledgerlou.store.reconciliation import matches

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def _directory(tenant_id: str, side: str) -> engine.PartnerDirectory:
    # deactivated partners too: an invoice of theirs can still be open and paid
    return engine.PartnerDirectory(engine.Partner(p.partner_id, p.name, p.iban, str(int(p.number)))
                                   for p in partner_store.list_all(tenant_id, side))


def _months_around(dates: list[str]) -> list[str]:
    """The months of these dates and the ones before and after (a booking dated across a month end)."""
    out: set[str] = set()
    for d in dates:
        day = dt.date.fromisoformat(d)
        for delta in (-31, 0, 31):
            out.add((day + dt.timedelta(days=delta)).isoformat()[:7])
    return sorted(out)


def _bookings(ctx: Caller, account: Any, txs: list[engine.Tx]) -> dict[Decimal, list[engine.Booking]]:
    """Intents booked on the bank's ledger account that no bank transaction claimed, by their signed
    net amount on it; reversed intents and their reversals are no candidates."""
    from ledgerlou.domain.journal import reads as journal_reads

    if not txs:
        return {}
    ledger = account.ledger_account
    foreign = account.currency != ctx.base_currency
    wanted = {tx.amount for tx in txs}
    entries: dict[int, dict[str, Any]] = {}
    known = set(projections.months(ctx.tenant_id))
    for month in _months_around([tx.booking_date for tx in txs]):
        if month not in known:
            continue
        for item in projections.AccountEntryItem.query(projections.account_entries_pk(ctx.tenant_id, ledger, month),
                                                       consistent_read=True):
            e = json.loads(item.data)
            entries[e["journal_number"]] = e
    tail = journal_reads.tail(ctx.tenant_id)
    refs = {iid: intent.get("external_reference") for iid, (_b, intent) in tail.intents.items()}
    for block in tail.blocks:
        for e in block.entries:
            if ledger in (e["account_debit"], e["account_credit"]):
                entries.setdefault(e["journal_number"], {**e, "external_reference": refs.get(e["intent_id"])})
    net: dict[str, Decimal] = defaultdict(Decimal)
    first: dict[str, dict[str, Any]] = {}
    reversed_: set[str] = set()
    for e in entries.values():
        if e.get("reverses_intent_id"):
            reversed_ |= {e["reverses_intent_id"], e["intent_id"]}
            continue
        raw = e.get("fx_amount") if foreign else None
        if foreign and (raw is None or e.get("fx_currency") not in (None, account.currency)):
            continue  # not booked in the account's currency: not comparable with its transactions
        amount = Decimal(raw if raw is not None else e["amount"])
        net[e["intent_id"]] += amount if e["account_debit"] == ledger else -amount
        first.setdefault(e["intent_id"], e)
    fitting = [iid for iid, amount in net.items() if amount in wanted and iid not in reversed_]
    claimed = matches.linked_among(ctx.tenant_id, fitting) if fitting else set()
    out: dict[Decimal, list[engine.Booking]] = defaultdict(list)
    for iid in fitting:
        if iid in claimed:
            continue
        e = first[iid]
        out[net[iid]].append(engine.Booking(iid, e["booking_date"], net[iid], e.get("description") or "",
                                            e.get("external_reference")))
    return out


def _touched_in_tail(tenant_id: str) -> set[tuple[str, str]]:
    """(side, invoice id) of the invoices that blocks not yet projected change (normally none)."""
    from ledgerlou.domain.journal import reads as journal_reads
    from ledgerlou.domain.receivables import projection

    tail = journal_reads.tail(tenant_id)
    touched: set[tuple[str, str]] = set()
    known: projection.Links = {}
    for block in tail.blocks:
        for ev in projection.block_events(tenant_id, block, known, tail):
            touched.add((ev["side"], ev["invoice_id"]))
    return touched


def _current_states(ctx: Caller, wanted: dict[str, set[str]]) -> dict[tuple[str, str], dict[str, Any] | None]:
    """(side, invoice id) → the invoice as the journal says now (projection + tail)."""
    from ledgerlou.domain.journal import reads as journal_reads
    from ledgerlou.domain.receivables import projection

    tail = journal_reads.tail(ctx.tenant_id)
    return {(side, invoice_id): projection.current_state(ctx.tenant_id, side, invoice_id, tail)
            for side, ids in wanted.items() for invoice_id in sorted(ids)}


def suggestions(ctx: Caller, bank_account_id: str, limit: int = DEFAULT_LIMIT, offset: int = 0
                ) -> tuple[list[dict[str, Any]], int]:
    """(elements of the page's transactions that have candidates or a match-group hint, the number of
    the account's unreconciled transactions — what limit/offset page through)."""
    account = bank.get_account(ctx.tenant_id, bank_account_id)
    months = sorted(account.month_counts or account.month_totals or {})
    rows = page_store.open_transactions(ctx.tenant_id, account.account_id, months)
    total = len(rows)
    txs = [engine.tx_of(r) for r in rows[offset: offset + limit] if r["currency"] == account.currency]
    sides = {tx.side for tx in txs}
    directories = {side: _directory(ctx.tenant_id, side) for side in sides}
    tokens = {tx.id: tx.tokens() for tx in txs}
    bookings = _bookings(ctx, account, txs)
    page = engine.suggest_page(txs, directories, lambda side, keys: candidate_index.lookup(ctx.tenant_id, side, keys),
                               lambda tx: bookings.get(tx.amount, ()), account.currency)
    ranked = {tx_id: got[0] for tx_id, got in page.items()}
    hints = {tx_id: got[1] for tx_id, got in page.items() if got[1]}

    # The index is projected with the invoices, in the same projector step: its cards are what the
    # projection says. What the journal has that the projector has not reached yet (the tail) is
    # folded in for the invoices it touches — those are read as they are now.
    touched = _touched_in_tail(ctx.tenant_id)
    wanted: dict[str, set[str]] = defaultdict(set)
    for tx in txs:
        for s in ranked[tx.id]:
            if s.card is not None and (tx.side, s.key) in touched:
                wanted[tx.side].add(s.key)
        for invoice_id in hints.get(tx.id, {}).get("invoice_ids", ()):
            if (tx.side, invoice_id) in touched:
                wanted[tx.side].add(invoice_id)
    states = _current_states(ctx, wanted) if wanted else {}

    out: list[dict[str, Any]] = []
    for tx in txs:
        directory = directories[tx.side]
        candidates = []
        for s in ranked[tx.id]:
            if s.card is not None and (tx.side, s.key) in touched:
                fresh = engine.card_of(states.get((tx.side, s.key)))
                if fresh is None or fresh.currency != account.currency:
                    continue
                if fresh != s.card:
                    rescored = engine.score_open_item(tx, fresh, tokens[tx.id], directory.by_id.get(fresh.partner_id))
                    if rescored is None:
                        continue
                    s = rescored
            candidates.append(_candidate(s, directory))
        candidates.sort(key=lambda c: -c["confidence"])  # a rescored one may have moved
        hint = _checked_hint(tx, hints.get(tx.id), states, touched)
        if candidates or hint:
            out.append({"bank_transaction_id": tx.id, "candidates": candidates, "group_hint": hint})
    return out, total


def _candidate(s: engine.Scored, directory: engine.PartnerDirectory) -> dict[str, Any]:
    if s.booking is not None:
        b = s.booking
        return {"candidate_kind": "booking", "intent_id": b.intent_id, "open_item_account": None,
                "invoice_id": None, "invoice_number": b.external_reference, "partner_id": None, "partner_name": None,
                "amount": abs(b.amount).quantize(engine.CENT), "remaining_amount": None,
                "confidence": s.confidence, "reasons": s.reasons}
    card = s.card
    assert card is not None
    partner = directory.by_id.get(card.partner_id)
    return {"candidate_kind": s.kind, "intent_id": card.intent_id, "open_item_account": card.open_item_account,
            "invoice_id": card.invoice_id, "invoice_number": card.invoice_number, "partner_id": card.partner_id,
            "partner_name": partner.name if partner else card.partner_name,
            "amount": card.total_gross.quantize(engine.CENT), "remaining_amount": card.remaining.quantize(engine.CENT),
            "confidence": s.confidence, "reasons": s.reasons}


def _checked_hint(tx: engine.Tx, hint: dict[str, Any] | None, states: dict[tuple[str, str], dict[str, Any] | None],
                  touched: set[tuple[str, str]]) -> dict[str, Any] | None:
    if hint is None:
        return None
    if not any((tx.side, i) in touched for i in hint["invoice_ids"]):
        return {**hint, "amount": hint["amount"].quantize(engine.CENT)}
    fresh = [engine.card_of(states.get((tx.side, i))) for i in hint["invoice_ids"]]
    cards = [c for c in fresh if c is not None]
    if len(cards) != len(fresh):
        return None
    again = engine.group_hint(tx, cards, tx.tokens())
    if again is None:
        return None
    return {**again, "amount": again["amount"].quantize(engine.CENT)}
