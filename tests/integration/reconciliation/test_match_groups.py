"""POST /v1/bank-match-groups and …/{id}/unmatch (seed 003): one balanced intent for several transactions
and open items, with allocations, FX differences and adjustments (Skonto with its VAT correction); every
error code of the seed a clear 4xx with nothing booked; unmatch reverses the intent and reopens all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.bank.support import OTHER_IBAN, create_account, row
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


def alloc(inv: dict[str, Any], allocated: str, settled: str | None = None, account: str = "1400",
          kind: str = "open_receivable") -> dict[str, Any]:
    out = {"intent_id": inv["intent_id"], "candidate_kind": kind, "open_item_account": account,
           "allocated_bank_amount": allocated}
    if settled is not None:
        out["settled_document_amount"] = settled
    return out


def entries(client: Any, intent_id: str) -> list[tuple[str, str, Decimal]]:
    view = client.get(f"/v1/journal/{intent_id}").json()
    return sorted((e["account_debit"], e["account_credit"], e["amount"]) for e in view["entries"])


@pytest.fixture
def skr04(make_client: Any) -> Any:
    from ledgerlou.domain.admin import tenants

    return make_client(tenants.create_tenant("SKR04 GmbH", "skr04").admin_key)


def test_given_seed_003s_example_on_an_skr04_tenant_then_one_balanced_intent_settles_both(skr04: Any) -> None:
    # Given (seed 003, with SKR04 accounts: receivables 1200, bank 1800; the seed's 6990 exists in neither
    # chart, so the 10 written off go to 6969 "Sonstige Aufwendungen unregelmäßig")
    acc, [tx1, tx2] = bank_with(skr04, "119.00", "228.00")
    assert acc["ledger_account"] == "1800"
    kunde = customer(skr04, default_account="4400")["id"]
    line = {"description": "Ware", "tax_code": "USt19", "account": "4400"}
    first = outgoing(skr04, "RE-1", kunde, lines=[{**line, "net_amount": "100.00"}])
    second = outgoing(skr04, "RE-2", kunde, total_net="200.00", total_tax="38.00", total_gross="238.00",
                      lines=[{**line, "net_amount": "200.00"}])
    # When 119 + 228 are matched to 119 and 238 with 10 written off
    resp = skr04.post("/v1/bank-match-groups", {
        "bank_transaction_ids": [tx1["id"], tx2["id"]],
        "allocations": [alloc(first, "119", account="1200"), alloc(second, "228", "238", account="1200")],
        "adjustments": [{"account_number": "6969", "posting_side": "debit", "amount": 10,
                         "description": "Kleinbetragsdifferenz"}]})
    # Then one intent books the group, balanced on the bank account, and both invoices are paid
    assert resp.status == 201, resp.body
    got = resp.json()
    assert got["ok"] is True and got["mode"] == "settlement" and got["match_group_id"]
    assert entries(skr04, got["intent_id"]) == [("1800", "1200", Decimal("119.00")),
                                                ("1800", "1200", Decimal("238.00")),
                                                ("6969", "1800", Decimal("10.00"))]
    assert invoice_of(skr04, first["id"])["status"] == "paid" == invoice_of(skr04, second["id"])["status"]
    assert {tx_status(skr04, t["id"]) for t in (tx1, tx2)} == {"reconciled"}
    assert account_of(skr04, acc["id"])["unreconciled_count"] == 0
    view = skr04.get(f"/v1/journal/{got['intent_id']}").json()
    assert sorted(view["linked_intents"]["settles_intent_ids"]) == sorted([first["intent_id"], second["intent_id"]])
    # When the group is unmatched: its intent is reversed and everything reopens
    undone = skr04.post(f"/v1/bank-match-groups/{got['match_group_id']}/unmatch")
    assert undone.status == 200, undone.body
    assert undone.json()["status"] == "unmatched" and undone.json()["reversal_intent_id"]
    assert entries(skr04, undone.json()["reversal_intent_id"]) == [("1200", "1800", Decimal("119.00")),
                                                                   ("1200", "1800", Decimal("238.00")),
                                                                   ("1800", "6969", Decimal("10.00"))]
    assert invoice_of(skr04, first["id"])["remaining_amount"] == Decimal("119.00")
    assert invoice_of(skr04, second["id"])["remaining_amount"] == Decimal("238.00")
    assert {tx_status(skr04, t["id"]) for t in (tx1, tx2)} == {"unreconciled"}
    assert account_of(skr04, acc["id"])["unreconciled_count"] == 2
    again = skr04.post(f"/v1/bank-match-groups/{got['match_group_id']}/unmatch")
    assert (again.status, code(again)) == (409, "INVALID_STATE")


def test_given_skonto_with_a_tax_code_then_the_output_vat_is_corrected(client: Any) -> None:
    _acc, [tx] = bank_with(client, "1166.20")
    inv = outgoing(client, total_net="1000.00", total_tax="190.00", total_gross="1190.00",
                   lines=[{"description": "Ware", "net_amount": "1000.00", "tax_code": "USt19", "account": "8400"}])
    # When 1 166.20 pay the 1 190.00 with 3 % Skonto, gross on 8736 with USt19 (§17 UStG)
    resp = client.post("/v1/bank-match-groups", {
        "bank_transaction_ids": [tx["id"]], "allocations": [alloc(inv, "1166.20", "1190.00")],
        "adjustments": [{"account_number": "8736", "posting_side": "debit", "amount": "23.80", "tax_code": "USt19",
                         "description": "Skonto 2 %"}]})
    # Then the Skonto is booked net and its VAT taken back from the output-VAT account
    assert resp.status == 201, resp.body
    assert entries(client, resp.json()["intent_id"]) == [("1200", "1400", Decimal("1190.00")),
                                                         ("1776", "1200", Decimal("3.80")),
                                                         ("8736", "1200", Decimal("20.00"))]
    assert invoice_of(client, inv["id"])["status"] == "paid"
    # and the VAT return takes the correction off the 19 % box: base 1 000.00 − 20.00, tax 190.00 − 3.80
    report = client.get("/v1/reports?type=vat_return&startDate=2026-01-01&endDate=2026-02-28").json()
    box = next(r for r in report if r["kennzahl"] == "81")
    assert (box["base"], box["tax"]) == (Decimal("980.00"), Decimal("186.20"))


@pytest.mark.parametrize(("received", "fx_lines"), [
    ("98.00", [("2150", "1200", Decimal("2.00"))]),  # less than booked: an FX loss
    ("101.00", [("1200", "2660", Decimal("1.00"))]),  # more: an FX gain
])
def test_given_an_open_item_in_usd_paid_in_eur_then_the_difference_is_an_fx_gain_or_loss(
        client: Any, received: str, fx_lines: list[tuple[str, str, Decimal]]) -> None:
    _acc, [tx] = bank_with(client, received)
    inv = outgoing(client, currency="USD", exchange_rate="1.19")  # 119.00 USD booked at 100.00 EUR
    assert client.get(f"/v1/outgoing-invoices/{inv['id']}").json()["base_total_gross"] == Decimal("100.00")
    without = client.post("/v1/bank-match-groups", {"bank_transaction_ids": [tx["id"]],
                                                    "allocations": [alloc(inv, received)]})
    assert (without.status, code(without)) == (400, "SETTLED_DOCUMENT_AMOUNT_REQUIRED")
    resp = client.post("/v1/bank-match-groups", {"bank_transaction_ids": [tx["id"]],
                                                 "allocations": [alloc(inv, received, "119.00")]})
    assert resp.status == 201, resp.body
    assert entries(client, resp.json()["intent_id"]) == sorted([("1200", "1400", Decimal("100.00")), *fx_lines])
    assert invoice_of(client, inv["id"])["status"] == "paid"


def test_given_bad_groups_then_every_seed_code_is_a_clear_4xx_and_nothing_is_booked(client: Any) -> None:
    acc, [in1, in2, out1] = bank_with(client, "119.00", "50.00", "-10.00")
    other = create_account(client, iban=OTHER_IBAN, name="Zweitbank")
    client.post("/v1/bank-transactions", {"bank_account_id": other["id"], "transactions": [row(amount="5.00")]})
    [elsewhere] = client.get(f"/v1/bank-transactions?bank_account_id={other['id']}").json()["transactions"]
    usd_account = create_account(client, iban="DE75512108001245126199", name="USD", currency="USD",
                                 ledger_account="1220")
    client.post("/v1/bank-transactions", {"bank_account_id": usd_account["id"],
                                          "transactions": [row(amount="119.00", currency="USD")]})
    [usd_tx] = client.get(f"/v1/bank-transactions?bank_account_id={usd_account['id']}").json()["transactions"]
    inv = outgoing(client)
    small = outgoing(client, "RE-2026-002", total_net="10.00", total_tax="1.90", total_gross="11.90",
                     lines=[{"description": "x", "net_amount": "10.00", "tax_code": "USt19", "account": "8400"}])
    usd = outgoing(client, "RE-2026-003", currency="USD", exchange_rate="1.19")
    before = head(client)

    def group(txs: list[str], allocations: list[dict[str, Any]], adjustments: Any = ()) -> Any:
        return client.post("/v1/bank-match-groups", {"bank_transaction_ids": txs, "allocations": allocations,
                                                     "adjustments": list(adjustments)})

    cases = [
        (group([in1["id"], elsewhere["id"]], [alloc(inv, "124")]), 400, "BANK_TX_MIXED_BANK_ACCOUNTS"),
        (group([in1["id"], out1["id"]], [alloc(inv, "109")]), 400, "DIRECTION_MISMATCH"),
        (group([out1["id"]], [alloc(small, "10")]), 400, "DIRECTION_MISMATCH"),
        (group([in1["id"], in2["id"]], [alloc(inv, "100"), alloc(usd, "69", "69")]), 400,
         "MIXED_SETTLEMENT_CURRENCY"),
        (group([in1["id"]], [alloc(inv, "100")]), 400, "GROUP_NOT_BALANCED"),
        (group([in2["id"]], [alloc(inv, "50", "60")]), 400, "GROUP_NOT_BALANCED"),
        (group([in1["id"]], [alloc(small, "119", "119")]), 400, "SETTLEMENT_EXCEEDS_OPEN_AMOUNT"),
        (group([in1["id"]], [alloc(usd, "119")]), 400, "SETTLED_DOCUMENT_AMOUNT_REQUIRED"),
        # a EUR item on the USD account (USD items are settled there: test_foreign_currency.py)
        (group([usd_tx["id"]], [alloc(inv, "119")]), 422, "UNSUPPORTED_SETTLEMENT_CURRENCY"),
        (group([in1["id"]], [{**alloc(inv, "119"), "candidate_kind": "booking"}]), 400, "TARGET_KIND_UNSUPPORTED"),
        (group([in2["id"]], [alloc(inv, "50", "60")], [{"account_number": "6990", "posting_side": "debit",
                                                       "amount": 10}]), 404, "ADJUSTMENT_ACCOUNT_NOT_FOUND"),
        (group([in1["id"]], []), 400, "INVALID_INPUT"),
        (group([], [alloc(inv, "119")]), 400, "INVALID_INPUT"),
        (group([in1["id"], in1["id"]], [alloc(inv, "238")]), 400, "INVALID_INPUT"),
        (group([A], [alloc(inv, "119")]), 404, "NOT_FOUND"),
        (group([in1["id"]], [{**alloc(inv, "119"), "intent_id": A}]), 404, "NOT_FOUND"),
    ]
    for i, (resp, status, wanted) in enumerate(cases):
        assert (resp.status, code(resp)) == (status, wanted), (i, resp.body)
    # Then nothing was booked and every transaction is still open
    assert head(client) == before
    assert {tx_status(client, t["id"]) for t in (in1, in2, out1, elsewhere)} == {"unreconciled"}
    assert account_of(client, acc["id"])["unreconciled_count"] == 3
    # and a reconciled transaction cannot join a group
    assert client.post(f"/v1/bank-transactions/{in2['id']}/dismiss").status == 200
    taken = group([in2["id"]], [alloc(inv, "50")])
    assert (taken.status, code(taken)) == (409, "BANK_TX_NOT_OPEN")
    missing = client.post(f"/v1/bank-match-groups/{A}/unmatch")
    assert (missing.status, code(missing)) == (404, "NOT_FOUND")


def test_given_payables_with_received_skonto_then_the_input_vat_is_corrected(client: Any) -> None:
    from tests.integration.reconciliation.support import incoming

    _acc, [tx] = bank_with(client, "-1166.20")
    inv = incoming(client, total_net="1000.00", total_tax="190.00", total_gross="1190.00",
                   lines=[{"description": "Ware", "net_amount": "1000.00", "tax_code": "VSt19"}])
    resp = client.post("/v1/bank-match-groups", {
        "bank_transaction_ids": [tx["id"]],
        "allocations": [alloc(inv, "1166.20", "1190.00", "1600", "open_liability")],
        "adjustments": [{"account_number": "3736", "posting_side": "credit", "amount": "23.80", "tax_code": "VSt19"}]})
    assert resp.status == 201, resp.body
    assert entries(client, resp.json()["intent_id"]) == [("1200", "1576", Decimal("3.80")),
                                                         ("1200", "3736", Decimal("20.00")),
                                                         ("1600", "1200", Decimal("1190.00"))]
    assert invoice_of(client, inv["id"], "AP")["status"] == "paid"


def test_given_a_group_the_journal_refuses_then_every_transaction_is_open_again(client: Any) -> None:
    acc, [a, b] = bank_with(client, "60.00", "59.00", date="2026-01-20")
    inv = outgoing(client)
    assert client.post("/v1/periods/2026-01/soft-lock", {}).status in (200, 201)
    before = head(client)
    resp = client.post("/v1/bank-match-groups", {"bank_transaction_ids": [a["id"], b["id"]],
                                                 "allocations": [alloc(inv, "119.00")]})
    assert (resp.status, code(resp)) == (409, "PERIOD_LOCKED")
    assert head(client) == before
    assert {tx_status(client, t["id"]) for t in (a, b)} == {"unreconciled"}
    assert account_of(client, acc["id"])["unreconciled_count"] == 2
    # and once the period is open again the same group goes through
    assert client.post("/v1/periods/2026-01/reopen", {}).status in (200, 201)
    assert client.post("/v1/bank-match-groups", {"bank_transaction_ids": [a["id"], b["id"]],
                                                 "allocations": [alloc(inv, "119.00")]}).status == 201
