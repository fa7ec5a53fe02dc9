"""Reconciliation figures (issue 16, "Speed"), measured in one run on moto in-process, through the
ReconciliationFunction's lambda_handler (routing, validation, JSON included):

- batch: POST /v1/bank-transactions/batch-reconcile with 100 pairs vs 100 single
  POST /v1/bank-transactions/{id}/reconcile requests for the same kind of pairs     (≥ 5× faster)

Each pair settles an open receivable with a 1.00 payment (a settlement intent each, partial payments;
every pair of a round pays another of 100 invoices). Rounds alternate the two sides so that both see
the same load of the shared machine;
the projector runs between requests, outside the timing (on AWS it runs on the stream, apart from
the request), so neither side reads a growing unprojected tail.

- projection: the journal projector on the blocks of many bank bookings — the batch-reconcile block of
  100 settlements (each moves an invoice's card in the candidate index) and a POST /v1/bookings/batch
  of 100 bookings on the bank's ledger account (each an unmatched entry of the bank ledger), then
  the block of 100 Stornos of them is not possible (a reversal is one intent per block), so the
  100 bookings are reversed one by one and their blocks projected together. Figures: the
  projector's wall time and its DynamoDB round trips (calls), split by operation.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-central-1",
                   "AWS_REGION": "eu-central-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                   "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                   "POWERTOOLS_LOG_LEVEL": "ERROR", "TABLE_NAME": "ledgerlou"})
os.environ.pop("AWS_ENDPOINT_URL", None)

PAIRS = 100
ROUNDS = 2
INVOICES = PAIRS  # every pair of a batch pays another invoice


def _event(ctx: Any, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"http": {"method": method, "path": path}, "requestId": "bench", "stage": "$default",
                               "authorizer": {"lambda": ctx.to_context()}},
            "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False}


def _seed(ctx: Any, n: int) -> tuple[list[str], list[str]]:
    """A bank account with ``n`` payments of 1.00 and INVOICES open receivables of 10,000.00 →
    (transaction ids, invoice intent ids)."""
    from ledgerlou.domain.bank import accounts
    from ledgerlou.domain.bank.importing import run as importing
    from ledgerlou.domain.journal import projector
    from ledgerlou.domain.receivables import invoices, partners
    from ledgerlou.domain.receivables.sides import RECEIVABLES
    from ledgerlou.models.bank import BankTransactionsImport
    from ledgerlou.models.receivables import OutgoingInvoiceIn, PartnerIn
    from ledgerlou.store.bank import pages

    acc = accounts.create_account(ctx, name="Bench", iban="DE89370400440532013000", bic=None, account_number=None,
                                  currency=None, ledger_account=None)
    rows = [{"booking_date": "2026-02-02", "amount": "1.00", "purpose": f"Zahlung {i}"} for i in range(n)]
    importing.import_json(ctx, BankTransactionsImport.model_validate({"bank_account_id": acc.account_id,
                                                                      "transactions": rows}))
    kunde = partners.create(ctx, RECEIVABLES, PartnerIn(name="Kunde", default_account="8400"))["id"]
    intents = []
    for i in range(INVOICES):
        body = OutgoingInvoiceIn.model_validate({
            "customer_id": kunde, "invoice_number": f"RE-{i}", "invoice_date": "2026-01-15",
            "total_net": "10000.00", "total_tax": "0.00", "total_gross": "10000.00",
            "lines": [{"net_amount": "10000.00", "account": "8400"}]})
        intents.append(invoices.create(ctx, RECEIVABLES, body, kunde)["intent_id"])
    projector.project_through(ctx.tenant_id)
    months = sorted(accounts.get_account(ctx.tenant_id, acc.account_id).month_totals or {})
    txs = [t["id"] for t in pages.open_transactions(ctx.tenant_id, acc.account_id, months)]
    assert len(txs) == n, len(txs)
    return txs, intents


@contextmanager
def _calls() -> Iterator[Counter[str]]:
    """Count every AWS API call made inside (boto3 and pynamodb both end in _make_api_call)."""
    from botocore.client import BaseClient

    counted: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        counted[operation] += 1
        return original(self, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def _projection(project: Callable[[], Any]) -> dict[str, Any]:
    with _calls() as counted:
        start = time.perf_counter()
        project()
        spent = time.perf_counter() - start
    return {"s": round(spent, 3), "calls": sum(counted.values()), "by_operation": dict(sorted(counted.items()))}


def run() -> dict[str, Any]:
    from moto import mock_aws

    from local.moto_fidelity import make_conditional_writes_atomic, make_queries_partition_local

    make_conditional_writes_atomic()
    make_queries_partition_local()
    with mock_aws():
        from local import resources

        resources.apply_environment(resources.create_all())
        from ledgerlou.domain.admin import api_keys, tenants
        from ledgerlou.domain.journal import projector
        from ledgerlou.store.base import warm_connections

        from functions.reconciliation.app import lambda_handler as handler
        from local.gateway import LambdaContext

        warm_connections()
        from ledgerlou.api.auth import AuthContext

        caller = api_keys.authenticate(tenants.create_tenant("Bench reconciliation").admin_key)
        assert caller is not None
        ctx = AuthContext.of(caller)
        seed_start = time.perf_counter()
        txs, intents = _seed(ctx, 2 * ROUNDS * PAIRS + 4)
        seed_s = time.perf_counter() - seed_start
        lc = LambdaContext("bench")

        def pair(i: int, tx_id: str) -> dict[str, Any]:
            return {"intent_id": intents[i % INVOICES], "candidate_kind": "open_receivable",
                    "open_item_account": "1400"}

        def single(chunk: list[str]) -> float:
            spent = 0.0
            for i, tx_id in enumerate(chunk):
                ev = _event(ctx, "POST", f"/v1/bank-transactions/{tx_id}/reconcile", pair(i, tx_id))
                start = time.perf_counter()
                out = handler(ev, lc)
                spent += time.perf_counter() - start
                assert out["statusCode"] == 200, out
                projector.project_through(ctx.tenant_id)
            return spent

        projections: list[dict[str, Any]] = []

        def batch(chunk: list[str]) -> float:
            ev = _event(ctx, "POST", "/v1/bank-transactions/batch-reconcile", {"pairs": [
                {"bank_transaction_id": tx_id, **pair(i, tx_id)} for i, tx_id in enumerate(chunk)]})
            start = time.perf_counter()
            out = handler(ev, lc)
            spent = time.perf_counter() - start
            assert out["statusCode"] == 200, out
            got = json.loads(out["body"])
            assert got["errors"] == [] and len(got["reconciled"]) == len(chunk), got["errors"][:3]
            projections.append(_projection(lambda: projector.project_through(ctx.tenant_id)))
            return spent

        single(txs[:2])  # warm: imports, the journal head, the handler
        batch(txs[2:4])
        rest = txs[4:]
        singles, batches = [], []
        for r in range(ROUNDS):
            a = rest[2 * r * PAIRS : (2 * r + 1) * PAIRS]
            b = rest[(2 * r + 1) * PAIRS : (2 * r + 2) * PAIRS]
            if r % 2 == 0:
                singles.append(single(a))
                batches.append(batch(b))
            else:
                batches.append(batch(a))
                singles.append(single(b))
        bookings = _bank_bookings(ctx)
    best_single, best_batch = min(singles), min(batches)
    return {
        "name": "reconciliation",
        "seed_s": round(seed_s, 1), "pairs": PAIRS, "rounds": ROUNDS,
        "batch_100_pairs_s": [round(b, 3) for b in batches],
        "single_100_requests_s": [round(s, 3) for s in singles],
        "batch_vs_single": {"speedup": round(best_single / best_batch, 2), "target": ">= 5",
                            "per_pair_ms": {"batch": round(best_batch / PAIRS * 1e3, 2),
                                            "single": round(best_single / PAIRS * 1e3, 2)}},
        "projection": {"batch_reconcile_100_pairs": min(projections[1:], key=lambda p: p["s"]), **bookings},
    }


def _bank_bookings(ctx: Any) -> dict[str, Any]:
    """Project a block of 100 bookings on the bank's ledger account (1200), then 100 blocks of their
    Stornos."""
    from ledgerlou.domain.journal import booking, projector, reversal
    from ledgerlou.models.journal import BookingRequest, ReverseRequest

    requests = [BookingRequest.model_validate({
        "booking_date": "2026-02-03", "description": f"Barverkauf {i}", "skip_duplicate_check": True,
        "lines": [{"account_debit": "1200", "account_credit": "8400", "amount": f"{i + 1}.00"}]})
        for i in range(PAIRS)]
    posted = booking.post_bookings(ctx, requests, "batch")
    block = _projection(lambda: projector.project_through(ctx.tenant_id))
    for intent_id, _count in posted:
        reversal.reverse(ctx, ReverseRequest.model_validate({"intent_id": intent_id, "reason": "bench",
                                                             "posting_mode": "original_date"}))
    stornos = _projection(lambda: projector.project_through(ctx.tenant_id))
    return {"bookings_batch_100_bank_bookings": block, "stornos_100_blocks": stornos}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
