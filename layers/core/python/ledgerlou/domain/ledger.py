"""Appending to the journal: gapless journal numbers and the GoBD hash chain under any concurrency.

Each append is ONE conditional PutItem of the next block (store/journal.py). The appender validates
everything that must not race — period locks, duplicate fingerprints, "already reversed" — against
the state that the block it builds on closes:

    projections (complete through the watermark W)  +  the blocks W+1 … head, read directly

and then writes block head+1. Whoever loses the race re-reads the winner's block and validates again,
so a lock and a booking (or two reversals of one intent) racing each other can never both win.

A warm Lambda keeps the tenant's head and that unprojected tail in memory, so the hot path of a
booking is the conditional PutItem alone (plus one GetItem for the duplicate check).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledgerlou.domain import chain
from ledgerlou.errors import Conflict, DomainError
from ledgerlou.store import journal as store
from ledgerlou.store import views
from ledgerlou.store.base import now_iso

MAX_ATTEMPTS = 500
MAX_WAIT_S = 10.0  # then 409 JOURNAL_CONTENTION: retryable, and far below API Gateway's 29 s
TAIL_REFRESH_EVERY = 64


@dataclass
class TailIndex:
    """What the blocks after the watermark add to the projections (read-your-writes without waiting)."""

    blocks: list[store.Block] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    reversed_by: dict[str, str] = field(default_factory=dict)
    intents: dict[str, tuple[store.Block, dict[str, Any]]] = field(default_factory=dict)

    def add(self, block: store.Block) -> None:
        self.blocks.append(block)
        for intent in block.intents:
            self.intents[intent["intent_id"]] = (block, intent)
            if intent.get("fingerprint"):
                self.fingerprints[intent["fingerprint"]] = intent["intent_id"]
            if intent.get("reverses_intent_id"):
                self.reversed_by[intent["reverses_intent_id"]] = intent["intent_id"]

    def trim(self, watermark: int) -> None:
        keep = [b for b in self.blocks if b.seq > watermark]
        if len(keep) != len(self.blocks):
            self.blocks, self.fingerprints, self.reversed_by, self.intents = [], {}, {}, {}
            for b in keep:
                self.add(b)


@dataclass
class JournalState:
    head: store.Block
    tail: TailIndex
    watermark: int
    appends_since_refresh: int = 0

    @property
    def locks(self) -> dict[str, str]:
        return self.head.locks

    def fingerprint_owners(self, tenant_id: str, fingerprints: list[str]) -> dict[str, str]:
        """Which of these fingerprints are booked already (tail first, then one BatchGetItem)."""
        found = {fp: self.tail.fingerprints[fp] for fp in fingerprints if fp in self.tail.fingerprints}
        rest = [fp for fp in fingerprints if fp not in found]
        if rest:
            found.update(views.get_fingerprints(tenant_id, rest))
        return found

    def reversed_by(self, tenant_id: str, intent_id: str) -> str | None:
        if intent_id in self.tail.reversed_by:
            return self.tail.reversed_by[intent_id]
        item = views.get_intent(tenant_id, intent_id)
        return item.reversed_by_intent_id if item else None


def read_state(tenant_id: str) -> JournalState:
    """Cold read: the watermark, then every block after it, to the head."""
    watermark = store.get_watermark(tenant_id)
    head = store.get_block(tenant_id, watermark)
    if head is None:  # cannot happen: the watermark only names written blocks
        raise DomainError("journal watermark names a missing block", status=500, code="INTERNAL_ERROR")
    tail = TailIndex()
    while True:
        nxt = store.get_block(tenant_id, head.seq + 1)
        if nxt is None:
            break
        tail.add(nxt)
        head = nxt
    return JournalState(head=head, tail=tail, watermark=watermark)


WALK_AHEAD = 8


def _walk_forward(tenant_id: str, state: JournalState) -> None:
    """Read every block after our head, WALK_AHEAD at a time: with N writers on one tenant a loser is
    typically N-1 blocks behind, and one BatchGetItem beats N-1 GetItems."""
    while True:
        seqs = list(range(state.head.seq + 1, state.head.seq + 1 + WALK_AHEAD))
        found = store.get_blocks(tenant_id, seqs)
        for seq in seqs:
            block = found.get(seq)
            if block is None:
                return
            state.tail.add(block)
            state.head = block


@dataclass(frozen=True)
class Draft:
    """What a caller appends: intents with their entries (without chain fields), or a control change."""

    kind: str  # bookings | control
    intents: list[dict[str, Any]]
    entries_by_intent: list[list[dict[str, Any]]]
    locks: dict[str, str] | None = None  # control: the new lock map
    control: dict[str, Any] | None = None


Builder = Callable[[JournalState], Draft]


def backoff(attempt: int) -> None:
    """After a lost race: wait a random time (full jitter, doubling per loss, at most 50 ms).

    Retrying at once starved writers: the winner already holds the new head and is first again, while a
    loser must read the winner's block before it can try. Measured with 8 writer processes on one tenant
    against one moto server: without jitter some writers lost every race for 10 s (409
    JOURNAL_CONTENTION); with it all bookings landed (~2 retries per booking)."""
    time.sleep(random.uniform(0, min(0.002 * (2 ** min(attempt, 5)), 0.05)))  # noqa: S311


class Appender:
    """Per-process journal writer with a per-tenant cache of the head (one per warm Lambda)."""

    def __init__(self, use_cache: bool = True) -> None:
        self.use_cache = use_cache
        self._states: dict[str, JournalState] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.retries = 0

    def _lock(self, tenant_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(tenant_id, threading.Lock())

    def forget(self, tenant_id: str | None = None) -> None:
        with self._guard:
            if tenant_id is None:
                self._states.clear()
            else:
                self._states.pop(tenant_id, None)

    def append(self, tenant_id: str, build: Builder) -> store.Block:
        with self._lock(tenant_id):
            state = self._states.get(tenant_id) if self.use_cache else None
            if state is None:
                state = read_state(tenant_id)
            elif state.appends_since_refresh >= TAIL_REFRESH_EVERY:
                state.watermark = store.get_watermark(tenant_id)
                state.tail.trim(state.watermark)
                state.appends_since_refresh = 0
            try:
                block = self._append(tenant_id, state, build)
            except BaseException:
                self._states.pop(tenant_id, None)
                raise
            state.appends_since_refresh += 1
            if self.use_cache:
                self._states[tenant_id] = state
            return block

    def _append(self, tenant_id: str, state: JournalState, build: Builder) -> store.Block:
        deadline = time.monotonic() + MAX_WAIT_S
        for attempt in range(MAX_ATTEMPTS):
            if time.monotonic() > deadline:
                break
            draft = build(state)
            block, encoded = _seal(state.head, draft)
            if len(encoded) > store.MAX_BLOCK_BYTES:
                raise DomainError("The booking is too large for one journal block; split it.",
                                  code="BOOKING_TOO_LARGE", status=413)
            if store.put_block(tenant_id, block, encoded):
                state.tail.add(block)
                state.head = block
                return block
            # Lost the race: another writer took this sequence number. Read what it wrote (and
            # anything after), then validate again against the new head.
            self.retries += 1
            _walk_forward(tenant_id, state)
            backoff(attempt)
        raise Conflict("The journal is busy; retry the request.", code="JOURNAL_CONTENTION")


def _seal(head: store.Block, draft: Draft) -> tuple[store.Block, bytes]:
    """Number and chain the draft's entries on top of ``head``."""
    prev_hash = head.head_hash
    number = head.last_journal_number + 1
    first = number
    entries_out: list[dict[str, Any]] = []
    intents_out: list[dict[str, Any]] = []
    for intent, entries in zip(draft.intents, draft.entries_by_intent, strict=True):
        chained = chain.chain_entries(prev_hash, number, entries)
        if chained:
            prev_hash = chained[-1]["audit_hash"]
            number += len(chained)
        entries_out.extend(chained)
        intents_out.append({**intent, "journal_number_min": chained[0]["journal_number"] if chained else None,
                            "journal_number_max": chained[-1]["journal_number"] if chained else None})
    payload: dict[str, Any] = {"intents": intents_out, "entries": entries_out}
    if draft.control:
        payload["control"] = draft.control
    block = store.Block(seq=head.seq + 1, kind=draft.kind, first_journal_number=first,
                        last_journal_number=number - 1, head_hash=prev_hash,
                        locks=draft.locks if draft.locks is not None else head.locks,
                        created_at=now_iso(), payload=payload)
    return block, store.encode_payload(payload)


APPENDER = Appender()
