"""POST /v1/bank-transactions/{id}/reconcile: against an open receivable / liability (a settlement intent,
partial payments), by linking an existing booking; every refusal a clear 4xx with nothing booked; one
winner under concurrent reconciliations."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from tests.integration.reconciliation.support import (
    account_of,
    bank_with,
    code,
    head,
    incoming,
    invoice_of,
    outgoing,
    reconcile,
    tx_status,
)


def test_given_money_in_and_an_open_receivable_when_reconciled_then_a_settlement_is_booked_and_the_item_paid(
        client: Any) -> None:
    acc, [tx] = bank_with(client, "119.00")
    inv = outgoing(client)
    # When the transaction is reconciled against the open receivable
    resp = reconcile(client, tx["id"], inv["intent_id"])
    # Then a settlement intent debits the bank's ledger account and credits the receivable
    assert resp.status == 200, resp.body
    got = resp.json()
    assert got["ok"] is True and got["mode"] == "settlement"
    view = client.get(f"/v1/journal/{got['intent_id']}").json()
    assert [(e["account_debit"], e["account_credit"], e["amount"]) for e in view["entries"]] == [
        ("1200", "1400", Decimal("119.00"))]
    assert view["summary"]["booking_date"] == "2026-02-01"
    assert view["summary"]["source"] == "bank_reconciliation"
    assert view["linked_intents"]["settles_intent_ids"] == [inv["intent_id"]]
    # and the invoice is paid, the transaction reconciled, the counter one less
    assert invoice_of(client, inv["id"])["status"] == "paid"
    assert tx_status(client, tx["id"]) == "reconciled"
    assert account_of(client, acc["id"])["unreconciled_count"] == 0


def test_given_less_than_the_remaining_amount_then_a_partial_payment(client: Any) -> None:
    _acc, [first, second] = bank_with(client, "50.00", "69.00")
    inv = outgoing(client)
    assert reconcile(client, first["id"], inv["intent_id"]).status == 200
    got = invoice_of(client, inv["id"])
    assert (got["status"], got["remaining_amount"]) == ("partially_paid", Decimal("69.00"))
    assert reconcile(client, second["id"], inv["intent_id"]).status == 200
    assert invoice_of(client, inv["id"])["status"] == "paid"


def test_given_money_out_and_an_open_liability_then_the_payable_is_debited(client: Any) -> None:
    _acc, [tx] = bank_with(client, "-119.00")
    inv = incoming(client)
    resp = reconcile(client, tx["id"], inv["intent_id"], "open_liability", "1600")
    assert resp.status == 200, resp.body
    view = client.get(f"/v1/journal/{resp.json()['intent_id']}").json()
    assert [(e["account_debit"], e["account_credit"]) for e in view["entries"]] == [("1600", "1200")]
    assert invoice_of(client, inv["id"], "AP")["status"] == "paid"


def test_given_an_existing_booking_of_the_payment_when_linked_then_nothing_is_booked(client: Any) -> None:
    _acc, [tx] = bank_with(client, "-42.50")
    booked = client.post("/v1/bookings", {"booking_date": "2026-02-01", "description": "Porto",
                                          "lines": [{"account_debit": "4910", "account_credit": "1200",
                                                     "amount": "42.50"}]}).json()
    before = head(client)
    # When the transaction is linked to that booking
    resp = reconcile(client, tx["id"], booked["intent_id"], "booking", None)
    # Then it is reconciled by a link; the journal is unchanged
    assert resp.status == 200, resp.body
    assert resp.json() == {"ok": True, "mode": "link", "intent_id": booked["intent_id"]}
    assert head(client) == before and tx_status(client, tx["id"]) == "reconciled"


def test_given_a_booking_with_another_amount_or_direction_then_refused(client: Any) -> None:
    _acc, [tx] = bank_with(client, "-42.50")
    other = client.post("/v1/bookings", {"booking_date": "2026-02-01", "description": "Porto",
                                         "lines": [{"account_debit": "4910", "account_credit": "1200",
                                                    "amount": "40.00"}]}).json()
    inbound = client.post("/v1/bookings", {"booking_date": "2026-02-01", "description": "Erstattung",
                                           "lines": [{"account_debit": "1200", "account_credit": "4910",
                                                      "amount": "42.50"}]}).json()
    elsewhere = client.post("/v1/bookings", {"booking_date": "2026-02-01", "description": "Kasse",
                                             "lines": [{"account_debit": "4910", "account_credit": "1000",
                                                        "amount": "42.50"}]}).json()
    before = head(client)
    assert code(reconcile(client, tx["id"], other["intent_id"], "booking", None)) == "AMOUNT_MISMATCH"
    assert code(reconcile(client, tx["id"], inbound["intent_id"], "booking", None)) == "DIRECTION_MISMATCH"
    assert code(reconcile(client, tx["id"], elsewhere["intent_id"], "booking", None)) == "AMOUNT_MISMATCH"
    assert head(client) == before and tx_status(client, tx["id"]) == "unreconciled"


def test_given_bad_targets_then_each_is_a_clear_4xx_and_nothing_is_booked(client: Any) -> None:
    acc, [money_in, money_out] = bank_with(client, "119.00", "-119.00")
    inv = outgoing(client)
    payable = incoming(client)
    big = outgoing(client, "RE-2026-002", total_net="10.00", total_tax="1.90", total_gross="11.90",
                   lines=[{"description": "x", "net_amount": "10.00", "tax_code": "USt19", "account": "8400"}])
    before = head(client)
    cases = [
        (money_in["id"], inv["intent_id"], "open_asset", "1400", 400, "TARGET_KIND_UNSUPPORTED"),
        (money_in["id"], payable["intent_id"], "open_liability", "1600", 400, "DIRECTION_MISMATCH"),
        (money_out["id"], inv["intent_id"], "open_receivable", "1400", 400, "DIRECTION_MISMATCH"),
        (money_in["id"], big["intent_id"], "open_receivable", "1400", 400, "SETTLEMENT_EXCEEDS_OPEN_AMOUNT"),
        (money_in["id"], inv["intent_id"], "open_receivable", "1600", 400, "INVALID_INPUT"),
        (money_in["id"], payable["intent_id"], "open_receivable", "1400", 400, "INVALID_INPUT"),
        (money_in["id"], "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c", "open_receivable", "1400", 404, "NOT_FOUND"),
        ("0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c", inv["intent_id"], "open_receivable", "1400", 404, "NOT_FOUND"),
    ]
    for tx_id, intent_id, kind, account, status, wanted in cases:
        resp = reconcile(client, tx_id, intent_id, kind, account)
        assert (resp.status, code(resp)) == (status, wanted), (kind, resp.body)
    assert code(reconcile(client, money_in["id"], inv["intent_id"], open_item_account=None)) == "INVALID_INPUT"
    # Then nothing was booked, nothing changed
    assert head(client) == before
    assert [tx_status(client, t["id"]) for t in (money_in, money_out)] == ["unreconciled", "unreconciled"]
    assert account_of(client, acc["id"])["unreconciled_count"] == 2
    assert invoice_of(client, inv["id"])["remaining_amount"] == Decimal("119.00")


def test_given_a_reconciled_transaction_when_reconciled_again_then_409_bank_tx_not_open(client: Any) -> None:
    _acc, [tx] = bank_with(client, "50.00")
    inv = outgoing(client)
    assert reconcile(client, tx["id"], inv["intent_id"]).status == 200
    before = head(client)
    resp = reconcile(client, tx["id"], inv["intent_id"])
    assert (resp.status, code(resp)) == (409, "BANK_TX_NOT_OPEN")
    assert head(client) == before and invoice_of(client, inv["id"])["remaining_amount"] == Decimal("69.00")


def test_given_concurrent_reconciliations_of_one_transaction_then_one_wins_and_one_settlement_is_booked(
        client: Any, make_client: Any, tenant: Any) -> None:
    acc, [tx] = bank_with(client, "10.00")
    inv = outgoing(client)
    before_entries, _hash = head(client)
    # When 6 clients reconcile the same transaction at the same moment
    barrier = threading.Barrier(6)
    results: list[Any] = []
    racers = [make_client(tenant.admin_key, project=False) for _ in range(6)]

    def race(c: Any) -> None:
        barrier.wait()
        results.append(reconcile(c, tx["id"], inv["intent_id"]))

    threads = [threading.Thread(target=race, args=(c,)) for c in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly one won; every loser got 409, never a second settlement
    assert sorted(r.status for r in results) == [200] + [409] * 5, [r.body for r in results]
    assert {code(r) for r in results if r.status == 409} == {"BANK_TX_NOT_OPEN"}
    client.post("/v1/bank-transactions/0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c/dismiss")  # drives the projector
    assert head(client)[0] == before_entries + 1
    assert invoice_of(client, inv["id"])["remaining_amount"] == Decimal("109.00")
    assert account_of(client, acc["id"])["unreconciled_count"] == 0


def test_given_concurrent_reconciliations_of_many_transactions_then_the_counter_is_exact(
        client: Any, make_client: Any, tenant: Any) -> None:
    acc, txs = bank_with(client, *["1.00"] * 8)
    inv = outgoing(client)
    barrier = threading.Barrier(8)
    results: list[Any] = []

    def race(tx: dict[str, Any]) -> None:
        c = make_client(tenant.admin_key, project=False)
        barrier.wait()
        results.append(reconcile(c, tx["id"], inv["intent_id"]))

    threads = [threading.Thread(target=race, args=(t,)) for t in txs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then every one of them landed (they share a page and the account's counter)
    assert [r.status for r in results] == [200] * 8, [r.body for r in results]
    assert account_of(client, acc["id"])["unreconciled_count"] == 0
    assert invoice_of(client, inv["id"])["remaining_amount"] == Decimal("111.00")


def test_given_an_invoice_the_projector_has_not_reached_then_it_can_be_reconciled_at_once(
        client: Any, make_client: Any, tenant: Any) -> None:
    _acc, [tx] = bank_with(client, "119.00")
    lagging = make_client(tenant.admin_key, project=False)
    inv = outgoing(lagging)
    resp = reconcile(lagging, tx["id"], inv["intent_id"])
    assert resp.status == 200, resp.body
    assert invoice_of(lagging, inv["id"])["status"] == "paid"


def test_given_a_usd_bank_account_and_a_usd_invoice_then_the_settlement_is_booked_at_the_invoices_rate(
        client: Any) -> None:
    acc, [tx] = bank_with(client, "59.50", currency="USD")
    inv = outgoing(client, currency="USD", exchange_rate="1.19")  # 119.00 USD booked at 100.00 EUR
    resp = reconcile(client, tx["id"], inv["intent_id"])
    assert resp.status == 200, resp.body
    view = client.get(f"/v1/journal/{resp.json()['intent_id']}").json()
    assert [(e["account_debit"], e["account_credit"], e["amount"]) for e in view["entries"]] == [
        ("1200", "1400", Decimal("50.00"))]
    got = invoice_of(client, inv["id"])
    assert (got["status"], got["remaining_amount"]) == ("partially_paid", Decimal("59.50"))
    # and the view shows the USD ledger amount next to its EUR base amount
    rec = client.get(f"/v1/bank-accounts/{acc['id']}/reconciliation").json()
    assert (rec["currency"], rec["ledger"]["amount"], rec["ledger"]["base_amount"]) == (
        "USD", Decimal("59.50"), Decimal("50.00"))
    assert rec["difference"] == 0


def test_given_a_eur_bank_account_and_a_usd_invoice_then_422_use_a_match_group(client: Any) -> None:
    _acc, [tx] = bank_with(client, "100.00")
    inv = outgoing(client, currency="USD", exchange_rate="1.19")
    before = head(client)
    resp = reconcile(client, tx["id"], inv["intent_id"])
    assert (resp.status, code(resp)) == (422, "UNSUPPORTED_SETTLEMENT_CURRENCY")
    assert head(client) == before


def test_given_eight_transactions_reconciled_at_once_and_two_racing_for_a_ninth_then_the_count_is_exact(
        client: Any, make_client: Any, tenant: Any) -> None:
    # Given nine transactions of one account (one page, one counter) and an open invoice
    acc, txs = bank_with(client, *["1.00"] * 9)
    inv = outgoing(client)
    contested = txs[8]
    # When 8 clients reconcile the 8 others and 2 more race for the ninth, all at the same moment
    targets = [*txs[:8], contested, contested]
    barrier = threading.Barrier(len(targets))
    results: dict[int, Any] = {}

    def race(k: int, tx: dict[str, Any]) -> None:
        c = make_client(tenant.admin_key, project=False)
        barrier.wait()
        results[k] = reconcile(c, tx["id"], inv["intent_id"])

    threads = [threading.Thread(target=race, args=(k, t)) for k, t in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then the 8 land, exactly one of the two racers wins and the other gets 409
    assert [results[k].status for k in range(8)] == [200] * 8, [results[k].body for k in range(8)]
    assert sorted(results[k].status for k in (8, 9)) == [200, 409]
    assert {code(results[k]) for k in (8, 9) if results[k].status == 409} == {"BANK_TX_NOT_OPEN"}
    # and the counter and the statuses are exact: 9 settlements of 1.00, none open
    assert account_of(client, acc["id"])["unreconciled_count"] == 0
    assert {tx_status(client, t["id"]) for t in txs} == {"reconciled"}
    assert invoice_of(client, inv["id"])["remaining_amount"] == Decimal("110.00")
