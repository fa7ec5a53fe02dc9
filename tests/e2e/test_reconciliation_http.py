"""e2e: bank reconciliation over HTTP against `python -m local` (what `make run` starts): reconcile a
payment against an open receivable, see both sides in the reconciliation view, unmatch it (Storno),
batch-reconcile, a match group and its unmatch — the ReconciliationFunction behind the local gateway,
the projector fed by the stream poller as on AWS."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("reconciliation") / "state")
    try:
        yield srv
    finally:
        srv.stop()


def eventually(read: Callable[[], Any], ok: Callable[[Any], bool], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        got = read()
        if ok(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def _invoice(server: Server, customer_id: str, number: str, gross: int) -> dict[str, Any]:
    net = round(gross / 1.19, 2)
    status, created = server.call("POST", "/v1/outgoing-invoices", {
        "customer_id": customer_id, "invoice_number": number, "invoice_date": "2026-01-15", "due_date": "2026-02-14",
        "total_net": net, "total_tax": round(gross - net, 2), "total_gross": gross,
        "lines": [{"net_amount": net, "tax_code": "USt19"}]})
    assert status == 201, created
    return created  # type: ignore[no-any-return]


def test_given_the_local_runtime_then_reconcile_view_unmatch_batch_and_groups_work_over_http(server: Server) -> None:
    status, acc = server.call("POST", "/v1/bank-accounts", {"name": "Abgleich", "iban": "DE02120300000000202051"})
    assert status == 201, acc
    status, kunde = server.call("POST", "/v1/customers", {"name": "Abgleich Kunde GmbH", "default_account": "8400"})
    assert status == 201, kunde
    invoices = [_invoice(server, kunde["id"], f"ABG-{i}", 119) for i in range(4)]
    rows = [{"booking_date": "2026-02-01", "amount": a, "purpose": f"ABG-{i}"}
            for i, a in enumerate(["119.00", "119.00", "119.00", "60.00", "59.00"])]
    status, imported = server.call("POST", "/v1/bank-transactions",
                                   {"bank_account_id": acc["id"], "transactions": rows})
    assert status in (200, 201), imported
    listed = server.call("GET", f"/v1/bank-transactions?bank_account_id={acc['id']}")[1]["transactions"]
    tx = {t["purpose"]: t["id"] for t in listed}
    ledger = acc["ledger_account"]
    receivable = server.call("GET", f"/v1/outgoing-invoices/{invoices[0]['id']}")[1]["open_item_account"]

    # reconcile one payment against its invoice: a settlement intent, the invoice paid
    status, done = server.call("POST", f"/v1/bank-transactions/{tx['ABG-0']}/reconcile", {
        "intent_id": invoices[0]["intent_id"], "candidate_kind": "open_receivable", "open_item_account": receivable})
    assert status == 200 and done["mode"] == "settlement", done
    assert server.call("GET", f"/v1/outgoing-invoices/{invoices[0]['id']}")[1]["status"] == "paid"
    status, again = server.call("POST", f"/v1/bank-transactions/{tx['ABG-0']}/reconcile", {
        "intent_id": invoices[0]["intent_id"], "candidate_kind": "open_receivable", "open_item_account": receivable})
    assert status == 409 and again["error"]["code"] == "BANK_TX_NOT_OPEN"

    # the view: the bank's 476.00 against the ledger's 119.00 (the settlement, matched)
    view = eventually(lambda: server.call("GET", f"/v1/bank-accounts/{acc['id']}/reconciliation")[1],
                      lambda body: body["ledger"]["amount"] == 119)
    assert view["ledger"]["account"] == ledger and view["bank"]["balance"] == 476
    assert view["bank"]["open_count"] == 4 and view["unmatched_ledger"]["entries"] == []
    assert view["difference"] == 357

    # unmatch: a Storno, the invoice open again
    status, undone = server.call("POST", f"/v1/bank-transactions/{tx['ABG-0']}/unmatch")
    assert status == 200 and undone["reversal_intent_id"], undone
    assert server.call("GET", f"/v1/outgoing-invoices/{invoices[0]['id']}")[1]["remaining_amount"] == 119

    # batch: two good pairs and a bad one
    status, batch = server.call("POST", "/v1/bank-transactions/batch-reconcile", {"pairs": [
        {"bank_transaction_id": tx[f"ABG-{i}"], "intent_id": invoices[i]["intent_id"],
         "candidate_kind": "open_receivable", "open_item_account": receivable} for i in (0, 1)] + [
        {"bank_transaction_id": tx["ABG-2"], "intent_id": invoices[2]["intent_id"], "candidate_kind": "cash"}]})
    assert status == 200, batch
    assert [r["bank_transaction_id"] for r in batch["reconciled"]] == [tx["ABG-0"], tx["ABG-1"]]
    assert [(e["index"], e["code"]) for e in batch["errors"]] == [(2, "TARGET_KIND_UNSUPPORTED")]

    # a match group: 60 + 59 pay invoice 3, then unmatched again
    status, group = server.call("POST", "/v1/bank-match-groups", {
        "bank_transaction_ids": [tx["ABG-3"], tx["ABG-4"]],
        "allocations": [{"intent_id": invoices[3]["intent_id"], "candidate_kind": "open_receivable",
                         "open_item_account": receivable, "allocated_bank_amount": 119}]})
    assert status == 201 and group["mode"] == "settlement", group
    assert server.call("GET", f"/v1/outgoing-invoices/{invoices[3]['id']}")[1]["status"] == "paid"
    status, ungrouped = server.call("POST", f"/v1/bank-match-groups/{group['match_group_id']}/unmatch")
    assert status == 200 and ungrouped["status"] == "unmatched", ungrouped
    assert server.call("GET", f"/v1/outgoing-invoices/{invoices[3]['id']}")[1]["remaining_amount"] == 119
    status, count = server.call("GET", f"/v1/bank-transactions/unreconciled-count?bank_account_id={acc['id']}")
    assert status == 200 and count["count"] == 3
