"""Periods (months) and their locking: soft-lock, reopen, and the four-eyes Festschreibung.

The lock map is part of the journal: a lock change is appended as a control block, and every booking
validates its dates against the lock map of the block it builds on (appender.py). A booking and a lock
racing each other compete for the same next block, so they cannot both win.

Order rule (documented decision): a period can only be finally locked when every earlier month that
has bookings is finally locked, so that the closing hashes form one chain (each closing commits to
the previous one) and a tax advisor's "festgeschrieben bis" is a single date.

Closing hash (closing_hash): SHA-256 over the JCS object {period, entry_count, entries_digest
(over the audit_hashes of the period's entries in journal order), chain_head, chain_length,
previous_closing_hash} — it commits to every entry of the period and to the whole chain before it.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Final, cast

from ledgerlou.domain.caller import Caller
from ledgerlou.domain.chain.closing import closing_hash, period_entries_digest
from ledgerlou.domain.journal.appender import APPENDER, Appender, Draft, JournalState, read_state
from ledgerlou.errors import (
    FourEyesRequired,
    InvalidInput,
    LockRequestNotPending,
    LockRequestPending,
    NotFound,
    PeriodAlreadySoftLocked,
    PeriodFinallyLocked,
    PeriodLocked,
    PeriodNotLocked,
    PeriodOrder,
)
from ledgerlou.models.periods import (
    LockCancelled,
    Locked,
    LockRequested,
    LockStatus,
    PeriodOut,
    PeriodReopened,
    PeriodState,
    PeriodStatus,
)
from ledgerlou.store.base import now_iso
from ledgerlou.store.journal import projections
from ledgerlou.store.periods import locks as store

PERIOD_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
LOCKED: Final = "locked"
SOFT_LOCKED: Final = "soft_locked"
OPEN: Final = "open"


def check_period(period: str) -> str:
    if not PERIOD_RE.match(period):
        raise InvalidInput.field("period", "must be YYYY-MM")
    return period


def period_number(period: str) -> int:
    return int(period[5:7])


def _state(tenant_id: str) -> JournalState:
    return read_state(tenant_id)


def _booked_months(tenant_id: str, state: JournalState) -> set[str]:
    months = set(projections.months(tenant_id))
    for block in state.tail.blocks:
        months.update(e["booking_date"][:7] for e in block.entries)
    return months


def list_periods(ctx: Caller) -> list[PeriodOut]:
    state = _state(ctx.tenant_id)
    items = {p.period: p for p in store.list_periods(ctx.tenant_id)}
    months = _booked_months(ctx.tenant_id, state) | set(state.locks) | set(items)
    out = []
    for month in sorted(months):
        item = items.get(month)
        status = cast(PeriodStatus, state.locks.get(month, OPEN))  # the model checks it
        out.append(PeriodOut(
            period=month, period_number=period_number(month), year=int(month[:4]), status=status,
            locked_by=item.locked_by if item and status != OPEN else None,
            locked_at=item.locked_at if item and status != OPEN else None,
            approved_by=item.approved_by if item and status == LOCKED else None,
            closing_hash=item.closing_hash if item and status == LOCKED else None,
            has_pending_request=bool(item and item.pending_request_id),
            pending_request_id=item.pending_request_id if item else None,
        ))
    return out


def _append_control(ctx: Caller, build_locks: Any, control: dict[str, Any],
                    appender: Appender | None, facts: dict[str, Any] | None = None) -> None:
    """Append a control block with the lock map ``build_locks(state)`` returns; ``facts`` (filled by
    build_locks, e.g. the closing hash) are recorded in the block next to ``control``."""

    def build(state: JournalState) -> Draft:
        locks = build_locks(state)
        return Draft("control", [], [], locks=locks, control={**control, **(facts or {})})

    (appender or APPENDER).append(ctx.tenant_id, build)


def soft_lock(ctx: Caller, period: str, appender: Appender | None = None) -> PeriodState:
    check_period(period)
    now = now_iso()

    def locks(state: JournalState) -> dict[str, str]:
        status = state.locks.get(period, OPEN)
        if status == LOCKED:
            raise PeriodLocked(f"Period {period} is finally locked (festgeschrieben).")
        if status == SOFT_LOCKED:
            raise PeriodAlreadySoftLocked(f"Period {period} is soft-locked already.")
        return {**state.locks, period: SOFT_LOCKED}

    _append_control(ctx, locks, {"action": "soft_lock", "period": period, "actor": ctx.actor_id,
                                         "at": now}, appender)
    item = store.PeriodItem(*store.period_key(ctx.tenant_id, period))
    item.update(actions=[store.PeriodItem.period.set(period), store.PeriodItem.status.set(SOFT_LOCKED),
                         store.PeriodItem.locked_by.set(ctx.actor_id), store.PeriodItem.locked_at.set(now)])
    return PeriodState(period=period, period_number=period_number(period), status=SOFT_LOCKED,
                       locked_by=ctx.actor_id, locked_at=now)


def reopen(ctx: Caller, period: str, appender: Appender | None = None) -> PeriodReopened:
    check_period(period)

    def locks(state: JournalState) -> dict[str, str]:
        status = state.locks.get(period, OPEN)
        if status == LOCKED:
            raise PeriodFinallyLocked(f"Period {period} is festgeschrieben; a final lock cannot be reopened. "
                                      "Book corrections in an open period.")
        if status == OPEN:
            raise PeriodNotLocked(f"Period {period} is not locked.")
        return {k: v for k, v in state.locks.items() if k != period}

    _append_control(ctx, locks, {"action": "reopen", "period": period, "actor": ctx.actor_id,
                                         "at": now_iso()}, appender)
    item = store.PeriodItem(*store.period_key(ctx.tenant_id, period))
    item.update(actions=[store.PeriodItem.period.set(period), store.PeriodItem.status.set(OPEN),
                         store.PeriodItem.locked_by.remove(), store.PeriodItem.locked_at.remove()])
    return PeriodReopened(period=period, period_number=period_number(period), status=OPEN)


def request_lock(ctx: Caller, period: str) -> LockRequested:
    check_period(period)
    state = _state(ctx.tenant_id)
    if state.locks.get(period) == LOCKED:
        raise PeriodLocked(f"Period {period} is festgeschrieben already.")
    request_id = str(uuid.uuid4())
    if not store.claim_pending(ctx.tenant_id, period, request_id):
        raise LockRequestPending(f"A Festschreibung request for {period} is pending already.")
    now = now_iso()
    store.LockRequestItem(*store.request_key(ctx.tenant_id, request_id), request_id=request_id, period=period,
                          status="pending", requested_by=ctx.actor_id, requested_by_label=ctx.actor_label,
                          created_at=now).save()
    return LockRequested(request_id=request_id, period=period, status="pending", created_at=now,
                         message="Festschreibung requested; another person with periods:approve must approve it.")


def _request(ctx: Caller, period: str, request_id: str) -> store.LockRequestItem:
    check_period(period)
    req = store.get_request(ctx.tenant_id, request_id)
    if req is None or req.period != period:
        raise NotFound("Lock request not found.")
    return req


def cancel_lock(ctx: Caller, period: str, request_id: str) -> LockCancelled:
    req = _request(ctx, period, request_id)
    if req.status != "pending":
        raise LockRequestNotPending(f"The request is {req.status}.")
    if not store.cancel_request(req, ctx.actor_id, now_iso()):
        # approved or cancelled by another request since it was read
        raise LockRequestNotPending("The request is no longer pending.")
    store.release_pending(ctx.tenant_id, period, request_id)
    return LockCancelled(ok=True, request_id=request_id, status="cancelled")


def lock_status(ctx: Caller, period: str) -> LockStatus:
    check_period(period)
    item = store.get_period(ctx.tenant_id, period)
    pending = store.get_request(ctx.tenant_id, item.pending_request_id) if item and item.pending_request_id else None
    return LockStatus(has_pending_request=pending is not None, request_id=pending.request_id if pending else None,
                      requested_by=pending.requested_by if pending else None,
                      created_at=pending.created_at if pending else None)


def _period_hashes(tenant_id: str, period: str, state: JournalState) -> list[tuple[int, str]]:
    hashes: dict[int, str] = {}
    for item in projections.EntryItem.query(projections.entries_pk(tenant_id, period), consistent_read=True):
        e = json.loads(item.data)
        hashes[e["journal_number"]] = e["audit_hash"]
    for block in state.tail.blocks:
        for e in block.entries:
            if e["booking_date"][:7] == period:
                hashes[e["journal_number"]] = e["audit_hash"]
    return sorted((n, h) for n, h in hashes.items() if n <= state.head.last_journal_number)


def _four_eyes(ctx: Caller, requested_by: str) -> None:
    """The approver is another person than the requester: an API key counts as the user who created it
    (api_keys.principal_of), so nobody approves with a key the Festschreibung they requested in person,
    or the other way round."""
    from ledgerlou.domain.admin import api_keys

    if requested_by == ctx.actor_id:
        raise FourEyesRequired("Four-eyes principle: the requester cannot approve their own Festschreibung.")
    person = api_keys.principal_of(ctx.tenant_id, requested_by)
    if person == api_keys.principal_of(ctx.tenant_id, ctx.actor_id):
        raise FourEyesRequired(f"Four-eyes principle: {requested_by} requested the Festschreibung and "
                               f"{ctx.actor_id} approves it, the same person ({person}) through an API key "
                               "they created.")


def approve_lock(ctx: Caller, period: str, request_id: str,
                 appender: Appender | None = None) -> Locked:
    req = _request(ctx, period, request_id)
    if req.status != "pending":
        raise LockRequestNotPending(f"The request is {req.status}.")
    _four_eyes(ctx, req.requested_by)
    now = now_iso()
    result: dict[str, Any] = {}
    previous = _previous_closing(ctx.tenant_id, period)

    def locks(state: JournalState) -> dict[str, str]:
        if state.locks.get(period) == LOCKED:
            raise PeriodLocked(f"Period {period} is festgeschrieben already.")
        earlier = sorted(m for m in _booked_months(ctx.tenant_id, state) if m < period
                         and state.locks.get(m) != LOCKED)
        if earlier:
            raise PeriodOrder(f"Earlier periods must be festgeschrieben first: {', '.join(earlier)}.")
        hashes = _period_hashes(ctx.tenant_id, period, state)
        digest = period_entries_digest(h for _, h in hashes)
        closing = closing_hash(period, len(hashes), digest, state.head.head_hash,
                                     state.head.last_journal_number, previous)
        result.update(closing_hash=closing, chain_length=state.head.last_journal_number, entry_count=len(hashes),
                      entries_digest=digest, chain_head=state.head.head_hash)
        return {**state.locks, period: LOCKED}

    _append_control(ctx, locks, {"action": "lock", "period": period, "request_id": request_id,
                                 "requested_by": req.requested_by, "approved_by": ctx.actor_id, "at": now,
                                 "previous_closing_hash": previous}, appender, result)
    req.update(actions=[store.LockRequestItem.status.set("approved"),
                        store.LockRequestItem.decided_by.set(ctx.actor_id),
                        store.LockRequestItem.decided_at.set(now)])
    item = store.PeriodItem(*store.period_key(ctx.tenant_id, period))
    item.update(actions=[store.PeriodItem.period.set(period), store.PeriodItem.status.set(LOCKED),
                         store.PeriodItem.locked_by.set(req.requested_by), store.PeriodItem.locked_at.set(now),
                         store.PeriodItem.approved_by.set(ctx.actor_id), store.PeriodItem.request_id.set(request_id),
                         store.PeriodItem.closing_hash.set(result["closing_hash"]),
                         store.PeriodItem.chain_length.set(result["chain_length"]),
                         store.PeriodItem.entry_count.set(result["entry_count"]),
                         store.PeriodItem.pending_request_id.remove()])
    return Locked(period=period, period_number=period_number(period), status=LOCKED, locked_by=req.requested_by,
                  locked_at=now, closing_hash=result["closing_hash"], request_id=request_id, approved_by=ctx.actor_id,
                  chain_length=result["chain_length"], entry_count=result["entry_count"],
                  previous_closing_hash=previous)


def _previous_closing(tenant_id: str, period: str) -> str | None:
    closed = [p for p in store.list_periods(tenant_id) if p.period < period and p.closing_hash]
    return max(closed, key=lambda p: p.period).closing_hash if closed else None


def locked_periods(tenant_id: str) -> dict[str, str]:
    return dict(read_state(tenant_id).locks)
