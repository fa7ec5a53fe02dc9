"""Appending to the journal: gapless journal numbers and the GoBD hash chain under any concurrency.

Each append is ONE conditional PutItem of the next block (store/journal/blocks.py). The appender validates
everything that must not race — period locks, duplicate fingerprints, "already reversed" — against
the state that the block it builds on closes:

    projections (complete through the watermark W)  +  the blocks W+1 … head, read directly

and then writes block head+1. Whoever loses the race re-reads the winner's block and validates again,
so a lock and a booking (or two reversals of one intent) racing each other can never both win.

A warm Lambda keeps the tenant's head and that unprojected tail in memory, and for every booking
date it has seen the fingerprints booked on it, so the hot path of a booking is the conditional
PutItem alone. A writer that loses a race gets the winner's block back from its failed write.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledgerlou.domain.chain.canonical import chain_entries
from ledgerlou.errors import BookingTooLarge, DomainError, InternalError, JournalContention
from ledgerlou.store.base import now_iso
from ledgerlou.store.journal import blocks as store
from ledgerlou.store.journal import projections

MAX_ATTEMPTS = 500
MAX_WAIT_S = 10.0  # then 409 JOURNAL_CONTENTION: retryable, and far below API Gateway's 29 s
TAIL_REFRESH_EVERY = 256  # appends between watermark reads that trim the cached tail (one GetItem each)


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


DAY_CACHE_MAX = 200_000
"""Fingerprints a writer keeps per tenant (~100 bytes each) before it drops its day caches."""


@dataclass
class JournalState:
    head: store.Block
    tail: TailIndex
    watermark: int
    appends_since_refresh: int = 0
    # booking date → {fingerprint: intent_id}, complete through ``head`` for every date it holds
    days: dict[str, dict[str, str]] = field(default_factory=dict)
    day_fingerprints: int = 0
    contention: float = 0.0  # races this writer lost per append on this journal (moving average)

    @property
    def locks(self) -> dict[str, str]:
        return self.head.locks

    def observe(self, block: store.Block) -> None:
        """``block`` is the next block after our head (ours, or another writer's we read)."""
        self.tail.add(block)
        self.head = block
        for intent in block.intents:
            owners = self.days.get(intent["booking_date"]) if intent.get("fingerprint") else None
            if owners is not None:
                owners[intent["fingerprint"]] = intent["intent_id"]
                self.day_fingerprints += 1

    def fingerprint_owners(self, tenant_id: str, wanted: list[tuple[str, str]]) -> dict[str, str]:
        """Which of these (booking date, fingerprint) pairs are booked already → their intent ids."""
        found: dict[str, str] = {}
        for date, fp in wanted:
            owner = self._day(tenant_id, date).get(fp)
            if owner:
                found[fp] = owner
        return found

    def _day(self, tenant_id: str, date: str) -> dict[str, str]:
        """The fingerprints booked on ``date`` through our head.

        The projections hold every block up to ``self.watermark`` (the projector writes a block's items
        before it advances the watermark, and we read the watermark before this Query) and the tail
        holds the blocks after it. From then on ``observe`` adds every block we see, and we see every
        block in order, so the day stays complete without reading it again."""
        owners = self.days.get(date)
        if owners is None:
            if self.day_fingerprints > DAY_CACHE_MAX:
                self.days, self.day_fingerprints = {}, 0
            owners = projections.fingerprints_of_day(tenant_id, date)
            for block in self.tail.blocks:
                for intent in block.intents:
                    if intent.get("fingerprint") and intent["booking_date"] == date:
                        owners[intent["fingerprint"]] = intent["intent_id"]
            self.days[date] = owners
            self.day_fingerprints += len(owners)
        return owners

    def reversed_by(self, tenant_id: str, intent_id: str) -> str | None:
        if intent_id in self.tail.reversed_by:
            return self.tail.reversed_by[intent_id]
        item = projections.get_intent(tenant_id, intent_id)
        return item.reversed_by_intent_id if item else None


def read_state(tenant_id: str) -> JournalState:
    """Cold read: the watermark, then every block after it, to the head."""
    watermark = store.get_watermark(tenant_id)
    head = store.get_block(tenant_id, watermark)
    if head is None:  # cannot happen: the watermark only names written blocks
        raise InternalError("journal watermark names a missing block")
    state = JournalState(head=head, tail=TailIndex(), watermark=watermark)
    while True:
        nxt = store.get_block(tenant_id, state.head.seq + 1)
        if nxt is None:
            return state
        state.observe(nxt)


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
            state.observe(block)


@dataclass(frozen=True)
class Draft:
    """What a caller appends: intents with their entries (without chain fields), or a control change."""

    kind: str  # bookings | control
    intents: list[dict[str, Any]]
    entries_by_intent: list[list[dict[str, Any]]]
    locks: dict[str, str] | None = None  # control: the new lock map
    control: dict[str, Any] | None = None


Builder = Callable[[JournalState], Draft]


BACKOFF_BASE_S = 0.002
BACKOFF_CAP_S = 0.05
POLITE_ABOVE = 0.2  # lost races per append (moving average) from which a writer waits before trying


def backoff(attempt: int) -> None:
    """After a lost race: wait a random time (full jitter, doubling per loss, at most 50 ms)."""
    time.sleep(random.uniform(0, min(BACKOFF_BASE_S * 2 ** min(attempt, 5), BACKOFF_CAP_S)))  # noqa: S311


def polite_wait(contention: float) -> None:
    """Before the first try of an append, when this writer has been losing races lately: wait a
    random time that grows with how contended the journal has been.

    Why: a writer that has just won holds the new head and is at once ready to try again, while the
    writers that lost are sleeping off their backoff; without this the winner tends to win again and
    again (Ethernet's "capture effect"). Measured with 8 writer processes on one tenant on a loaded
    2-core machine: without it some bookings lost every race for 10 s (409 JOURNAL_CONTENTION); with
    it none did. A single writer never loses, so it never waits."""
    if contention > POLITE_ABOVE:
        time.sleep(random.uniform(0, min(2 * BACKOFF_BASE_S * contention, BACKOFF_CAP_S)))  # noqa: S311


class Appender:
    """Per-process journal writer with a per-tenant cache of the head (one per warm Lambda)."""

    def __init__(self, use_cache: bool = True) -> None:
        self.use_cache = use_cache
        self._states: dict[str, JournalState] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.retries = 0
        self.most_attempts = 0

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
            except DomainError:
                # A refused booking (duplicate, locked period, too large) leaves the state as valid as
                # it was: the refusal came from checks against it, before or instead of a write.
                if self.use_cache:
                    self._states[tenant_id] = state
                raise
            except BaseException:
                self._states.pop(tenant_id, None)
                raise
            state.appends_since_refresh += 1
            if self.use_cache:
                self._states[tenant_id] = state
            return block

    def _append(self, tenant_id: str, state: JournalState, build: Builder) -> store.Block:
        deadline = time.monotonic() + MAX_WAIT_S
        polite_wait(state.contention)
        for attempt in range(MAX_ATTEMPTS):
            if time.monotonic() > deadline:
                break
            draft = build(state)
            block, encoded = _seal(state.head, draft)
            if len(encoded) > store.MAX_BLOCK_BYTES:
                raise BookingTooLarge("The booking is too large for one journal block; split it.")
            winner = store.append_block(tenant_id, block, encoded)
            if winner is None:
                state.observe(block)
                self.most_attempts = max(self.most_attempts, attempt + 1)
                state.contention += (attempt - state.contention) / 4
                return block
            # Lost the race: another writer took this sequence number, and its block came back with
            # the failed write. Validate again on top of it. Losing twice in a row means more writers
            # are ahead of us: catch up with one BatchGetItem rather than one lost write per block.
            self.retries += 1
            state.observe(winner)
            if attempt > 0:
                _walk_forward(tenant_id, state)
            backoff(attempt)
        raise JournalContention("The journal is busy; retry the request.")


def _seal(head: store.Block, draft: Draft) -> tuple[store.Block, bytes]:
    """Number and chain the draft's entries on top of ``head``."""
    prev_hash = head.head_hash
    number = head.last_journal_number + 1
    first = number
    entries_out: list[dict[str, Any]] = []
    intents_out: list[dict[str, Any]] = []
    for intent, entries in zip(draft.intents, draft.entries_by_intent, strict=True):
        chained = chain_entries(prev_hash, number, entries)
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
