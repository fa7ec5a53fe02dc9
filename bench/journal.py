"""Journal write throughput on moto in-process (issue "The journal", bench section).

Every figure is a ratio against a floor measured in the same run on the same moto:
- handler: bookings/s through functions/journal lambda_handler vs raw conditional PutItem/s  (≥ 0.5)
- growth: the handler rate with 10,000 entries in the journal vs with 100                   (≥ 0.8)
- concurrency: 8 writers vs 1 on one tenant, retries per booking reported                   (≥ 0.7)
  Each writer is its own process (as each Lambda instance is) against one moto server; the same figure
  with 8 threads in one process is reported too: there the GIL serialises all Python work, so it
  measures the interpreter more than the journal.
- batch: postings/s of one 100-booking batch vs 100 single bookings                          (≥ 10)
"""

from __future__ import annotations

import gc
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


ROUNDS, ROUND_SIZE = 20, 50


def _booking(i: int, amount: str = "119.00") -> dict[str, Any]:
    return {"booking_date": "2026-01-15", "description": f"Bench {i} {uuid.uuid4().hex[:6]}",
            "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": amount}]}


def _event(ctx: Any, body: dict[str, Any], path: str = "/v1/bookings") -> dict[str, Any]:
    from ledgerlou.api.auth import AuthContext  # the authorizer's context of the caller the key names

    return {"version": "2.0", "routeKey": f"POST {path}", "rawPath": path, "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"http": {"method": "POST", "path": path}, "requestId": "bench", "stage": "$default",
                               "authorizer": {"lambda": AuthContext.of(ctx).to_context()}},
            "body": json.dumps(body), "isBase64Encoded": False}


def _floor_putitem(n: int, round_: int = 0) -> float:
    import boto3

    ddb = boto3.client("dynamodb")
    payload = "x" * 700
    start = time.perf_counter()
    for i in range(n):
        ddb.put_item(TableName="ledgerlou", Item={"PK": {"S": f"FLOOR#{round_}"}, "SK": {"S": f"BLOCK#{i:012d}"},
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
    from ledgerlou.domain.journal import booking, projector
    from ledgerlou.models.journal import BookingRequest

    for start in range(0, entries, 100):
        reqs = [BookingRequest.model_validate(_booking(start + i)) for i in range(min(100, entries - start))]
        booking.post_bookings(ctx, reqs, source="batch")
    projector.project_through(ctx.tenant_id)


def _process_writer(endpoint: str, api_key: str, worker: int, per: int, ready: Any, go: Any, out: Any) -> None:
    """One writer process: its own interpreter, boto3 clients and Appender, like one Lambda instance."""
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root), str(root / "layers" / "core" / "python")]
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"})
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.domain.journal import booking
    from ledgerlou.domain.journal.appender import Appender
    from ledgerlou.models.journal import BookingRequest
    from ledgerlou.store.base import warm_connections

    warm_connections()
    ctx = api_keys.authenticate(api_key)
    appender = Appender()
    reqs = [BookingRequest.model_validate(_booking(worker * 100_000 + i)) for i in range(per)]
    # warm, like a Lambda instance that has served before: head and the day's fingerprints read once
    booking.post_bookings(ctx, [BookingRequest.model_validate(_booking(worker * 100_000 + 99_999))],
                          appender=appender)
    appender.retries = 0
    ready.put(worker)
    go.wait()
    latencies = []
    cpu = time.process_time()
    for r in reqs:
        started = time.perf_counter()
        booking.post_bookings(ctx, [r], appender=appender)
        latencies.append(time.perf_counter() - started)
    out.put((appender.retries, appender.most_attempts, latencies, time.process_time() - cpu))


def _process_writers_main(count: int, per: int, separate: bool = False) -> dict[str, Any]:
    """In a fresh interpreter (see _process_writers): one moto server, count writer processes, one tenant
    (or, with ``separate``, one tenant each: the same load without a single race, the control)."""
    import multiprocessing as mp

    from local.server import start_moto

    server = start_moto()
    try:
        from local import resources

        resources.apply_environment(resources.create_all())
        from ledgerlou.domain.admin import tenants
        from ledgerlou.domain.journal import reads

        owners = [tenants.create_tenant(f"Bench {count} processes {w if separate else ''}")
                  for w in range(count if separate else 1)]
        spawn = mp.get_context("spawn")
        ready, out, go = spawn.Queue(), spawn.Queue(), spawn.Event()
        procs = [spawn.Process(target=_process_writer, args=(os.environ["AWS_ENDPOINT_URL"],
                                                             owners[w % len(owners)].admin_key, w, per, ready, go,
                                                             out)) for w in range(count)]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=300)
        start = time.perf_counter()
        # This process serves the moto server's threads and otherwise only waits on the queues: its CPU
        # time over the run is the backend's work for these bookings (why the contended rate is lower).
        server_cpu = time.process_time()
        go.set()
        results = [out.get(timeout=900) for _ in procs]
        server_cpu = time.process_time() - server_cpu
        retries = sum(r[0] for r in results)
        elapsed = time.perf_counter() - start
        for p in procs:
            p.join()
        for owner in owners:
            verified = reads.verify(owner.tenant_id)
            # each writer's warm-up booking is in the journal too
            assert verified["verified"] and verified["entries"] == count * (per + 1) // len(owners), verified
        latencies = sorted(t for r in results for t in r[2])
        return {"rate": count * per / elapsed, "retries": retries, "most_attempts": max(r[1] for r in results),
                "server_cpu_ms_per_booking": round(server_cpu / (count * per) * 1000, 2),
                "writer_cpu_ms_per_booking": round(sum(r[3] for r in results) / (count * per) * 1000, 2),
                "latency_ms": {"p50": round(latencies[len(latencies) // 2] * 1000, 1),
                               "p99": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
                               "max": round(latencies[-1] * 1000, 1)}}
    finally:
        server.stop()


def _process_writers(count: int, per: int, separate: bool = False) -> dict[str, Any]:
    # A fresh interpreter: the moto server must not share this process's mock_aws-patched clients.
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "layers" / "core" / "python")])
    args = [sys.executable, "-m", "bench.journal", "--processes", str(count), str(per)] + (["separate"] * separate)
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run() -> dict[str, Any]:
    from moto import mock_aws

    from local.moto_fidelity import make_conditional_writes_atomic

    make_conditional_writes_atomic()
    with mock_aws():
        from local import resources

        resources.apply_environment(resources.create_all())
        from ledgerlou.domain.admin import api_keys, tenants
        from ledgerlou.domain.journal import appender, booking, projector, reads
        from ledgerlou.models.journal import BookingRequest
        from ledgerlou.store.base import warm_connections

        warm_connections()  # steady state: client creation is cold-start cost, measured by cold_start

        small = tenants.create_tenant("Bench Small")
        ctx_small = api_keys.authenticate(small.admin_key)
        _prefill(ctx_small, 100)
        big = tenants.create_tenant("Bench Big")
        ctx_big = api_keys.authenticate(big.admin_key)
        _prefill(ctx_big, 10_000)
        for ctx in (ctx_small, ctx_big):  # a warm Lambda: it has booked on this day before
            _handler_rate(ctx, 1)
        # moto keeps the whole table as Python objects in this process; a real DynamoDB is not in the
        # Lambda's heap. Freezing them keeps the garbage collector from walking the backend's objects
        # on every collection the handler's allocations trigger (the floor's too).
        gc.collect()
        gc.freeze()
        # Floor and handler alternate in many short rounds (ROUNDS × ROUND_SIZE operations each) and each
        # figure is its best round: noise on a shared machine only ever adds time, and short alternating
        # rounds keep a load change from landing on one side only (timeit's reasoning; measured here:
        # best-of-3 rounds of 300 moved the handler ratio between 0.49 and 0.73 from run to run).
        floors, smalls, bigs = [], [], []
        for round_ in range(ROUNDS):
            floors.append(_floor_putitem(ROUND_SIZE, round_))
            smalls.append(_handler_rate(ctx_small, ROUND_SIZE))
            bigs.append(_handler_rate(ctx_big, ROUND_SIZE))
        floor, rate_small, rate_big = max(floors), max(smalls), max(bigs)
        gc.unfreeze()

        # 1 vs 8 writers on one tenant (domain level: each thread is its own "Lambda instance")
        def writers(count: int, per: int) -> tuple[float, int]:
            t = tenants.create_tenant(f"Bench {count} writers")
            ctx = api_keys.authenticate(t.admin_key)
            appenders = [appender.Appender() for _ in range(count)]
            reqs = [[BookingRequest.model_validate(_booking(w * 1000 + i)) for i in range(per)] for w in range(count)]
            for w in range(count):  # warm writers (read the head and the day once), as in the process bench
                booking.post_bookings(ctx, [BookingRequest.model_validate(_booking(900_000 + w))],
                                      appender=appenders[w])

            def work(w: int) -> None:
                for r in reqs[w]:
                    booking.post_bookings(ctx, [r], appender=appenders[w])

            threads = [threading.Thread(target=work, args=(w,)) for w in range(count)]
            start = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - start
            assert reads.verify(t.tenant_id)["verified"]
            return count * per / elapsed, sum(a.retries for a in appenders)

        one_thread_rate, _ = writers(1, 240)
        eight_thread_rate, eight_thread_retries = writers(8, 30)

        # batch of 100 vs 100 singles, alternating, best of 5 each (as above: noise only adds time)
        bt = tenants.create_tenant("Bench batch")
        bctx = api_keys.authenticate(bt.admin_key)
        booking.post_bookings(bctx, [BookingRequest.model_validate(_booking(999_999))])  # warm, as above
        gc.collect()
        gc.freeze()  # as above: a full collection walking moto's table must not land on one side only
        single_rate = batch_rate = 0.0
        for round_ in range(5):
            singles = [BookingRequest.model_validate(_booking(round_ * 1000 + i)) for i in range(100)]
            start = time.perf_counter()
            for r in singles:
                booking.post_bookings(bctx, [r])
            single_rate = max(single_rate, 100 / (time.perf_counter() - start))
            batch_reqs = [BookingRequest.model_validate(_booking(round_ * 1000 + 500 + i)) for i in range(100)]
            start = time.perf_counter()
            booking.post_bookings(bctx, batch_reqs, source="batch")
            batch_rate = max(batch_rate, 100 / (time.perf_counter() - start))
        gc.unfreeze()
        projector.project_through(bctx.tenant_id)

    one = _process_writers(1, 240)
    eight = _process_writers(8, 30)
    eight_apart = _process_writers(8, 30, separate=True)
    one_rate, eight_rate = one["rate"], eight["rate"]
    return {
        "name": "journal",
        "floor_conditional_putitem_per_s": round(floor, 1),
        "handler_bookings_per_s_100": round(rate_small, 1),
        "handler_vs_putitem": {"ratio": round(rate_small / floor, 3), "target": ">= 0.5",
                               "method": f"best of {ROUNDS} alternating rounds of {ROUND_SIZE} (floor, 100, 10k)"},
        "handler_bookings_per_s_10k": round(rate_big, 1),
        "growth_10k_vs_100": {"ratio": round(rate_big / rate_small, 3), "target": ">= 0.8"},
        "one_writer_per_s": round(one_rate, 1), "eight_writers_per_s": round(eight_rate, 1),
        "eight_vs_one": {"ratio": round(eight_rate / one_rate, 3), "target": ">= 0.7",
                         "retries_per_booking": round(eight["retries"] / 240, 3),
                         "most_attempts_of_one_booking": eight["most_attempts"],
                         "latency_ms_8_writers": eight["latency_ms"], "latency_ms_1_writer": one["latency_ms"],
                         # CPU per booking: where the contended rate goes (lost writes and catch-up reads
                         # cost the one moto server and the writers), and how much of the machine is idle
                         "cpu_ms_per_booking": {
                             label: {"moto_server": r["server_cpu_ms_per_booking"],
                                   "writers": r["writer_cpu_ms_per_booking"],
                                   "machine_busy": round(r["rate"] * (r["server_cpu_ms_per_booking"]
                                                                      + r["writer_cpu_ms_per_booking"]) / 1000
                                                         / (os.cpu_count() or 1), 2)}
                             for label, r in (("1_writer", one), ("8_writers", eight), ("8_tenants", eight_apart))},
                         "setup": "one process per writer (as Lambda instances), one moto server"},
        "eight_on_eight_tenants_vs_one": {
            "ratio": round(eight_apart["rate"] / one_rate, 3),
            "note": "control: the same 8 processes, each on its own tenant (no race at all) - what this machine "
                    "and one moto server can give 8 writers; the contended figure cannot be above it"},
        "eight_vs_one_threads_in_one_process": {
            "ratio": round(eight_thread_rate / one_thread_rate, 3),
            "retries_per_booking": round(eight_thread_retries / 240, 3),
            "one_writer_per_s": round(one_thread_rate, 1), "eight_writers_per_s": round(eight_thread_rate, 1)},
        "single_postings_per_s": round(single_rate, 1), "batch_postings_per_s": round(batch_rate, 1),
        "batch_vs_single": {"ratio": round(batch_rate / single_rate, 2), "target": ">= 10"},
    }


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--processes"]:
        print(json.dumps(_process_writers_main(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:5] == ["separate"])))
    else:
        print(json.dumps(run(), indent=2))
