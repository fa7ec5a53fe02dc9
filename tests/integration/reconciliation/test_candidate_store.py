"""The candidate index's batched writes (store/reconciliation/candidates.apply over
store.base.transact_each): one transaction for many keys, and the outcome of one conditional update
per key when some conditions fail — a key that fills up is marked full, a removal from a key never
filed is a no-op — without losing the other keys of the same transaction."""

from __future__ import annotations

from typing import Any

from ledgerlou.store.reconciliation import candidates

T = "00000000-0000-4000-8000-0000000000aa"


def cards(key: str) -> list[str] | None:
    return candidates.get(T, "AR", [key]).get(key, "absent")  # type: ignore[return-value]


def test_given_many_keys_then_one_transaction_files_them_all(aws: Any) -> None:
    calls: list[int] = []
    from ledgerlou.store.base import ddb

    original = ddb().transact_write_items

    def counting(**kw: Any) -> Any:
        calls.append(len(kw["TransactItems"]))
        return original(**kw)

    ddb().transact_write_items = counting
    try:
        candidates.apply(T, "AR", {f"A#{i}": {f"card-{i}"} for i in range(150)}, {})
    finally:
        ddb().transact_write_items = original
    # Then 150 keys cost two transactions (100 + 50), not 150 updates
    assert calls == [100, 50]
    assert cards("A#0") == ["card-0"] and cards("A#149") == ["card-149"]


def test_given_a_key_that_fills_up_and_a_removal_never_filed_then_only_they_fall_back(aws: Any) -> None:
    # Given a partner key one card short of its 25
    candidates.apply(T, "AR", {"P#x": {f"c{i:02d}" for i in range(24)}, "A#2": {"two", "three"}}, {})
    # When one block adds two more cards to it, removes a card from a key that was never filed and
    # one from a key that was, and files two other keys
    candidates.apply(T, "AR", {"P#x": {"c24", "c25"}, "A#1": {"one"}, "R#F#42": {"forty-two"}},
                     {"A#404": {"never"}, "A#2": {"two"}})
    # Then the partner key is marked full (it singles out nothing any more), the never-filed key was
    # not created, and the other keys of the same transactions were filed
    assert cards("P#x") is None
    assert cards("A#404") == "absent" and cards("A#2") == ["three"]
    assert (cards("A#1"), cards("R#F#42")) == (["one"], ["forty-two"])
    # and a full key stays full when a card leaves it
    candidates.apply(T, "AR", {}, {"P#x": {"c01"}})
    assert cards("P#x") is None
