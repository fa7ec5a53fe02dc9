"""Bank statement import on moto in-process (issue "Bank accounts and statement import", bench section).

A generated camt.053 with 10,000 entries (4.8 MB, within the 5 MB upload limit):
- end to end: upload through the API gateway (authorizer + BankFunction: parse, store the document,
  queue) → the import worker fed by the SQS poller → every transaction queryable through the API,
  against parsing the same file with the parser alone                                    (≤ 3×)
- re-import: the same file again (everything skipped) against the first import          (≤ 1×)
The phases are timed separately, and the raw per-call costs of moto are measured in the same run, so
the figures say where the time goes. Both sides are best-of (the parse of 3, the imports of TRIALS, each
into a new tenant's account), like the other benches: noise from a shared machine only ever adds time.
"""

from __future__ import annotations

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

ENTRIES = 10_000
TRIALS = 3
IBAN = "DE89370400440532013000"


def _multipart(data: bytes, filename: str) -> tuple[bytes, dict[str, str]]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/xml\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


def _floor_calls(n: int = 500) -> dict[str, float]:
    """Per-item cost of the DynamoDB calls an import makes, on this moto, in ms."""
    import boto3

    ddb = boto3.client("dynamodb")
    start = time.perf_counter()
    for i in range(n):
        ddb.put_item(TableName="ledgerlou", ConditionExpression="attribute_not_exists(PK)",
                     Item={"PK": {"S": "FLOOR#P"}, "SK": {"S": f"{i:08d}"}, "b": {"S": "x" * 36}})
    put = (time.perf_counter() - start) / n * 1000
    start = time.perf_counter()
    for s in range(0, n, 25):
        ddb.batch_write_item(RequestItems={"ledgerlou": [
            {"PutRequest": {"Item": {"PK": {"S": "FLOOR#B"}, "SK": {"S": f"{i:08d}"}, "b": {"S": "x" * 300}}}}
            for i in range(s, s + 25)]})
    batch = (time.perf_counter() - start) / n * 1000
    return {"conditional_putitem_ms": round(put, 3), "batchwrite_per_item_ms": round(batch, 3)}


def run() -> dict[str, Any]:
    from moto import mock_aws

    with mock_aws():
        from local import resources

        names = resources.create_all()
        resources.apply_environment(names)
        from ledgerlou.domain.admin import tenants
        from ledgerlou.formats.detect import parse_statement

        from local.gateway import Gateway
        from local.pollers import SqsPoller
        from local.statement_gen import camt053

        data = camt053(ENTRIES, iban=IBAN, seed=42)
        parse_s = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            parsed = parse_statement(data)
            parse_s = min(parse_s, time.perf_counter() - start)
        expected = sum(len(s.transactions) for s in parsed.statements)

        gateway = Gateway()
        poller = SqsPoller(gateway, "ImportWorkerFunction", names["ImportQueue"], 5, threading.Event())

        def import_once(auth: dict[str, str], account_id: str) -> dict[str, Any]:
            body, headers = _multipart(data, "camt053_10k.xml")
            t0 = time.perf_counter()
            resp = gateway.request("POST", f"/v1/bank-accounts/{account_id}/upload", {**auth, **headers}, body)
            assert resp.status == 202, resp.body[:300]
            t1 = time.perf_counter()
            while poller.poll_once(0):
                pass
            t2 = time.perf_counter()
            batch = gateway.request("GET", f"/v1/bank-transactions/import-batches/{resp.json()['batch_id']}",
                                    auth).json()
            listed = gateway.request("GET", f"/v1/bank-transactions?bank_account_id={account_id}&limit=50",
                                     auth).json()
            t3 = time.perf_counter()
            assert batch["status"] == "completed" and listed["total"] == expected, (batch, listed["total"])
            return {"upload_s": t1 - t0, "worker_s": t2 - t1, "query_s": t3 - t2, "total_s": t3 - t0,
                    "imported": batch["imported"], "skipped": batch["skipped_duplicates"]}

        # Best of TRIALS, like the other benches (noise from a shared machine only ever adds time): each
        # trial imports the file into a new tenant's new bank account, then imports it again.
        trials: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for trial in range(TRIALS):
            tenant = tenants.create_tenant(f"Bench Bank {trial} GmbH")
            auth = {"authorization": f"Bearer {tenant.admin_key}"}
            acc = gateway.request("POST", "/v1/bank-accounts", {**auth, "content-type": "application/json"},
                                  b'{"name": "Hausbank", "iban": "' + IBAN.encode() + b'"}').json()
            gateway.request("GET", "/v1/bank-accounts", auth)  # warm the function modules (cold start is not the point)
            once, again = import_once(auth, acc["id"]), import_once(auth, acc["id"])
            assert (once["imported"], again["imported"], again["skipped"]) == (expected, 0, expected)
            trials.append((once, again))
        first = min((t[0] for t in trials), key=lambda x: x["total_s"])
        second = min((t[1] for t in trials), key=lambda x: x["total_s"])
    with mock_aws():  # on a fresh table: after the imports moto's BatchWriteItem costs several times more
        resources.apply_environment(resources.create_all())
        floor = _floor_calls()

    def r(x: float) -> float:
        return round(x, 3)

    e2e_ratio = first["total_s"] / parse_s
    again_ratio = second["total_s"] / first["total_s"]
    # What moto charges for batch-writing one minimal item per transaction, against the parse: the
    # floor of any design with an item per transaction (the reason transactions are packed into pages).
    floor_s = floor["batchwrite_per_item_ms"] * expected / 1000
    return {
        "name": "bank_import",
        "entries": expected, "file_bytes": len(data),
        "parse_only_s": r(parse_s),
        "trials_total_s": {"first": [r(t[0]["total_s"]) for t in trials],
                           "reimport": [r(t[1]["total_s"]) for t in trials]},
        "first_import": {k: r(v) if isinstance(v, float) else v for k, v in first.items()},
        "reimport": {k: r(v) if isinstance(v, float) else v for k, v in second.items()},
        "e2e_vs_parse": {"ratio": round(e2e_ratio, 2), "target": "<= 3", "met": e2e_ratio <= 3},
        "reimport_vs_first": {"ratio": round(again_ratio, 3), "target": "<= 1", "met": again_ratio <= 1},
        "moto_per_call": floor,
        "batchwrite_floor": {"items": expected, "seconds": r(floor_s), "vs_parse": round(floor_s / parse_s, 2)},
        "note": ("the file is parsed once (the request hands its parse to the worker, without the rows it finds "
                 "stored already); under a per-account lease the worker checks duplicates against the months' "
                 "page hashes (one projected Query per month) and packs the new rows into page items per account "
                 "and month (~64 KB, one conditional PutItem each: ~40 items for 10,000 rows); batchwrite_floor is "
                 "what one item per transaction would cost on moto for comparison; see docs/architecture.md"),
    }
