"""POST /v1/bank-transactions/batch-reconcile: 1–100 pairs, each on its own — a failed pair never stops
the others, and the pairs that succeed are exactly what single requests would have done."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.receivables.test_customers import customer
from tests.integration.reconciliation.support import (
    account_of,
    bank_with,
    code,
    head,
    invoice_of,
    outgoing,
    tx_status,
)

A = "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c"


def pair(tx: dict[str, Any], intent_id: str, kind: str = "open_receivable", account: str | None = "1400"
         ) -> dict[str, Any]:
    out = {"bank_transaction_id": tx["id"], "intent_id": intent_id, "candidate_kind": kind}
    if account:
        out["open_item_account"] = account
    return out


def test_given_good_and_bad_pairs_then_the_good_ones_are_reconciled_and_each_bad_one_reported(
        client: Any) -> None:
    acc, txs = bank_with(client, "119.00", "50.00", "80.00", "-42.50", "119.00", "30.00")
    kunde = customer(client, default_account="8400")["id"]
    first, second, third = (outgoing(client, f"RE-{i}", kunde) for i in range(3))
    booked = client.post("/v1/bookings", {"booking_date": "2026-02-01", "description": "Porto",
                                          "lines": [{"account_debit": "4910", "account_credit": "1200",
                                                     "amount": "42.50"}]}).json()
    # When one batch holds: a full payment, two partial payments of one invoice that together exceed
    # it, a link, a pair of the wrong direction, an unknown transaction, the same transaction twice
    resp = client.post("/v1/bank-transactions/batch-reconcile", {"pairs": [
        pair(txs[0], first["intent_id"]),
        pair(txs[1], second["intent_id"]),
        pair(txs[2], second["intent_id"]),  # 50 + 80 > 119: the later one fails
        pair(txs[3], booked["intent_id"], "booking", None),
        pair(txs[4], third["intent_id"], "open_liability", "1600"),
        {**pair(txs[5], third["intent_id"]), "bank_transaction_id": A},
        pair(txs[5], third["intent_id"]),
        pair(txs[5], third["intent_id"]),
    ]})
    # Then every good pair is reconciled, every bad one reported with its index and code
    assert resp.status == 200, resp.body
    got = resp.json()
    assert [(r["bank_transaction_id"], r["mode"]) for r in got["reconciled"]] == [
        (txs[0]["id"], "settlement"), (txs[1]["id"], "settlement"), (txs[3]["id"], "link"),
        (txs[5]["id"], "settlement")]
    assert [(e["index"], e["code"]) for e in got["errors"]] == [
        (2, "SETTLEMENT_EXCEEDS_OPEN_AMOUNT"), (4, "INVALID_INPUT"), (5, "NOT_FOUND"), (7, "BANK_TX_NOT_OPEN")]
    assert all(e["message"] for e in got["errors"])
    assert [tx_status(client, t["id"]) for t in txs] == [
        "reconciled", "reconciled", "unreconciled", "reconciled", "unreconciled", "reconciled"]
    assert account_of(client, acc["id"])["unreconciled_count"] == 2
    assert invoice_of(client, first["id"])["status"] == "paid"
    assert invoice_of(client, second["id"])["remaining_amount"] == Decimal("69.00")
    assert invoice_of(client, third["id"])["remaining_amount"] == Decimal("89.00")
    # and each settlement is its own intent, unmatchable alone
    settled = got["reconciled"][1]["intent_id"]
    view = client.get(f"/v1/journal/{settled}").json()
    assert [(e["account_debit"], e["account_credit"], e["amount"]) for e in view["entries"]] == [
        ("1200", "1400", Decimal("50.00"))]
    assert view["summary"]["source"] == "bank_reconciliation"
    undone = client.post(f"/v1/bank-transactions/{txs[1]['id']}/unmatch")
    assert undone.status == 200 and invoice_of(client, second["id"])["remaining_amount"] == Decimal("119.00")


def test_given_a_batch_where_every_pair_fails_then_nothing_is_booked(client: Any) -> None:
    _acc, txs = bank_with(client, "500.00", "-1.00")
    inv = outgoing(client)
    before = head(client)
    resp = client.post("/v1/bank-transactions/batch-reconcile", {"pairs": [
        pair(txs[0], inv["intent_id"]), pair(txs[1], inv["intent_id"]), pair(txs[0], inv["intent_id"], "x")]})
    assert resp.status == 200
    assert [(e["index"], e["code"]) for e in resp.json()["errors"]] == [
        (0, "SETTLEMENT_EXCEEDS_OPEN_AMOUNT"), (1, "DIRECTION_MISMATCH"), (2, "BANK_TX_NOT_OPEN")]
    assert resp.json()["reconciled"] == [] and head(client) == before


def test_given_no_pairs_or_more_than_100_then_400(client: Any) -> None:
    _acc, [tx] = bank_with(client, "1.00")
    assert code(client.post("/v1/bank-transactions/batch-reconcile", {"pairs": []})) == "INVALID_INPUT"
    many = [pair(tx, A)] * 101
    assert code(client.post("/v1/bank-transactions/batch-reconcile", {"pairs": many})) == "INVALID_INPUT"


def test_given_100_pairs_then_all_are_reconciled_and_counted_exactly(client: Any) -> None:
    acc, txs = bank_with(client, *["1.00"] * 100)
    kunde = customer(client, default_account="8400")["id"]
    invs = [outgoing(client, f"RE-{i}", kunde) for i in range(2)]
    resp = client.post("/v1/bank-transactions/batch-reconcile", {"pairs": [
        pair(tx, invs[i % 2]["intent_id"]) for i, tx in enumerate(txs)]})
    assert resp.status == 200 and resp.json()["errors"] == [], resp.body
    assert len({r["intent_id"] for r in resp.json()["reconciled"]}) == 100
    assert account_of(client, acc["id"])["unreconciled_count"] == 0
    assert [invoice_of(client, i["id"])["remaining_amount"] for i in invs] == [Decimal("69.00")] * 2


def test_given_a_batch_and_single_requests_racing_for_the_same_transactions_then_each_is_settled_once(
        client: Any, make_client: Any, tenant: Any) -> None:
    import threading

    acc, txs = bank_with(client, *["1.00"] * 10)
    inv = outgoing(client)
    entries_before, _ = head(client)
    barrier = threading.Barrier(3)
    results: dict[str, Any] = {}

    def batch() -> None:
        c = make_client(tenant.admin_key, project=False)
        barrier.wait()
        results["batch"] = c.post("/v1/bank-transactions/batch-reconcile",
                                  {"pairs": [pair(tx, inv["intent_id"]) for tx in txs]})

    def singles(name: str, order: list[dict[str, Any]]) -> None:
        c = make_client(tenant.admin_key, project=False)
        barrier.wait()
        results[name] = [c.post(f"/v1/bank-transactions/{tx['id']}/reconcile",
                                {"intent_id": inv["intent_id"], "candidate_kind": "open_receivable",
                                 "open_item_account": "1400"}) for tx in order]

    threads = [threading.Thread(target=batch), threading.Thread(target=singles, args=("fwd", txs)),
               threading.Thread(target=singles, args=("rev", txs[::-1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then every transaction was won exactly once (by the batch or by one single request), every
    # loser refused with 409 BANK_TX_NOT_OPEN, and one settlement per transaction was booked
    won = [r["bank_transaction_id"] for r in results["batch"].json()["reconciled"]]
    for name in ("fwd", "rev"):
        order = txs if name == "fwd" else txs[::-1]
        for tx, resp in zip(order, results[name], strict=True):
            assert resp.status in (200, 409), resp.body
            if resp.status == 200:
                won.append(tx["id"])
            else:
                assert code(resp) == "BANK_TX_NOT_OPEN"
    assert sorted(won) == sorted(t["id"] for t in txs)
    assert {e["code"] for e in results["batch"].json()["errors"]} <= {"BANK_TX_NOT_OPEN"}
    client.post("/v1/bank-transactions/0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c/dismiss")  # drives the projector
    assert head(client)[0] == entries_before + 10
    assert invoice_of(client, inv["id"])["remaining_amount"] == Decimal("109.00")
    assert account_of(client, acc["id"])["unreconciled_count"] == 0
