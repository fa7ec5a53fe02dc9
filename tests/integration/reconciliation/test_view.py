"""GET /v1/bank-accounts/{id}/reconciliation: the bank side against the ledger side, kept by the
projector (balances and unmatched entries of the bank ledger accounts), never read from the history."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.reconciliation.support import bank_with, code, outgoing, reconcile


def book(client: Any, debit: str, credit: str, amount: str, text: str) -> str:
    resp = client.post("/v1/bookings", {"booking_date": "2026-02-01", "description": text,
                                        "lines": [{"account_debit": debit, "account_credit": credit,
                                                   "amount": amount}]})
    assert resp.status == 201, resp.body
    return str(resp.json()["intent_id"])


def view(client: Any, account_id: str) -> dict[str, Any]:
    resp = client.get(f"/v1/bank-accounts/{account_id}/reconciliation")
    assert resp.status == 200, resp.body
    return resp.json()  # type: ignore[no-any-return]


def test_given_matched_and_unmatched_postings_then_the_view_shows_both_sides_and_the_difference(
        client: Any) -> None:
    acc, [paid, porto_tx] = bank_with(client, "119.00", "-42.50")
    inv = outgoing(client)
    assert reconcile(client, paid["id"], inv["intent_id"]).status == 200
    porto = book(client, "4910", "1200", "42.50", "Porto")
    deposit = book(client, "1200", "1000", "100.00", "Bareinzahlung")
    got = view(client, acc["id"])
    # Then: the bank's balance is its transactions', the ledger's its ledger account's
    assert (got["bank_account_id"], got["currency"], got["base_currency"]) == (acc["id"], "EUR", "EUR")
    assert got["bank"]["balance"] == Decimal("76.50")
    assert [t["id"] for t in got["bank"]["open"]] == [porto_tx["id"]]
    assert (got["bank"]["open_count"], got["bank"]["reconciled_count"], got["bank"]["dismissed_count"]) == (1, 1, 0)
    assert got["ledger"] == {"account": "1200", "amount": Decimal("176.50"), "base_amount": Decimal("176.50")}
    # and the ledger's entries that no transaction is matched to (the settlement is matched)
    assert [(e["intent_id"], e["amount"]) for e in got["unmatched_ledger"]["entries"]] == sorted(
        [(porto, Decimal("-42.50")), (deposit, Decimal("100.00"))])
    assert got["unmatched_ledger"]["amount"] == Decimal("57.50") == got["unmatched_ledger"]["base_amount"]
    assert got["difference"] == Decimal("-100.00")
    # When the Porto transaction is linked to its booking: that entry is matched
    assert reconcile(client, porto_tx["id"], porto, "booking", None).status == 200
    got = view(client, acc["id"])
    assert [e["intent_id"] for e in got["unmatched_ledger"]["entries"]] == [deposit]
    assert got["bank"]["open"] == [] and got["bank"]["open_count"] == 0
    # and unmatched again: unmatched again
    assert client.post(f"/v1/bank-transactions/{porto_tx['id']}/unmatch").status == 200
    assert sorted(e["intent_id"] for e in view(client, acc["id"])["unmatched_ledger"]["entries"]) == sorted(
        [porto, deposit])
    # When the deposit is reversed: it and its Storno leave the unmatched entries, the balance nets out
    assert client.post("/v1/journal/reverse", {"intent_id": deposit, "reason": "Fehlbuchung"}).status in (200, 201)
    got = view(client, acc["id"])
    assert [e["intent_id"] for e in got["unmatched_ledger"]["entries"]] == [porto]
    assert got["ledger"]["amount"] == Decimal("76.50") and got["difference"] == 0


def test_given_an_unprojected_booking_then_the_view_sees_it_and_a_settlement_unmatched_leaves_none(
        client: Any, make_client: Any, tenant: Any) -> None:
    acc, [tx] = bank_with(client, "119.00")
    inv = outgoing(client)
    lagging = make_client(tenant.admin_key, project=False)
    intent = book(lagging, "1200", "1000", "5.00", "Einzahlung")
    got = view(lagging, acc["id"])
    assert [e["intent_id"] for e in got["unmatched_ledger"]["entries"]] == [intent]
    assert got["ledger"]["amount"] == Decimal("5.00")
    # a settlement and its Storno never show as unmatched ledger entries
    assert reconcile(client, tx["id"], inv["intent_id"]).status == 200
    assert client.post(f"/v1/bank-transactions/{tx['id']}/unmatch").status == 200
    got = view(client, acc["id"])
    assert [e["intent_id"] for e in got["unmatched_ledger"]["entries"]] == [intent]
    assert got["ledger"]["amount"] == Decimal("5.00") and got["bank"]["open_count"] == 1


def test_given_an_unknown_bank_account_then_404(client: Any) -> None:
    resp = client.get("/v1/bank-accounts/0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c/reconciliation")
    assert (resp.status, code(resp)) == (404, "NOT_FOUND")


def test_given_transactions_in_several_months_then_the_view_reads_only_the_months_with_open_ones(
        client: Any, tenant: Any) -> None:
    from ledgerlou.store.bank import accounts as account_store

    from tests.integration.bank.support import _tenant_of, row

    acc, [jan] = bank_with(client, "10.00", date="2026-01-10")
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [
        row(amount="20.00", booking_date="2026-02-10"), row(amount="30.00", booking_date="2026-03-10")]})
    tenant_id = _tenant_of(client, acc["id"])
    item = account_store.get_account(tenant_id, acc["id"], consistent=True)
    assert item is not None and item.month_open == {"2026-01": 1, "2026-02": 1, "2026-03": 1}
    # When January's transaction is dismissed and another reconciled
    assert client.post(f"/v1/bank-transactions/{jan['id']}/dismiss").status == 200
    feb = next(t for t in client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}").json()["transactions"]
               if t["booking_date"] == "2026-02-10")
    inv = outgoing(client)
    assert reconcile(client, feb["id"], inv["intent_id"]).status == 200
    # Then the account's per-month open counts follow in the same transactions
    item = account_store.get_account(tenant_id, acc["id"], consistent=True)
    assert item is not None and item.month_open == {"2026-01": 0, "2026-02": 0, "2026-03": 1}
    got = view(client, acc["id"])
    assert [t["booking_date"] for t in got["bank"]["open"]] == ["2026-03-10"]
    assert (got["bank"]["open_count"], got["bank"]["reconciled_count"], got["bank"]["dismissed_count"]) == (1, 1, 1)
    # and undoing both counts them again
    assert client.post(f"/v1/bank-transactions/{jan['id']}/unmatch").status == 200
    assert client.post(f"/v1/bank-transactions/{feb['id']}/unmatch").status == 200
    got = view(client, acc["id"])
    assert (got["bank"]["open_count"], got["bank"]["reconciled_count"], got["bank"]["dismissed_count"]) == (3, 0, 0)
    assert len(got["bank"]["open"]) == 3
