"""Receivables figures (issue 15, "Speed"), ratios measured in one run on moto in-process, through the
group functions' lambda_handler (routing, validation, JSON included), alternating the two sides of
each ratio so that both see the same load of the shared machine:

- open-items list, first page (50), with 10,000 open invoices vs 100                         (≤ 1.5×)
- POST an outgoing invoice (booking + invoice record + open item) vs POST /v1/bookings of the
  same line (1400 / 8400, 119.00, USt19)                                                    (≤ 1.6×)
- GET /v1/customers/{id} with 1,000 open invoices for that customer vs 1                     (≤ 1.5×)

Both tenants issue 40 invoices a day (net 30), so the open items of a due day fill one small
partition in either; what differs is how many days and invoices there are.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from typing import Any

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-central-1",
                   "AWS_REGION": "eu-central-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                   "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                   "POWERTOOLS_LOG_LEVEL": "ERROR", "TABLE_NAME": "ledgerlou"})
os.environ.pop("AWS_ENDPOINT_URL", None)

PER_DAY = 40
ROUNDS, ROUND_SIZE = 8, 25


def _event(ctx: Any, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    from ledgerlou.api.auth import AuthContext  # the authorizer's context of the caller the key names

    return {"version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"http": {"method": method, "path": path}, "requestId": "bench", "stage": "$default",
                               "authorizer": {"lambda": AuthContext.of(ctx).to_context()}},
            "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False}


def _invoice(customer_id: str, number: str, day: dt.date) -> dict[str, Any]:
    return {"customer_id": customer_id, "invoice_number": number, "invoice_date": day.isoformat(),
            "due_date": (day + dt.timedelta(days=30)).isoformat(), "total_net": "100.00", "total_tax": "19.00",
            "total_gross": "119.00", "lines": [{"net_amount": "100.00", "tax_code": "USt19", "account": "8400"}]}


def _seed(ctx: Any, invoices_n: int, main_share: int) -> tuple[str, str]:
    """``invoices_n`` open invoices, 40 a day from 2026-01-01; every ``main_share``-th for one customer
    (the rest for nine others). Booked 100 per journal block, then projected. → (main customer, a
    customer with exactly one invoice)."""
    from ledgerlou.domain.journal import projector
    from ledgerlou.domain.receivables import invoices, partners
    from ledgerlou.domain.receivables.sides import RECEIVABLES
    from ledgerlou.models.receivables import OutgoingInvoiceIn, PartnerIn

    customers = [partners.create(ctx, RECEIVABLES, PartnerIn(name=f"Kunde {i}", default_account="8400"))["id"]
                 for i in range(10)]
    single = partners.create(ctx, RECEIVABLES, PartnerIn(name="Einmalkunde"))["id"]
    bodies = [_invoice(single, "E-1", dt.date(2026, 1, 1))]
    for i in range(invoices_n - 1):
        who = customers[0] if i % main_share == 0 else customers[1 + i % 9]
        bodies.append(_invoice(who, f"RE-{i:06d}", dt.date(2026, 1, 1) + dt.timedelta(days=(i + 1) // PER_DAY)))
    for start in range(0, len(bodies), 100):
        batch = [invoices.prepare(ctx, RECEIVABLES, OutgoingInvoiceIn.model_validate(b), b["customer_id"])
                 for b in bodies[start: start + 100]]
        invoices.post(ctx, batch)
        if start % 2000 == 0:
            projector.project_through(ctx.tenant_id)
    projector.project_through(ctx.tenant_id)
    return customers[0], single


def _timed(handler: Any, events: list[dict[str, Any]], status: int) -> float:
    from local.gateway import LambdaContext

    lc = LambdaContext("bench")
    start = time.perf_counter()
    for ev in events:
        out = handler(ev, lc)
        assert out["statusCode"] == status, out
    return (time.perf_counter() - start) / len(events)


def _alternating(pairs: list[tuple[Any, Any]]) -> list[float]:
    """Best per-call time of each (make_round, ...) across ROUNDS alternating rounds."""
    best = [float("inf")] * len(pairs)
    for _ in range(ROUNDS):
        for i, run in enumerate(pairs):
            best[i] = min(best[i], run[0]())
    return best


def run(big: int = 10_000, small: int = 100) -> dict[str, Any]:
    from moto import mock_aws

    from local.moto_fidelity import make_conditional_writes_atomic

    make_conditional_writes_atomic()
    with mock_aws():
        from local import resources

        resources.apply_environment(resources.create_all())
        from ledgerlou.domain.admin import api_keys, tenants
        from ledgerlou.store.base import warm_connections

        from functions.journal.app import lambda_handler as journal_handler
        from functions.receivables.app import lambda_handler as receivables_handler

        warm_connections()
        ctx_small = api_keys.authenticate(tenants.create_tenant("Bench small").admin_key)
        ctx_big = api_keys.authenticate(tenants.create_tenant("Bench big").admin_key)
        assert ctx_small is not None and ctx_big is not None
        seed_start = time.perf_counter()
        _main_small, single_small = _seed(ctx_small, small, 10)
        main_big, _single_big = _seed(ctx_big, big, 10)
        seed_s = time.perf_counter() - seed_start

        def open_page(ctx: Any) -> Any:
            events = [_event(ctx, "GET", "/v1/outgoing-invoices/open-items")] * ROUND_SIZE
            return lambda: _timed(receivables_handler, events, 200)

        def get_customer(ctx: Any, customer_id: str) -> Any:
            events = [_event(ctx, "GET", f"/v1/customers/{customer_id}")] * ROUND_SIZE
            return lambda: _timed(receivables_handler, events, 200)

        writer = api_keys.authenticate(tenants.create_tenant("Bench writes").admin_key)
        assert writer is not None
        from ledgerlou.domain.receivables import partners
        from ledgerlou.domain.receivables.sides import RECEIVABLES
        from ledgerlou.models.receivables import PartnerIn

        payer = partners.create(writer, RECEIVABLES, PartnerIn(name="Kunde", default_account="8400"))["id"]
        day = dt.date(2026, 3, 2)

        def post_invoices() -> float:
            events = [_event(writer, "POST", "/v1/outgoing-invoices",
                             _invoice(payer, f"W-{uuid.uuid4().hex[:12]}", day)) for _ in range(ROUND_SIZE)]
            return _timed(receivables_handler, events, 201)

        def post_bookings() -> float:
            events = [_event(writer, "POST", "/v1/bookings", {
                "booking_date": day.isoformat(), "description": f"Ausgangsrechnung W-{uuid.uuid4().hex[:12]} Kunde",
                "external_reference": "W-1", "lines": [{"account_debit": "1400", "account_credit": "8400",
                                                        "amount": "119.00", "tax_code": "USt19"}]})
                for _ in range(ROUND_SIZE)]
            return _timed(journal_handler, events, 201)

        post_invoices(), post_bookings()  # warm: the head, the day's fingerprints, the handlers' imports
        page_small, page_big, cust_one, cust_many, inv_s, book_s = _alternating([
            (open_page(ctx_small),), (open_page(ctx_big),), (get_customer(ctx_small, single_small),),
            (get_customer(ctx_big, main_big),), (post_invoices,), (post_bookings,)])

        from ledgerlou.domain.receivables import invoices

        first_big, total_big = invoices.list_open(ctx_big, RECEIVABLES, 50, 0)
        assert total_big == big and len(first_big) == 50
        many = partners.get(ctx_big, RECEIVABLES, main_big)
    return {
        "name": "receivables",
        "seed_s": round(seed_s, 1), "open_invoices": {"small": small, "big": big},
        "open_items_first_page_ms": {"100": round(page_small * 1e3, 3), "10000": round(page_big * 1e3, 3)},
        "open_items_10000_vs_100": {"ratio": round(page_big / page_small, 2), "target": "<= 1.5"},
        "invoice_vs_booking_ms": {"invoice": round(inv_s * 1e3, 3), "booking": round(book_s * 1e3, 3)},
        "invoice_vs_booking": {"ratio": round(inv_s / book_s, 2), "target": "<= 1.6"},
        "get_customer_ms": {"1_open_invoice": round(cust_one * 1e3, 3),
                            f"{big // 10}_open_invoices": round(cust_many * 1e3, 3)},
        "get_customer_1000_vs_1": {"ratio": round(cust_many / cust_one, 2), "target": "<= 1.5",
                                   "open_amount_of_the_1000": str(many["open_amount"])},
    }


if __name__ == "__main__":
    print(json.dumps(run(int(os.environ.get("BENCH_BIG", "10000")), 100), indent=2))
