"""Seeded fuzz of the reconciliation writes: random reconcile, batch and match-group bodies over a small
world of transactions and open items. Every answer is a success or a clear 4xx — never a 500 — and a
refused request books nothing; after each step the counters, the transactions' statuses and the open
items agree with what was booked."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from tests.integration.receivables.test_customers import customer
from tests.integration.reconciliation.support import account_of, bank_with, head, invoice_of, outgoing, tx_status

SEED, STEPS = 1616, 80
AMOUNTS = ["10.00", "20.00", "50.00", "69.00", "119.00", "-10.00", "0.01", "1000.00", "abc", -5, None]
ACCOUNTS = ["1400", "1600", "1200", "9999", None]
KINDS = ["open_receivable", "open_liability", "booking", "cash", ""]


def test_given_random_reconciliation_requests_then_never_a_500_and_refusals_book_nothing(client: Any) -> None:
    rnd = random.Random(SEED)
    acc, txs = bank_with(client, "119.00", "50.00", "69.00", "10.00", "-20.00", "119.00")
    kunde = customer(client, default_account="8400")["id"]
    invoices = [outgoing(client, f"F-{i}", kunde) for i in range(3)]
    intents = [i["intent_id"] for i in invoices] + ["0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c"]
    tx_ids = [t["id"] for t in txs] + ["0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c"]
    groups: list[str] = []

    def alloc() -> dict[str, Any]:
        out: dict[str, Any] = {"intent_id": rnd.choice(intents), "candidate_kind": rnd.choice(KINDS[:3]),
                               "open_item_account": rnd.choice(ACCOUNTS[:4]),
                               "allocated_bank_amount": rnd.choice(AMOUNTS)}
        if rnd.random() < 0.4:
            out["settled_document_amount"] = rnd.choice(AMOUNTS)
        return out

    for step in range(STEPS):
        before = head(client)
        what = rnd.choice(["reconcile", "unmatch", "dismiss", "batch", "group", "ungroup"])
        plausible = rnd.random() < 0.6  # mostly requests that can succeed, so that both paths are walked
        if what == "reconcile":
            body: dict[str, Any] = {"intent_id": rnd.choice(intents), "candidate_kind": rnd.choice(KINDS)}
            if (account := rnd.choice(ACCOUNTS)) is not None:
                body["open_item_account"] = account
            if plausible:
                body = {"intent_id": rnd.choice(intents[:3]), "candidate_kind": "open_receivable",
                        "open_item_account": "1400"}
            resp = client.post(f"/v1/bank-transactions/{rnd.choice(tx_ids[:4])}/reconcile", body)
        elif what in ("unmatch", "dismiss"):
            resp = client.post(f"/v1/bank-transactions/{rnd.choice(tx_ids)}/{what}")
        elif what == "batch":
            resp = client.post("/v1/bank-transactions/batch-reconcile", {"pairs": [
                {"bank_transaction_id": rnd.choice(tx_ids), "intent_id": rnd.choice(intents),
                 "candidate_kind": rnd.choice(KINDS), "open_item_account": rnd.choice(ACCOUNTS[:4])}
                for _ in range(rnd.randint(1, 5))]})
        elif what == "group":
            body = {"bank_transaction_ids": rnd.sample(tx_ids, rnd.randint(1, 3)),
                    "allocations": [alloc() for _ in range(rnd.randint(1, 3))]}
            if rnd.random() < 0.5:
                body["adjustments"] = [{"account_number": rnd.choice(["6969", "2309", "8736", "0000"]),
                                        "posting_side": rnd.choice(["debit", "credit"]),
                                        "amount": rnd.choice(AMOUNTS[:5]),
                                        **({"tax_code": "USt19"} if rnd.random() < 0.3 else {})}]
            if plausible:
                chosen = rnd.sample([t for t in txs if not t["amount"] < 0], rnd.randint(1, 2))
                total = sum((Decimal(t["amount"]) for t in chosen), Decimal(0))
                first = min(total, Decimal(rnd.choice(["10.00", "50.00", "100.00"])))
                parts = [first, total - first] if total > first else [total]
                body = {"bank_transaction_ids": [t["id"] for t in chosen],
                        "allocations": [{"intent_id": intent, "candidate_kind": "open_receivable",
                                         "open_item_account": "1400", "allocated_bank_amount": str(part)}
                                        for intent, part in zip(rnd.sample(intents[:3], len(parts)), parts,
                                                                strict=True)]}
                if rnd.random() < 0.5:
                    body["allocations"][0]["settled_document_amount"] = str(parts[0] + 1)
                    body["adjustments"] = [{"account_number": "8736", "posting_side": "debit", "amount": "1.00",
                                            "tax_code": "USt19"}]
            resp = client.post("/v1/bank-match-groups", body)
            if resp.status == 201:
                groups.append(resp.json()["match_group_id"])
        else:
            target = rnd.choice(groups) if groups and rnd.random() < 0.7 else "0b9c2a4e-6d1f-4e8a-9c3b-5f7d2e1a8b6c"
            resp = client.post(f"/v1/bank-match-groups/{target}/unmatch")
        # Then a success or a clear 4xx with a code; a refusal booked nothing
        assert resp.status < 500, (step, what, resp.body)
        if resp.status >= 400:
            assert resp.json()["error"]["code"], (step, resp.body)
            assert head(client) == before, (step, what, resp.body)
        # and the books agree: the counter is the number of open transactions, each invoice's remaining
        # amount is its total minus what the transactions reconciled to it pay
        statuses = [tx_status(client, t["id"]) for t in txs]
        assert account_of(client, acc["id"])["unreconciled_count"] == statuses.count("unreconciled"), step
        for inv in invoices:
            got = invoice_of(client, inv["id"])
            paid = sum((s["amount"] for s in got["settlements"]), Decimal(0))
            assert got["remaining_amount"] == Decimal("119.00") - paid and got["remaining_amount"] >= 0, step
