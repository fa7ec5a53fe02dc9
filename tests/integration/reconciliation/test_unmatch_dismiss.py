"""POST …/{id}/unmatch and …/{id}/dismiss: a settlement is reversed by a Storno (nothing deleted) and the
open item reopens with its remaining amount; a link is removed; a dismissal undone; a transaction of a
match group refused with IN_MATCH_GROUP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.reconciliation.support import (
    account_of,
    bank_with,
    code,
    head,
    invoice_of,
    outgoing,
    reconcile,
    tx_status,
)


def test_given_a_settled_transaction_when_unmatched_then_a_storno_reopens_the_open_item(client: Any) -> None:
    acc, [first, second] = bank_with(client, "50.00", "69.00")
    inv = outgoing(client)
    settled = reconcile(client, first["id"], inv["intent_id"]).json()["intent_id"]
    assert reconcile(client, second["id"], inv["intent_id"]).status == 200
    entries_before, _ = head(client)
    # When the first payment is unmatched
    resp = client.post(f"/v1/bank-transactions/{first['id']}/unmatch")
    # Then its settlement is reversed (a new intent, debit and credit swapped; the original stays)
    assert resp.status == 200, resp.body
    got = resp.json()
    assert got["ok"] is True and got["status"] == "unreconciled" and got["reversal_intent_id"]
    storno = client.get(f"/v1/journal/{got['reversal_intent_id']}").json()
    assert [(e["account_debit"], e["account_credit"], e["amount"]) for e in storno["entries"]] == [
        ("1400", "1200", Decimal("50.00"))]
    assert client.get(f"/v1/journal/{settled}").status == 200
    assert head(client)[0] == entries_before + 1
    # and the invoice is open again by that amount, the transaction unreconciled, counted again
    reopened = invoice_of(client, inv["id"])
    assert (reopened["status"], reopened["remaining_amount"]) == ("partially_paid", Decimal("50.00"))
    assert [s["amount"] for s in reopened["settlements"]] == [Decimal("69.00")]
    assert tx_status(client, first["id"]) == "unreconciled"
    assert account_of(client, acc["id"])["unreconciled_count"] == 1
    # and it can be reconciled again (a new claim, a new settlement intent)
    again = reconcile(client, first["id"], inv["intent_id"])
    assert again.status == 200 and again.json()["intent_id"] != settled
    assert invoice_of(client, inv["id"])["status"] == "paid"


def test_given_a_linked_transaction_when_unmatched_then_the_link_goes_and_nothing_is_booked(client: Any) -> None:
    _acc, [tx] = bank_with(client, "-42.50")
    booked = client.post("/v1/bookings", {"booking_date": "2026-02-01", "description": "Porto",
                                          "lines": [{"account_debit": "4910", "account_credit": "1200",
                                                     "amount": "42.50"}]}).json()
    assert reconcile(client, tx["id"], booked["intent_id"], "booking", None).status == 200
    before = head(client)
    resp = client.post(f"/v1/bank-transactions/{tx['id']}/unmatch")
    assert resp.json() == {"ok": True, "status": "unreconciled", "reversal_intent_id": None}
    assert head(client) == before and tx_status(client, tx["id"]) == "unreconciled"
    # and the booking can be linked again
    assert reconcile(client, tx["id"], booked["intent_id"], "booking", None).status == 200


def test_given_a_booking_linked_to_one_transaction_then_another_cannot_link_it(client: Any) -> None:
    _acc, [a, b] = bank_with(client, "-42.50", "-42.50")
    booked = client.post("/v1/bookings", {"booking_date": "2026-02-01", "description": "Porto",
                                          "lines": [{"account_debit": "4910", "account_credit": "1200",
                                                     "amount": "42.50"}]}).json()
    assert reconcile(client, a["id"], booked["intent_id"], "booking", None).status == 200
    resp = reconcile(client, b["id"], booked["intent_id"], "booking", None)
    assert (resp.status, code(resp)) == (409, "INTENT_ALREADY_LINKED")
    assert tx_status(client, b["id"]) == "unreconciled"


def test_given_a_transaction_when_dismissed_then_dismissed_without_booking_and_undone_by_unmatch(
        client: Any) -> None:
    acc, [tx] = bank_with(client, "-3.90")
    before = head(client)
    resp = client.post(f"/v1/bank-transactions/{tx['id']}/dismiss")
    assert (resp.status, resp.json()) == (200, {"ok": True})
    assert tx_status(client, tx["id"]) == "dismissed" and head(client) == before
    assert account_of(client, acc["id"])["unreconciled_count"] == 0
    again = client.post(f"/v1/bank-transactions/{tx['id']}/dismiss")
    assert (again.status, code(again)) == (409, "BANK_TX_NOT_OPEN")
    # When unmatched: un-dismissed
    undone = client.post(f"/v1/bank-transactions/{tx['id']}/unmatch")
    assert undone.json() == {"ok": True, "status": "unreconciled", "reversal_intent_id": None}
    assert account_of(client, acc["id"])["unreconciled_count"] == 1 and head(client) == before


def test_given_an_open_transaction_when_unmatched_then_409_and_unknown_ones_404(client: Any) -> None:
    _acc, [tx] = bank_with(client, "1.00")
    resp = client.post(f"/v1/bank-transactions/{tx['id']}/unmatch")
    assert (resp.status, code(resp)) == (409, "INVALID_STATE")
    for verb in ("unmatch", "dismiss"):
        missing = client.post(f"/v1/bank-transactions/0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c/{verb}")
        assert (missing.status, code(missing)) == (404, "NOT_FOUND")


def test_given_a_transaction_of_a_match_group_when_unmatched_alone_then_409_in_match_group(client: Any) -> None:
    _acc, [a, b] = bank_with(client, "60.00", "59.00")
    inv = outgoing(client)
    group = client.post("/v1/bank-match-groups", {
        "bank_transaction_ids": [a["id"], b["id"]],
        "allocations": [{"intent_id": inv["intent_id"], "candidate_kind": "open_receivable",
                         "open_item_account": "1400", "allocated_bank_amount": "119.00"}]})
    assert group.status == 201, group.body
    resp = client.post(f"/v1/bank-transactions/{a['id']}/unmatch")
    assert (resp.status, code(resp)) == (409, "IN_MATCH_GROUP")
    assert tx_status(client, a["id"]) == "reconciled"
