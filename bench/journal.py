"""Journal write throughput on moto in-process (issue "The journal", bench section).

Every figure is a ratio against a floor measured in the same run on the same moto:
- handler: bookings/s through functions/journal lambda_handler vs raw conditional PutItem/s  (≥ 0.5)
- growth: the handler rate with 10,000 entries in the journal vs with 100                   (≥ 0.8)
- concurrency: 8 writers vs 1 on one tenant, retries per booking reported                   (≥ 0.7)
- batch: postings/s of one 100-booking batch vs 100 single bookings                          (≥ 10)
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from typing import Any

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-central-1",
                   "AWS_REGION": "eu-central-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                   "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                   "POWERTOOLS_LOG_LEVEL": "ERROR", "TABLE_NAME": "ledgerlou"})
os.environ.pop("AWS_ENDPOINT_URL", None)


def _booking(i: int, amount: str = "119.00") -> dict[str, Any]:
    return {"booking_date": "2026-01-15", "description": f"Bench {i} {uuid.uuid4().hex[:6]}",
            "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": amount}]}


def _event(ctx: Any, body: dict[str, Any], path: str = "/v1/bookings") -> dict[str, Any]:
    return {"version": "2.0", "routeKey": f"POST {path}", "rawPath": path, "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"http": {"method": "POST", "path": path}, "requestId": "bench", "stage": "$default",
                               "authorizer": {"lambda": ctx.to_context()}},
            "body": json.dumps(body), "isBase64Encoded": False}


def _floor_putitem(n: int) -> float:
    import boto3

    ddb = boto3.client("dynamodb")
    payload = "x" * 700
    start = time.perf_counter()
    for i in range(n):
        ddb.put_item(TableName="ledgerlou", Item={"PK": {"S": "FLOOR"}, "SK": {"S": f"BLOCK#{i:012d}"},
                                                  "payload": {"S": payload}},
                     ConditionExpression="attribute_not_exists(PK)")
    return n / (time.perf_counter() - start)


def _handler_rate(ctx: Any, n: int) -> float:
    from functions.journal.app import lambda_handler
    from local.gateway import LambdaContext

    lc = LambdaContext("bench")
    events = [_event(ctx, _booking(i)) for i in range(n)]
    start = time.perf_counter()
    for ev in events:
        out = lambda_handler(ev, lc)
        assert out["statusCode"] == 201, out
    return n / (time.perf_counter() - start)


def _prefill(ctx: Any, entries: int) -> None:
    from ledgerlou.api.schemas.journal import BookingRequest
    from ledgerlou.domain import journal, projector

    for start in range(0, entries, 100):
        reqs = [BookingRequest.model_validate(_booking(start + i)) for i in range(min(100, entries - start))]
        journal.post_bookings(ctx, reqs, source="batch")
    projector.project_through(ctx.tenant_id)


def run() -> dict[str, Any]:
    from moto import mock_aws

    from local.moto_fidelity import make_conditional_writes_atomic

    make_conditional_writes_atomic()
    with mock_aws():
        from local import resources

        resources.apply_environment(resources.create_all())
        from ledgerlou.api.schemas.journal import BookingRequest
        from ledgerlou.domain import api_keys, journal, ledger, projector, tenants
        from ledgerlou.store.base import warm_connections

        warm_connections()  # steady state: client creation is cold-start cost, measured by cold_start

        floor = _floor_putitem(500)

        small = tenants.create_tenant("Bench Small")
        ctx_small = api_keys.authenticate(small.admin_key)
        _prefill(ctx_small, 100)
        rate_small = _handler_rate(ctx_small, 400)

        big = tenants.create_tenant("Bench Big")
        ctx_big = api_keys.authenticate(big.admin_key)
        _prefill(ctx_big, 10_000)
        rate_big = _handler_rate(ctx_big, 400)

        # 1 vs 8 writers on one tenant (domain level: each thread is its own "Lambda instance")
        def writers(count: int, per: int) -> tuple[float, int]:
            t = tenants.create_tenant(f"Bench {count} writers")
            ctx = api_keys.authenticate(t.admin_key)
            appenders = [ledger.Appender() for _ in range(count)]
            reqs = [[BookingRequest.model_validate(_booking(w * 1000 + i)) for i in range(per)] for w in range(count)]

            def work(w: int) -> None:
                for r in reqs[w]:
                    journal.post_bookings(ctx, [r], appender=appenders[w])

            threads = [threading.Thread(target=work, args=(w,)) for w in range(count)]
            start = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - start
            assert journal.verify(t.tenant_id)["verified"]
            return count * per / elapsed, sum(a.retries for a in appenders)

        one_rate, _ = writers(1, 240)
        eight_rate, eight_retries = writers(8, 30)

        # batch of 100 vs 100 singles
        bt = tenants.create_tenant("Bench batch")
        bctx = api_keys.authenticate(bt.admin_key)
        singles = [BookingRequest.model_validate(_booking(i)) for i in range(100)]
        start = time.perf_counter()
        for r in singles:
            journal.post_bookings(bctx, [r])
        single_rate = 100 / (time.perf_counter() - start)
        batch_reqs = [BookingRequest.model_validate(_booking(1000 + i)) for i in range(100)]
        start = time.perf_counter()
        journal.post_bookings(bctx, batch_reqs, source="batch")
        batch_rate = 100 / (time.perf_counter() - start)
        projector.project_through(bctx.tenant_id)

    return {
        "name": "journal",
        "floor_conditional_putitem_per_s": round(floor, 1),
        "handler_bookings_per_s_100": round(rate_small, 1),
        "handler_vs_putitem": {"ratio": round(rate_small / floor, 3), "target": ">= 0.5"},
        "handler_bookings_per_s_10k": round(rate_big, 1),
        "growth_10k_vs_100": {"ratio": round(rate_big / rate_small, 3), "target": ">= 0.8"},
        "one_writer_per_s": round(one_rate, 1), "eight_writers_per_s": round(eight_rate, 1),
        "eight_vs_one": {"ratio": round(eight_rate / one_rate, 3), "target": ">= 0.7",
                         "retries_per_booking": round(eight_retries / 240, 3)},
        "single_postings_per_s": round(single_rate, 1), "batch_postings_per_s": round(batch_rate, 1),
        "batch_vs_single": {"ratio": round(batch_rate / single_rate, 2), "target": ">= 10"},
    }
