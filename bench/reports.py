"""Closing-the-books figures (issue "Closing the books", bench section), ratios measured in one run:

- trial balance with 100,000 entries vs with 1,000 (target ≤ 1.5×: cost follows accounts, not entries)
- the same 100,000 entries as an hledger journal: `hledger bal` vs our trial balance (reported)
- DATEV export of 100,000 entries: the EXTF writer vs writing the same rows with the csv module alone
  (target ≤ 3×) and its peak memory; plus the end-to-end export through the store (reported)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from decimal import Decimal
from typing import Any

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-central-1",
                   "AWS_REGION": "eu-central-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                   "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                   "POWERTOOLS_LOG_LEVEL": "ERROR", "TABLE_NAME": "ledgerlou"})
os.environ.pop("AWS_ENDPOINT_URL", None)

PAIRS = [("4930", "1200"), ("1400", "8400"), ("1200", "1400"), ("4210", "1200"), ("4120", "1200"),
         ("4650", "1000"), ("4910", "1200"), ("3400", "1600"), ("1600", "1200"), ("4530", "1200")]


def _bookings(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        debit, credit = PAIRS[i % len(PAIRS)]
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(365))
        out.append({"booking_date": day.isoformat(), "description": f"Beleg {i}",
                    "skip_duplicate_check": True,
                    "lines": [{"account_debit": debit, "account_credit": credit,
                               "amount": f"{rng.randrange(1, 500000) / 100:.2f}"}]})
    return out


def _fill(ctx: Any, bookings: list[dict[str, Any]]) -> None:
    from ledgerlou.domain.journal import booking, projector
    from ledgerlou.models.journal import BookingRequest

    for start in range(0, len(bookings), 100):
        reqs = [BookingRequest.model_validate(b) for b in bookings[start: start + 100]]
        booking.post_bookings(ctx, reqs, source="batch")
    projector.project_through(ctx.tenant_id)


def _best(fn: Any, runs: int = 5) -> float:
    from bench.bench_chain import best_of

    return best_of(runs, fn)


def _hledger(bookings: list[dict[str, Any]]) -> dict[str, Any]:
    exe = shutil.which("hledger")
    if exe is None:
        return {"skipped": "hledger not installed (Debian package hledger)"}
    with tempfile.NamedTemporaryFile("w", suffix=".journal", delete=False, encoding="utf-8") as fh:
        for b in sorted(bookings, key=lambda b: b["booking_date"]):
            line = b["lines"][0]
            fh.write(f"{b['booking_date']} {b['description']}\n    a:{line['account_debit']}  "
                     f"{line['amount']} EUR\n    a:{line['account_credit']}\n\n")
        path = fh.name
    try:
        return {"hledger_bal_s": round(_best(lambda: subprocess.run([exe, "-f", path, "bal"], check=True,
                                                                     capture_output=True), 3), 4)}
    finally:
        os.unlink(path)


def _vs_hledger(result: dict[str, Any], ours_s: float) -> dict[str, Any]:
    result["ours_trial_balance_s"] = round(ours_s, 4)
    if "hledger_bal_s" in result:
        result["hledger_vs_ours"] = round(result["hledger_bal_s"] / ours_s, 1)
    return result


def _datev_writer(n: int) -> dict[str, Any]:
    from ledgerlou.formats import datev

    rng = random.Random(7)
    rows = [datev.DatevRow(amount=Decimal(rng.randrange(1, 500000)) / 100, debit_credit="S", account="4930",
                           contra_account="1200", bu_key="9", document_date=dt.date(2026, 1, 1 + i % 28),
                           document_field_1=f"RE-{i}", text=f"Büromaterial {i}") for i in range(n)]
    header = datev.DatevHeader(consultant_number=1001, client_number=1, fiscal_year_start=dt.date(2026, 1, 1),
                               account_length=4, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 1, 31),
                               label="bench", created_at=dt.datetime(2026, 2, 1), locked=False)

    def ours() -> int:
        return sum(len(chunk) for chunk in datev.iter_extf(header, iter(rows)))

    def floor() -> int:
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        for r in rows:
            writer.writerow([f"{r.amount}".replace(".", ","), r.debit_credit, r.account, r.contra_account,
                             r.bu_key, r.document_date.strftime("%d%m"), r.document_field_1, r.text])
        return len(buf.getvalue().encode("cp1252"))

    ours_s, floor_s = _best(ours, 3), _best(floor, 3)
    tracemalloc.start()
    ours()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"rows": n, "writer_s": round(ours_s, 3), "csv_floor_s": round(floor_s, 3),
            "ratio": round(ours_s / floor_s, 2), "target": "<= 3.0",
            "writer_peak_mb_excluding_input_rows": round(peak / 1e6, 1)}


def run(big: int = 100_000, small: int = 1_000) -> dict[str, Any]:
    from moto import mock_aws

    from local.moto_fidelity import make_conditional_writes_atomic

    make_conditional_writes_atomic()
    with mock_aws():
        from local import resources

        resources.apply_environment(resources.create_all())
        from ledgerlou.domain.admin import api_keys, tenants
        from ledgerlou.domain.reports import statements as reports
        from ledgerlou.store.base import warm_connections

        warm_connections()
        year = reports.Range("2026-01", "2026-12")
        t_small = tenants.create_tenant("Bench small")
        ctx_small = api_keys.authenticate(t_small.admin_key)
        _fill(ctx_small, _bookings(small, 1))
        t_big = tenants.create_tenant("Bench big")
        ctx_big = api_keys.authenticate(t_big.admin_key)
        big_bookings = _bookings(big, 2)
        fill_start = time.perf_counter()
        _fill(ctx_big, big_bookings)
        fill_s = time.perf_counter() - fill_start
        small_s = _best(lambda: reports.trial_balance(ctx_small, year))
        big_s = _best(lambda: reports.trial_balance(ctx_big, year))
        e2e_start = time.perf_counter()
        _, chunks = reports.datev_export(ctx_big, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
        e2e_bytes = sum(len(c) for c in chunks)
        e2e_s = time.perf_counter() - e2e_start
    ours_s = big_s
    writer = _datev_writer(big)
    return {
        "name": "reports",
        "fill_100k_entries_s": round(fill_s, 1),
        "trial_balance_1k_s": round(small_s, 4), "trial_balance_100k_s": round(big_s, 4),
        "trial_balance_100k_vs_1k": {"ratio": round(big_s / small_s, 2), "target": "<= 1.5"},
        "hledger": _vs_hledger(_hledger(big_bookings), ours_s),
        "datev_writer": writer,
        "datev_export_end_to_end_100k": {
            "seconds": round(e2e_s, 2), "bytes": e2e_bytes,
            "vs_csv_floor": round(e2e_s / writer["csv_floor_s"], 2),
            "note": "reading the entries from the store (BatchGetItem of the journal blocks on moto) included"},
    }
