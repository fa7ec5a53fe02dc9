"""The match store (store/reconciliation/matches.py): a claim has one winner, links are found in O(1)
and in bulk, and the page status, the counter and the match record change in one transaction."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.integration.bank.support import _tenant_of, account, create_account, row


def _one_tx(client: Any, n: int = 1) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    acc = create_account(client)
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"],
                                          "transactions": [row(amount=f"{i + 1}.00") for i in range(n)]})
    txs = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}").json()["transactions"]
    return acc, _tenant_of(client, acc["id"]), txs


def _claim(tenant_id: str, tx: dict[str, Any], intent_id: str) -> None:
    from ledgerlou.store.bank import pages
    from ledgerlou.store.reconciliation import matches

    where = pages.locate(tenant_id, tx["id"])
    assert where is not None
    before = matches.get_match(tenant_id, tx["id"]) or matches.Match(tx["id"], tx["bank_account_id"], exists=False)
    after = matches.Match(tx["id"], tx["bank_account_id"], version=before.version + 1, state="matched", mode="link",
                          intent_id=intent_id)
    pages.change_statuses(tenant_id, [pages.StatusChange(where, "reconciled", "unreconciled", [
        matches.claim_op(tenant_id, before, after),
        matches.link_op(tenant_id, intent_id, [tx["id"]], "link", tx["bank_account_id"])])])


def test_given_a_claimed_transaction_then_its_intent_is_linked_and_its_match_readable(client: Any) -> None:
    from ledgerlou.store.reconciliation import matches

    acc, tenant_id, [tx] = _one_tx(client)
    # When a transaction is matched to an intent
    _claim(tenant_id, tx, "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c")
    # Then the intent is linked (one GetItem, and among others in bulk), the match says so
    assert matches.is_linked(tenant_id, "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c")
    assert not matches.is_linked(tenant_id, "1b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c")
    assert matches.linked_among(tenant_id, ["0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c",
                                            "1b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c"]) == {
        "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c"}
    got = matches.get_match(tenant_id, tx["id"])
    assert got is not None and (got.state, got.mode, got.version) == ("matched", "link", 1)
    # and the page and the counter changed with it
    assert client.get(f"/v1/bank-transactions/{tx['id']}").json()["transaction"]["status"] == "reconciled"
    assert account(client, acc["id"])["unreconciled_count"] == 0
    # and another tenant sees none of it
    assert not matches.is_linked("another-tenant", "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c")


def test_given_two_claims_of_one_transaction_at_once_then_exactly_one_wins(client: Any) -> None:
    from ledgerlou.store.bank import pages

    acc, tenant_id, [tx] = _one_tx(client)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def claim(i: int) -> None:
        barrier.wait()
        try:
            _claim(tenant_id, tx, f"0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6{i}")
            outcomes.append("won")
        except (pages.ExtraConditionFailed, pages.StatusMismatch):
            outcomes.append("lost")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then one claim committed, the others were refused whole: the counter moved once
    assert sorted(outcomes) == ["lost"] * 5 + ["won"]
    assert account(client, acc["id"])["unreconciled_count"] == 0


def test_given_a_refused_extra_then_neither_page_nor_counter_change(client: Any) -> None:
    from ledgerlou.store.bank import pages
    from ledgerlou.store.reconciliation import matches

    acc, tenant_id, txs = _one_tx(client, 2)
    _claim(tenant_id, txs[0], "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c")
    # When a second transaction tries to claim the same intent
    with pytest.raises(pages.ExtraConditionFailed):
        _claim(tenant_id, txs[1], "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c")
    # Then it stays open, with no match record
    assert client.get(f"/v1/bank-transactions/{txs[1]['id']}").json()["transaction"]["status"] == "unreconciled"
    assert account(client, acc["id"])["unreconciled_count"] == 1
    assert matches.get_match(tenant_id, txs[1]["id"]) is None
