"""The candidate index, kept by the receivables projector as open items change (store/reconciliation/
candidates.py has the layout): an open item's card is filed under its keys when it opens, moved when
its remaining amount or due date changes, and removed when it is paid, cancelled or its settlement
reopened it elsewhere. Derived from each transition (state before → after the block) alone, so the
projector's replay of a block files and removes the same cards again (set ADD / DELETE: no change).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ledgerlou.domain.reconciliation import suggestions
from ledgerlou.store.reconciliation import candidates as store


def deltas(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[dict[str, set[str]],
                                                                            dict[str, set[str]]]:
    """(adds, removes) as key → cards for one invoice's transition."""
    before, after = suggestions.card_of(old), suggestions.card_of(new)
    if before == after:
        return {}, {}
    adds: dict[str, set[str]] = defaultdict(set)
    removes: dict[str, set[str]] = defaultdict(set)
    if before is not None:
        for key in suggestions.index_keys(before):
            removes[key].add(before.encode())
    if after is not None:
        for key in suggestions.index_keys(after):
            adds[key].add(after.encode())
    return adds, removes


def apply_transitions(tenant_id: str, transitions: Sequence[tuple[str, dict[str, Any] | None, dict[str, Any]]]) -> None:
    """The projector's call for one block: (side, state before, state after) of each changed invoice."""
    by_side: dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]] = defaultdict(
        lambda: (defaultdict(set), defaultdict(set)))
    for side, old, new in transitions:
        adds, removes = deltas(old, new)
        for key, cards in adds.items():
            by_side[side][0][key] |= cards
        for key, cards in removes.items():
            by_side[side][1][key] |= cards
    for side, (adds, removes) in by_side.items():
        # a card both removed and added by one block (replayed events) nets out
        for key in set(adds) & set(removes):
            both = adds[key] & removes[key]
            adds[key] -= both
            removes[key] -= both
        store.apply(tenant_id, side, dict(adds), dict(removes))


def lookup(tenant_id: str, side: str, keys: list[str]) -> dict[str, list[suggestions.Card] | None]:
    """key → the cards filed under it (None: saturated, not selective)."""
    found = store.get(tenant_id, side, keys)
    return {k: (None if v is None else [suggestions.Card.decode(c) for c in v]) for k, v in found.items()}


def rebuild(tenant_id: str) -> int:
    """File every open invoice's card under its keys (idempotent: set ADD) — for invoices booked
    before the index existed. Reads the open items the way the open-items list does (the calendar's
    due days, their id sets, the states: no scan). Returns the number of cards filed."""
    from ledgerlou.store.receivables import invoices as invoice_store

    filed = 0
    for side in ("AR", "AP"):
        days, _months, _seq = invoice_store.get_calendar(tenant_id, side)
        day_list = sorted(days)
        for start in range(0, len(day_list), 100):
            ids = [i for day_ids in invoice_store.open_ids(tenant_id, side, day_list[start:start + 100]).values()
                   for i in day_ids]
            for first in range(0, len(ids), 100):
                states = invoice_store.get_states(tenant_id, side, ids[first:first + 100])
                transitions = [(side, None, state) for state, _seq in states.values()]
                apply_transitions(tenant_id, transitions)
                filed += sum(1 for _s, _o, state in transitions if suggestions.card_of(state) is not None)
    return filed
