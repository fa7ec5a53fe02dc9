"""Match-suggestion figures (issue 16, "Speed" and precision), on moto in-process:

- GET /v1/bank-transactions/suggestions for a bank account with 1,000 unreconciled transactions
  against 10,000 open items vs against 100 (≤ 2×), through the bank function's lambda_handler
  (routing, validation, JSON included), alternating the two sides so both see the same load;
- top-1 precision and recall of the suggestions, where the purpose names the invoice (≥ 0.95) and
  where it does not, on the generated set (local/recon_gen.py): of the API's answer for the 10,000
  tenant, and of the engine alone on a larger seeded set (the same scoring over an in-memory index).

Both tenants have the same 200 customers and the same 1,000 transactions (generated to pay the
10,000 tenant's invoices: most name or fit one of them, some pay several, some none); the 100
tenant has the first 100 of those invoices, so most of its transactions find little or nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-central-1",
                   "AWS_REGION": "eu-central-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                   "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                   "POWERTOOLS_LOG_LEVEL": "ERROR", "TABLE_NAME": "ledgerlou"})
os.environ.pop("AWS_ENDPOINT_URL", None)

ROUNDS = 3
TRANSACTIONS = 1000
PARTNERS = 200


def _event(ctx: Any, path: str, query: dict[str, str]) -> dict[str, Any]:
    from ledgerlou.api.auth import AuthContext

    raw = "&".join(f"{k}={v}" for k, v in query.items())
    return {"version": "2.0", "routeKey": f"GET {path}", "rawPath": path, "rawQueryString": raw,
            "queryStringParameters": query, "headers": {},
            "requestContext": {"http": {"method": "GET", "path": path}, "requestId": "bench", "stage": "$default",
                               "authorizer": {"lambda": AuthContext.of(ctx).to_context()}},
            "body": None, "isBase64Encoded": False}


def _seed(ctx: Any, ds: Any, invoices_n: int) -> tuple[str, dict[str, str]]:
    """The set's customers, its first ``invoices_n`` invoices (booked 100 per journal block, then
    projected: the projector files them in the candidate index) and its transactions on one bank
    account. → (bank account id, generated invoice id → invoice id)."""
    from ledgerlou.domain.bank import accounts as bank
    from ledgerlou.domain.bank.importing import run as imports
    from ledgerlou.domain.journal import projector
    from ledgerlou.domain.receivables import invoices, partners
    from ledgerlou.domain.receivables.sides import RECEIVABLES
    from ledgerlou.models.bank import BankTransactionsImport
    from ledgerlou.models.receivables import OutgoingInvoiceIn, PartnerIn

    ids = {p.partner_id: partners.create(ctx, RECEIVABLES, PartnerIn(name=p.name, iban=p.iban,
                                                                     default_account="8400"))["id"]
           for p in ds.partners}
    mapping: dict[str, str] = {}
    started = time.perf_counter()
    chosen = ds.invoices[:invoices_n]
    for start in range(0, len(chosen), 100):
        batch = []
        for inv in chosen[start:start + 100]:
            gross = str(inv.total_gross)
            body = {"customer_id": ids[inv.partner_id], "invoice_number": inv.invoice_number,
                    "invoice_date": inv.invoice_date, "due_date": inv.due_date, "total_net": gross,
                    "total_tax": "0.00", "total_gross": gross, "lines": [{"net_amount": gross, "account": "8400"}]}
            model = OutgoingInvoiceIn.model_validate(body)
            batch.append(invoices.prepare(ctx, RECEIVABLES, model, body["customer_id"]))
        invoices.post(ctx, batch)
        for p, inv in zip(batch, chosen[start:start + 100], strict=True):
            mapping[inv.invoice_id] = p.record["id"]
        if start % 2000 == 0:
            projector.project_through(ctx.tenant_id)
    projector.project_through(ctx.tenant_id)
    print(f"seeded {invoices_n} invoices in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    account = bank.create_account(ctx, name="Hausbank", iban="DE89370400440532013000", bic=None, account_number=None,
                                  currency=None, ledger_account=None)
    rows = [{"booking_date": t.booking_date, "amount": str(t.amount), "counterparty_name": t.counterparty_name,
             "counterparty_iban": t.counterparty_iban, "purpose": t.purpose, "end_to_end_id": t.end_to_end_id,
             "bank_reference": t.id} for t in ds.txs]
    for start in range(0, len(rows), 500):
        imports.import_json(ctx, BankTransactionsImport.model_validate(
            {"bank_account_id": account.account_id, "transactions": rows[start:start + 500]}))
    return account.account_id, mapping


def _api_quality(answer: list[dict[str, Any]], ds: Any, mapping: dict[str, str], tx_ids: dict[str, str]
                 ) -> dict[str, Any]:
    """Top-1 precision/recall of the API's answer: tx_ids maps the generated transaction to its id."""
    tops = {e["bank_transaction_id"]: (e["candidates"][0]["invoice_id"] if e["candidates"] else None)
            for e in answer}
    hints = {e["bank_transaction_id"]: e["group_hint"] for e in answer if e["group_hint"]}
    out: dict[str, Any] = {}
    for name, named in (("named", True), ("not_named", False)):
        cases = [t for t in ds.txs if t.case != "sammelzahlung" and t.named == named]
        suggested = [t for t in cases if tops.get(tx_ids[t.id])]
        right = [t for t in suggested if t.truth and tops[tx_ids[t.id]] == mapping.get(t.truth)]
        truths = [t for t in cases if t.truth]
        out[name] = {"transactions": len(cases), "with_an_invoice": len(truths), "suggested": len(suggested),
                     "top1_right": len(right),
                     "top1_precision": round(len(right) / len(suggested), 4) if suggested else None,
                     "top1_recall": round(len(right) / len(truths), 4) if truths else None}
    groups = [t for t in ds.txs if t.case == "sammelzahlung"]
    out["sammelzahlung"] = {"transactions": len(groups), "group_hint_right": sum(
        1 for t in groups if (h := hints.get(tx_ids[t.id])) and sorted(h["invoice_ids"]) ==
        sorted(mapping[g] for g in t.group))}
    return out


def run(big: int = 10_000, small: int = 100) -> dict[str, Any]:
    from moto import mock_aws

    from local import recon_gen
    from local.moto_fidelity import make_conditional_writes_atomic, make_queries_partition_local

    make_conditional_writes_atomic()
    make_queries_partition_local()
    engine_started = time.perf_counter()
    engine_quality = recon_gen.evaluate(recon_gen.generate(seed=1616, invoices=20_000, transactions=4_000,
                                                           partners=600))
    engine_quality.pop("misses")
    engine_s = time.perf_counter() - engine_started
    print(f"engine set evaluated in {engine_s:.1f} s", file=sys.stderr, flush=True)
    ds = recon_gen.generate(seed=16, invoices=big, transactions=TRANSACTIONS, partners=PARTNERS, ap_share=0.0)
    with mock_aws():
        from local import resources

        resources.apply_environment(resources.create_all())
        from ledgerlou.domain.admin import api_keys, tenants
        from ledgerlou.domain.bank import accounts as bank
        from ledgerlou.store.bank import pages
        from ledgerlou.store.base import warm_connections

        from functions.bank.app import lambda_handler as bank_handler
        from local.gateway import LambdaContext

        warm_connections()
        ctx_small = api_keys.authenticate(tenants.create_tenant("Bench small").admin_key)
        ctx_big = api_keys.authenticate(tenants.create_tenant("Bench big").admin_key)
        assert ctx_small is not None and ctx_big is not None
        seed_started = time.perf_counter()
        account_small, _map_small = _seed(ctx_small, ds, small)
        account_big, map_big = _seed(ctx_big, ds, big)
        seed_s = time.perf_counter() - seed_started
        lc = LambdaContext("bench")

        def call(ctx: Any, account_id: str) -> tuple[float, list[dict[str, Any]], str]:
            event = _event(ctx, "/v1/bank-transactions/suggestions", {"bank_account_id": account_id,
                                                                      "limit": str(TRANSACTIONS)})
            started = time.perf_counter()
            out = bank_handler(event, lc)
            took = time.perf_counter() - started
            assert out["statusCode"] == 200, out
            return took, json.loads(out["body"]), out["headers"].get("X-Total-Count") or out["headers"].get(
                "x-total-count", "")

        call(ctx_small, account_small)  # warm: imports, the chart, the handler
        best_small = best_big = float("inf")
        answer_big: list[dict[str, Any]] = []
        answer_small: list[dict[str, Any]] = []
        for _ in range(ROUNDS):
            took, answer_small, total_small = call(ctx_small, account_small)
            best_small = min(best_small, took)
            took, answer_big, total_big = call(ctx_big, account_big)
            best_big = min(best_big, took)
        assert total_small == total_big == str(TRANSACTIONS), (total_small, total_big)
        rows = pages.open_transactions(ctx_big.tenant_id, account_big,
                                       sorted(bank.get_account(ctx_big.tenant_id, account_big).month_counts))
        tx_ids = {r["bank_reference"]: r["id"] for r in rows}
        api_quality = _api_quality(answer_big, ds, map_big, tx_ids)
        candidates_big = sum(len(e["candidates"]) for e in answer_big)
        candidates_small = sum(len(e["candidates"]) for e in answer_small)
    return {
        "name": "reconciliation_suggestions",
        "seed_s": round(seed_s, 1), "open_items": {"small": small, "big": big},
        "unreconciled_transactions": TRANSACTIONS, "partners": PARTNERS,
        "suggestions_ms": {str(small): round(best_small * 1e3, 1), str(big): round(best_big * 1e3, 1)},
        "suggestions_10000_vs_100": {"ratio": round(best_big / best_small, 2), "target": "<= 2"},
        "answer": {str(small): {"transactions_with_candidates": len(answer_small), "candidates": candidates_small},
                   str(big): {"transactions_with_candidates": len(answer_big), "candidates": candidates_big}},
        "precision_api_10000": {**api_quality, "target": "named top1_precision >= 0.95"},
        "precision_engine_20000_invoices_4000_transactions": {**engine_quality, "evaluate_s": round(engine_s, 2)},
    }


if __name__ == "__main__":
    print(json.dumps(run(int(os.environ.get("BENCH_BIG", "10000")), 100), indent=2))
