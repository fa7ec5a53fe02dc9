"""Foreign-currency bank accounts end to end: a USD account's transactions reconciled with USD open
items — one by one, in a batch, as a match group — the reconciliation view in USD with its EUR base
amount, and unmatch taking every part of it back (the USD side included)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.bank.support import all_transactions, create_account, upload
from tests.integration.receivables.test_customers import customer
from tests.integration.receivables.test_outgoing_invoices import entries
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

USD_IBAN = "DE75512108001245126199"


def view(client: Any, account_id: str) -> dict[str, Any]:
    resp = client.get(f"/v1/bank-accounts/{account_id}/reconciliation")
    assert resp.status == 200, resp.body
    return resp.json()  # type: ignore[no-any-return]


def usd_bank(client: Any, *amounts: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return bank_with(client, *amounts, iban=USD_IBAN, name="USD-Konto", currency="USD")


def ledger_side(got: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    return got["ledger"]["amount"], got["ledger"]["base_amount"], got["difference"]


def test_given_a_usd_receivable_and_liability_reconciled_on_a_usd_account_when_unmatched_then_all_is_undone(
        client: Any) -> None:
    # Given a USD bank account with money in and out, a USD receivable (119.00 USD = 100.00 EUR) and
    # a USD liability (238.00 USD booked at 1.19 = 200.00 EUR)
    acc, [paid_in, paid_out] = usd_bank(client, "119.00", "-238.00")
    inv = outgoing(client, currency="USD", exchange_rate="1.19")
    bill = incoming(client, currency="USD", exchange_rate="1.19", total_net="200.00", total_tax="38.00",
                    total_gross="238.00",
                    lines=[{"description": "Ware", "net_amount": "200.00", "tax_code": "VSt19", "account": "3400"}])
    # When both are reconciled
    r_in = reconcile(client, paid_in["id"], inv["intent_id"])
    r_out = reconcile(client, paid_out["id"], bill["intent_id"], "open_liability", "1600")
    assert (r_in.status, r_out.status) == (200, 200), (r_in.body, r_out.body)
    # Then each settlement is booked at its invoice's rate, and both invoices are paid
    assert entries(client, r_in.json()["intent_id"]) == [("1200", "1400", Decimal("100.00"))]
    assert entries(client, r_out.json()["intent_id"]) == [("1600", "1200", Decimal("200.00"))]
    assert invoice_of(client, inv["id"])["status"] == "paid"
    assert invoice_of(client, bill["id"], "AP")["status"] == "paid"
    # and the view is in USD with its EUR base: −119.00 USD = −100.00 EUR, nothing open, no difference
    got = view(client, acc["id"])
    assert (got["currency"], got["base_currency"]) == ("USD", "EUR")
    assert ledger_side(got) == (Decimal("-119.00"), Decimal("-100.00"), Decimal("0.00"))
    assert got["bank"]["balance"] == Decimal("-119.00") and got["unmatched_ledger"]["entries"] == []
    # When both are unmatched
    for tx in (paid_in, paid_out):
        resp = client.post(f"/v1/bank-transactions/{tx['id']}/unmatch")
        assert resp.status == 200, resp.body
    # Then both invoices are open again, the transactions unreconciled, and the ledger side is back
    # at zero in USD as in EUR (the Stornos carry the USD amounts too)
    assert invoice_of(client, inv["id"])["remaining_amount"] == Decimal("119.00")
    assert invoice_of(client, bill["id"], "AP")["remaining_amount"] == Decimal("238.00")
    assert {tx_status(client, t["id"]) for t in (paid_in, paid_out)} == {"unreconciled"}
    assert account_of(client, acc["id"])["unreconciled_count"] == 2
    got = view(client, acc["id"])
    assert ledger_side(got) == (Decimal("0.00"), Decimal("0.00"), Decimal("-119.00"))
    assert got["unmatched_ledger"]["entries"] == []


def camt053_usd(iban: str, rows: list[tuple[str, str]], day: str = "2026-02-02") -> bytes:
    """A camt.053 statement of a USD account: (signed amount, purpose) per entry."""
    entries = "".join(
        f"<Ntry><Amt Ccy=\"USD\">{amount.lstrip('-')}</Amt><CdtDbtInd>{'DBIT' if amount.startswith('-') else 'CRDT'}"
        f"</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
        f"<AcctSvcrRef>USD-{i}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Acme Corp</Nm></Dbtr>"
        f"</RltdPties><RmtInf><Ustrd>{purpose}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        for i, (amount, purpose) in enumerate(rows))
    return (
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>"
        f"<GrpHdr><MsgId>USD-1</MsgId><CreDtTm>{day}T22:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>USD-STMT-1</Id><CreDtTm>{day}T22:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>USD</Ccy></Acct>{entries}</Stmt></BkToCstmrStmt></Document>\n"
    ).encode()


def imported_usd(client: Any, rows: list[tuple[str, str]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A USD bank account and its transactions from an uploaded camt.053, in the statement's order."""
    acc = create_account(client, iban=USD_IBAN, name="USD-Konto", currency="USD")
    resp = upload(client, camt053_usd(USD_IBAN, rows), acc["id"])
    assert resp.status in (200, 201, 202), resp.body
    listed = {t["purpose"]: t for t in all_transactions(client, acc["id"])}
    txs = [listed[purpose] for _a, purpose in rows]
    assert {t["currency"] for t in txs} == {"USD"}
    return acc, txs


def usd_invoice(client: Any, number: str, gross: str, rate: str, kunde: str | None = None) -> dict[str, Any]:
    """An outgoing invoice in USD without VAT (an export), booked at ``rate`` USD per EUR."""
    return outgoing(client, number, kunde, currency="USD", exchange_rate=rate, total_net=gross, total_tax="0.00",
                    total_gross=gross, lines=[{"description": "Export", "net_amount": gross, "account": "8120"}])


def usd_bill(client: Any, number: str, gross: str, rate: str) -> dict[str, Any]:
    return incoming(client, number, currency="USD", exchange_rate=rate, total_net=gross, total_tax="0.00",
                    total_gross=gross, lines=[{"description": "Import", "net_amount": gross, "account": "3400"}])


def test_given_a_usd_statement_when_batch_reconciled_then_each_pair_at_its_rate_and_bad_pairs_name_currencies(
        client: Any) -> None:
    # Given a camt.053 in USD: two payments in, one out
    acc, [a, b, out, eur_paid] = imported_usd(client, [("119.00", "RE-1"), ("50.00", "RE-2 teilweise"),
                                                       ("-125.00", "Lieferant"), ("20.00", "EUR-Rechnung")])
    inv1 = usd_invoice(client, "RE-1", "119.00", "1.19")  # 100.00 EUR
    inv2 = usd_invoice(client, "RE-2", "100.00", "1.25")  # 80.00 EUR
    bill = usd_bill(client, "B-1", "125.00", "1.25")  # 100.00 EUR
    eur = outgoing(client, "RE-3")  # 119.00 EUR
    before = head(client)
    pairs = [{"bank_transaction_id": a["id"], "intent_id": inv1["intent_id"], "candidate_kind": "open_receivable",
              "open_item_account": "1400"},
             {"bank_transaction_id": b["id"], "intent_id": inv2["intent_id"], "candidate_kind": "open_receivable",
              "open_item_account": "1400"},
             {"bank_transaction_id": out["id"], "intent_id": bill["intent_id"], "candidate_kind": "open_liability",
              "open_item_account": "1600"},
             {"bank_transaction_id": eur_paid["id"], "intent_id": eur["intent_id"],
              "candidate_kind": "open_receivable", "open_item_account": "1400"}]
    # When they are reconciled in one batch
    resp = client.post("/v1/bank-transactions/batch-reconcile", {"pairs": pairs})
    assert resp.status == 200, resp.body
    got = resp.json()
    # Then the three USD pairs are booked, each at its own invoice's rate
    booked = {r["bank_transaction_id"]: r["intent_id"] for r in got["reconciled"]}
    assert set(booked) == {a["id"], b["id"], out["id"]}
    assert entries(client, booked[a["id"]]) == [("1200", "1400", Decimal("100.00"))]
    assert entries(client, booked[b["id"]]) == [("1200", "1400", Decimal("40.00"))]
    assert entries(client, booked[out["id"]]) == [("1600", "1200", Decimal("100.00"))]
    assert invoice_of(client, inv2["id"])["remaining_amount"] == Decimal("50.00")
    assert invoice_of(client, bill["id"], "AP")["status"] == "paid"
    # and the EUR invoice on the USD account is refused, naming both currencies
    [err] = got["errors"]
    assert (err["index"], err["code"]) == (3, "UNSUPPORTED_SETTLEMENT_CURRENCY")
    assert "EUR" in err["message"] and "USD" in err["message"], err["message"]
    assert head(client)[0] == before[0] + 3
    # and the view: 44.00 USD on the ledger = 40.00 EUR, only the EUR-invoice payment open
    view_now = view(client, acc["id"])
    assert ledger_side(view_now) == (Decimal("44.00"), Decimal("40.00"), Decimal("20.00"))
    assert [t["id"] for t in view_now["bank"]["open"]] == [eur_paid["id"]]
    # When the batch's pairs are unmatched: the view is back where it began
    for tx in (a, b, out):
        assert client.post(f"/v1/bank-transactions/{tx['id']}/unmatch").status == 200
    assert ledger_side(view(client, acc["id"])) == (Decimal("0.00"), Decimal("0.00"), Decimal("64.00"))
    assert account_of(client, acc["id"])["unreconciled_count"] == 4


def test_given_seed_003s_example_in_usd_on_a_usd_account_then_one_intent_each_line_at_its_rate(client: Any) -> None:
    # Given seed 003's example in USD: 119 + 228 USD paying 119 USD (at 1.19) and 238 USD (at 1.25)
    # with 10 USD written off
    acc, [t1, t2] = imported_usd(client, [("119.00", "RE-1"), ("228.00", "RE-2")])
    kunde = customer(client, default_account="8120")["id"]
    inv1 = usd_invoice(client, "RE-1", "119.00", "1.19", kunde)  # 100.00 EUR
    inv2 = usd_invoice(client, "RE-2", "238.00", "1.25", kunde)  # 190.40 EUR
    body = {"bank_transaction_ids": [t1["id"], t2["id"]],
            "allocations": [{"intent_id": inv1["intent_id"], "candidate_kind": "open_receivable",
                             "open_item_account": "1400", "allocated_bank_amount": 119},
                            {"intent_id": inv2["intent_id"], "candidate_kind": "open_receivable",
                             "open_item_account": "1400", "allocated_bank_amount": 228,
                             "settled_document_amount": 238}],
            "adjustments": [{"account_number": "2309", "posting_side": "debit", "amount": 10,
                             "description": "Kleinbetragsdifferenz"}]}
    # When the group is created
    resp = client.post("/v1/bank-match-groups", body)
    assert resp.status == 201, resp.body
    intent_id = resp.json()["intent_id"]
    # Then one intent: each item at its own booked rate (no FX difference: the USD stays USD), the
    # write-off at the items' mean rate (10 × 290.40 / 357 = 8.13 EUR)
    assert entries(client, intent_id) == sorted([("1200", "1400", Decimal("100.00")),
                                                 ("1200", "1400", Decimal("190.40")),
                                                 ("2309", "1200", Decimal("8.13"))])
    meta = client.get(f"/v1/journal/{intent_id}").json()["metadata"]
    assert (meta["fx"]["currency"], meta["fx"]["total_foreign"]) == ("USD", "367.00")
    assert [ln["fx_amount"] for ln in meta["lines"]] == [Decimal("119.00"), Decimal("238.00"), Decimal("10.00")]
    assert {tx_status(client, t["id"]) for t in (t1, t2)} == {"reconciled"}
    assert {invoice_of(client, i["id"])["status"] for i in (inv1, inv2)} == {"paid"}
    # and the view: 347.00 USD on the ledger, 282.27 EUR, nothing open, no difference
    got = view(client, acc["id"])
    assert ledger_side(got) == (Decimal("347.00"), Decimal("282.27"), Decimal("0.00"))
    assert got["bank"]["open"] == [] and got["unmatched_ledger"]["entries"] == []
    # When the group is unmatched: the Storno takes back EUR and USD, both invoices reopen
    resp = client.post(f"/v1/bank-match-groups/{resp.json()['match_group_id']}/unmatch")
    assert resp.status == 200, resp.body
    assert {invoice_of(client, i["id"])["remaining_amount"] for i in (inv1, inv2)} == {Decimal("119.00"),
                                                                                    Decimal("238.00")}
    assert ledger_side(view(client, acc["id"])) == (Decimal("0.00"), Decimal("0.00"), Decimal("347.00"))
    assert account_of(client, acc["id"])["unreconciled_count"] == 2


def test_given_a_usd_liability_in_a_group_on_a_usd_account_then_money_out_settles_it(client: Any) -> None:
    acc, [fee_paid] = imported_usd(client, [("-130.00", "B-1 incl. fee")])
    bill = usd_bill(client, "B-1", "125.00", "1.25")  # 100.00 EUR
    resp = client.post("/v1/bank-match-groups", {
        "bank_transaction_ids": [fee_paid["id"]],
        "allocations": [{"intent_id": bill["intent_id"], "candidate_kind": "open_liability",
                         "open_item_account": "1600", "allocated_bank_amount": 130, "settled_document_amount": 125}],
        "adjustments": [{"account_number": "4970", "posting_side": "debit", "amount": 5, "description": "Gebühr"}]})
    assert resp.status == 201, resp.body
    assert entries(client, resp.json()["intent_id"]) == sorted([("1600", "1200", Decimal("100.00")),
                                                                ("4970", "1200", Decimal("4.00"))])
    assert invoice_of(client, bill["id"], "AP")["status"] == "paid"
    assert ledger_side(view(client, acc["id"])) == (Decimal("-130.00"), Decimal("-104.00"), Decimal("0.00"))


def test_given_bad_usd_groups_and_links_then_the_messages_name_amounts_and_currencies(client: Any) -> None:
    acc, [t1, t2] = imported_usd(client, [("119.00", "RE-1"), ("59.50", "Bar")])
    inv = usd_invoice(client, "RE-1", "119.00", "1.19")
    eur = outgoing(client, "RE-2")
    before = head(client)

    def group(allocations: list[dict[str, Any]], adjustments: Any = ()) -> Any:
        return client.post("/v1/bank-match-groups", {"bank_transaction_ids": [t1["id"]],
                                                      "allocations": allocations, "adjustments": list(adjustments)})

    def alloc(invoice: dict[str, Any], amount: str, settled: str | None = None) -> dict[str, Any]:
        out = {"intent_id": invoice["intent_id"], "candidate_kind": "open_receivable", "open_item_account": "1400",
               "allocated_bank_amount": amount}
        return {**out, "settled_document_amount": settled} if settled else out

    cases = [
        (group([alloc(eur, "119")]), 422, "UNSUPPORTED_SETTLEMENT_CURRENCY", ["EUR", "USD", "RE-2"]),
        (group([alloc(inv, "100")]), 400, "GROUP_NOT_BALANCED", ["100.00 USD", "119.00 USD"]),
        (group([alloc(inv, "119", "109")]), 400, "GROUP_NOT_BALANCED", ["109.00 USD", "119.00 USD", "10.00 USD"]),
        (group([alloc(inv, "119", "120")]), 400, "SETTLEMENT_EXCEEDS_OPEN_AMOUNT", ["119.00 USD", "120.00 USD"]),
        (group([alloc(inv, "119", "109")], [{"account_number": "8736", "posting_side": "debit", "amount": 10,
                                             "tax_code": "USt19"}]), 400, "INVALID_INPUT", ["tax", "USD"]),
    ]
    for resp, status, error, words in cases:
        assert (resp.status, code(resp)) == (status, error), resp.body
        message = resp.json()["error"]["message"]
        assert all(w in message for w in words), message
    # a booking in EUR only on the USD account's ledger account cannot be linked: it posts no USD
    eur_only = client.post("/v1/bookings", {"booking_date": "2026-02-02", "description": "Bar", "lines": [
        {"account_debit": "1200", "account_credit": "8400", "amount": "50.00"}]}).json()["intent_id"]
    resp = reconcile(client, t2["id"], eur_only, "booking", None)
    assert (resp.status, code(resp)) == (400, "AMOUNT_MISMATCH")
    assert "no USD amount" in resp.json()["error"]["message"] and "50.00 EUR" in resp.json()["error"]["message"]
    # one booked in USD of another amount: both amounts with their currency
    usd = client.post("/v1/bookings", {"booking_date": "2026-02-02", "description": "Bar USD",
                                       "fx": {"currency": "USD", "rate": "1.19"}, "lines": [
        {"account_debit": "1200", "account_credit": "8400", "amount": "60.00"}]}).json()["intent_id"]
    resp = reconcile(client, t2["id"], usd, "booking", None)
    assert (resp.status, code(resp)) == (400, "AMOUNT_MISMATCH")
    assert "60.00 USD" in resp.json()["error"]["message"] and "59.50 USD" in resp.json()["error"]["message"]
    assert head(client)[0] == before[0] + 2  # only the two bookings of the test itself
    # and one of the right USD amount links
    right = client.post("/v1/bookings", {"booking_date": "2026-02-02", "description": "Bar USD richtig",
                                         "fx": {"currency": "USD", "rate": "1.19"}, "lines": [
        {"account_debit": "1200", "account_credit": "8400", "amount": "59.50"}]}).json()["intent_id"]
    assert reconcile(client, t2["id"], right, "booking", None).status == 200
    # (the ledger's USD side: 60.00 + 59.50; the EUR-only booking has none)
    assert ledger_side(view(client, acc["id"]))[0] == Decimal("119.50")
