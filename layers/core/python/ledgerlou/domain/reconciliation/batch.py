"""Batch reconcile: up to 100 (bank transaction, target) pairs, each on its own.

Each pair is checked, claimed and booked with the same rules as a single reconcile
(domain/reconciliation/matching.py) and fails alone: a refused pair is reported in ``errors`` and the
others go on. What makes it faster than 100 requests is sharing, never skipping a check:

- reads: the transactions are located with one Query per (account, month) and read with one
  BatchGetItem of their pages; the match records with one BatchGetItem; bank accounts once;
- claims: the pairs' status changes go into TransactWriteItems of CLAIM_CHUNK pairs (a page and a
  counter written once per chunk, not once per pair). A pair whose own condition fails (a racing
  request claimed its transaction first) is dropped from the chunk and the rest is written again;
- bookings: the settlement intents are appended BOOK_CHUNK to a journal block. The builder checks
  every pair against the state the block builds on (period lock, cancelled invoice, open amount —
  counting what earlier pairs of the same block settle on the same invoice) and leaves out the pairs
  that fail, so they fail alone; their claims are released afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ledgerlou.domain.caller import Caller
from ledgerlou.domain.journal import appender as ledger
from ledgerlou.domain.journal import booking as journal_booking
from ledgerlou.domain.receivables import invoices, open_items, projection
from ledgerlou.domain.receivables.sides import SIDES
from ledgerlou.domain.reconciliation import matching
from ledgerlou.domain.reconciliation.matching import Plan, Tx
from ledgerlou.errors import (
    BankTxNotOpen,
    DomainError,
    IntentAlreadyLinked,
    InvoiceCancelled,
    NotFound,
    SettlementExceedsOpenAmount,
)
from ledgerlou.models.reconciliation import BatchReconcileIn
from ledgerlou.store.bank import pages
from ledgerlou.store.base import now_iso
from ledgerlou.store.reconciliation import matches

CLAIM_CHUNK = 25  # ≤ 3 operations a pair + pages + counters: within one TransactWriteItems (100)
BOOK_CHUNK = 25  # settlement intents per journal block (well below the block size limit)


class _NothingLeft(Exception):
    """Every pair of a block failed its check: nothing to append."""


Claimed = tuple[int, Plan, matches.Match]


def batch_reconcile(ctx: Caller, body: BatchReconcileIn, appender: ledger.Appender | None = None) -> dict[str, Any]:
    errors: dict[int, tuple[str, DomainError]] = {}
    plans = _plan_all(ctx, body, errors)
    claimed = _claim_all(ctx, plans, errors)
    booked = _book_all(ctx, [c for c in claimed if c[1].mode == "settlement"], errors, appender)
    reconciled = [{"bank_transaction_id": p.t.id, "intent_id": p.target_intent_id, "mode": "link"}
                  for i, p, _after in claimed if p.mode == "link"]
    reconciled += [{"bank_transaction_id": p.t.id, "intent_id": str(after.intent_id), "mode": "settlement"}
                   for i, p, after in booked]
    order = {p.t.id: i for i, p, _after in claimed}
    reconciled.sort(key=lambda r: order[r["bank_transaction_id"]])
    return {"reconciled": reconciled,
            "errors": [{"index": i, "bank_transaction_id": tx_id, "code": ex.code, "message": ex.message}
                       for i, (tx_id, ex) in sorted(errors.items())]}


Errors = dict[int, tuple[str, DomainError]]


def _plan_all(ctx: Caller, body: BatchReconcileIn, errors: Errors) -> list[tuple[int, Plan]]:
    ids = [p.bank_transaction_id.lower() for p in body.pairs]
    wheres = pages.locate_many(ctx.tenant_id, ids)
    rows = pages.get_many_at(ctx.tenant_id, list(set(wheres.values())))
    records = matches.get_matches(ctx.tenant_id, list(wheres))
    reads = _prefetch(ctx, body)
    seen_tx: set[str] = set()
    seen_link: set[str] = set()
    out: list[tuple[int, Plan]] = []
    for i, pair in enumerate(body.pairs):
        tx_id = ids[i]
        try:
            where = wheres.get(tx_id)
            tx = rows.get(where) if where else None
            if where is None or tx is None:
                raise NotFound(f"Bank transaction {tx_id} not found.")
            if tx_id in seen_tx:
                raise BankTxNotOpen(f"Bank transaction {tx_id} is in this batch twice; it is reconciled once.")
            seen_tx.add(tx_id)
            t = Tx(tx, where, records.get(tx_id) or matching._blank(tx))
            if t.match.state in ("claimed", "unmatching"):
                t = matching.resolve(ctx, t)
            p = matching.plan(ctx, t, pair, reads)
            if p.mode == "link":
                if p.target_intent_id in seen_link:
                    raise IntentAlreadyLinked(f"Intent {p.target_intent_id} is linked by another pair of this batch.")
                seen_link.add(p.target_intent_id)
            out.append((i, p))
        except DomainError as ex:
            errors[i] = (tx_id, ex)
    return out


def _prefetch(ctx: Caller, body: BatchReconcileIn) -> matching.Reads:
    """The open items of every settlement pair: their links in one BatchGetItem, their states in one
    per side, the journal's unprojected tail read once and folded in for all."""
    from ledgerlou.domain.journal import reads as journal_reads
    from ledgerlou.domain.receivables import projection
    from ledgerlou.store.receivables import invoices as invoice_store

    reads = matching.Reads()
    wanted = [p.intent_id.lower() for p in body.pairs if p.candidate_kind in matching.KINDS]
    if not wanted:
        return reads
    reads.links = invoice_store.get_links(ctx.tenant_id, wanted)
    tail = journal_reads.tail(ctx.tenant_id)
    for side in {s for s, _i in reads.links.values()}:
        ids = [i for s, i in reads.links.values() if s == side]
        found = projection.current_states(ctx.tenant_id, side, ids, tail)
        reads.states.update({(side, i): st for i, st in found.items()})
    return reads


def _claim_all(ctx: Caller, plans: list[tuple[int, Plan]], errors: dict[int, tuple[str, DomainError]]
               ) -> list[Claimed]:
    claimed: list[Claimed] = []
    for start in range(0, len(plans), CLAIM_CHUNK):
        pending = plans[start : start + CLAIM_CHUNK]
        while pending:
            built = [(i, p, *matching.claim_change(ctx, p)) for i, p in pending]
            try:
                pages.change_statuses(ctx.tenant_id, [b[2] for b in built])
                claimed.extend((i, p, after) for i, p, _change, after in built)
                break
            except pages.ExtraConditionFailed as ex:
                refused = set(ex.failed)
            except pages.StatusMismatch as ex:
                refused = {ex.change if ex.change is not None else 0}
            for k in refused:
                i, p = pending[k]
                linked = p.mode == "link" and matches.is_linked(ctx.tenant_id, p.target_intent_id)
                lost: DomainError = IntentAlreadyLinked(
                    f"Intent {p.target_intent_id} was matched to another bank transaction a moment ago.") \
                    if linked else matching._lost(p.t)
                errors[i] = (p.t.id, lost)
            pending = [x for k, x in enumerate(pending) if k not in refused]
    return claimed


def _book_all(ctx: Caller, claimed: list[Claimed], errors: dict[int, tuple[str, DomainError]],
              appender: ledger.Appender | None) -> list[Claimed]:
    if not claimed:
        return []
    lookup = journal_booking._Accounts(ctx)
    booked: list[Claimed] = []
    failed: list[Claimed] = []
    for start in range(0, len(claimed), BOOK_CHUNK):
        chunk = claimed[start : start + BOOK_CHUNK]
        built = []
        for c in chunk:
            i, p, after = c
            assert p.prepared is not None and after.intent_id is not None
            try:
                intent, entries = journal_booking.build_booking(ctx, p.prepared.booking, matching.SOURCE, -1, lookup,
                                                                intent_id=after.intent_id)
            except DomainError as ex:
                errors[i] = (p.t.id, ex)
                failed.append(c)
                continue
            item = {**intent.to_item(), "settles": p.prepared.settles, **matching.bank_match(p, after.version)}
            built.append((c, intent, item, [e.to_item() for e in entries]))
        refused: dict[int, DomainError] = {}

        def build(state: ledger.JournalState, built: list[Any] = built, refused: dict[int, DomainError] = refused
                  ) -> ledger.Draft:
            refused.clear()
            used: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
            keep = []
            current: dict[tuple[str, str], dict[str, Any]] = {}
            for side in {c[0][1].invoice[0] for c in built if c[0][1].invoice}:
                ids = [c[0][1].invoice[1] for c in built if c[0][1].invoice and c[0][1].invoice[0] == side]
                current.update({(side, i): st for i, st in projection.current_states(
                    ctx.tenant_id, side, ids, state.tail).items()})
            for (i, p, _after), intent, item, entries in built:
                try:
                    journal_booking._check_locks(state, [intent.booking_date])
                    assert p.invoice is not None
                    now = current.get(p.invoice) or invoices.require_state(ctx, SIDES[p.invoice[0]], p.invoice[1],
                                                                           state.tail)
                    if now["cancelled"]:
                        raise InvoiceCancelled(f"Invoice {now['invoice_number']} is cancelled.")
                    left = open_items.unsigned_remaining(now) - used[p.invoice]
                    if p.amount > left:
                        raise SettlementExceedsOpenAmount(
                            f"Invoice {now['invoice_number']} has {left} {now['currency']} open; the transaction's "
                            f"{p.amount} exceeds it.")
                    used[p.invoice] += p.amount
                    keep.append((item, entries))
                except DomainError as ex:
                    refused[i] = ex
            if not keep:
                raise _NothingLeft()
            return ledger.Draft("bookings", [k[0] for k in keep], [k[1] for k in keep])

        try:
            (appender or ledger.APPENDER).append(ctx.tenant_id, build)
        except _NothingLeft:
            pass
        except DomainError as ex:  # the whole block refused (e.g. the journal too busy): every pair of it
            for c, *_rest in built:
                refused[c[0]] = ex
        for c, *_rest in built:
            if c[0] in refused:
                errors[c[0]] = (c[1].t.id, refused[c[0]])
                failed.append(c)
            else:
                booked.append(c)
    matches.put_many(ctx.tenant_id, [replace(after, state="matched", updated_at=now_iso()) for _i, _p, after in booked])
    _release_all(ctx, failed)
    return booked


def _release_all(ctx: Caller, failed: list[Claimed]) -> None:
    for start in range(0, len(failed), CLAIM_CHUNK):
        chunk = failed[start : start + CLAIM_CHUNK]
        changes = []
        for _i, p, after in chunk:
            cleared = replace(after, state="none", mode=None, intent_id=None, candidate_kind=None,
                              open_item_account=None, target_intent_id=None, updated_at=now_iso(), extra={})
            ops = [matches.claim_op(ctx.tenant_id, after, cleared)]
            if after.intent_id:
                ops.append(matches.unlink_op(ctx.tenant_id, after.intent_id))
            changes.append(pages.StatusChange(p.t.where, "unreconciled", "reconciled", ops))
        try:
            pages.change_statuses(ctx.tenant_id, changes)
        except (pages.ExtraConditionFailed, pages.StatusMismatch):
            for change in changes:  # one at a time; a claim left over is released by recovery later
                try:
                    pages.change_statuses(ctx.tenant_id, [change])
                except (pages.ExtraConditionFailed, pages.StatusMismatch):
                    pass
