"""Benchmark: verification of a 100k-entry journal export file against its floor.

The floor is the work no verifier can avoid: reading the file line by line and one SHA-256 (hex digest)
per entry over the canonical bytes, here precomputed. Target: verify_s / floor_s <= 2.0.

``verify_s`` times what an auditor runs (``python -m ledgerlou.verify`` = ``ledgerlou.verify.verify_file``), which
verifies a large file on all the CPUs it may use. The same file verified in one process and the CPU
seconds of the parallel run (children included) are reported beside it, so the figure cannot hide
where the time goes.

    PYTHONPATH=layers/core/python .venv/bin/python bench/bench_chain.py [n]
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ledgerlou.domain.chain.canonical import GENESIS_HASH, canonical_bytes, chain_entries, export_line
from ledgerlou.verify import default_jobs, verify_file

_DESCRIPTIONS = (
    "Rechnung 2026-{i:05d} Müller GmbH, Büromaterial",
    "Miete Lagerhalle Straße des 17. Juni {i}",
    "Bewirtung Kunde \"Schäfer & Söhne\" {i}",
    "Lastschrift Telekom Kd.-Nr. {i}",
)


def _entries(n: int) -> list[dict[str, Any]]:
    # Realistic sizes and a mix of ASCII/non-ASCII text and nulls, so the line scan is representative.
    raw = []
    for i in range(n):
        day = i % 28 + 1
        raw.append({
            "intent_id": f"int_{i:012d}",
            "booking_date": f"2026-{i % 12 + 1:02d}-{day:02d}",
            "account_debit": "1200" if i % 2 else "4930",
            "account_credit": "8400" if i % 2 else "1800",
            "amount": Decimal(i % 100_000) / 100 + Decimal("1.19"),
            "currency": "EUR",
            "description": _DESCRIPTIONS[i % len(_DESCRIPTIONS)].format(i=i),
            "created_at": f"2026-{i % 12 + 1:02d}-{day:02d}T10:{i % 60:02d}:{(i // 60) % 60:02d}.{i % 1000:03d}Z",
            "created_by": "key_live_01HQ3V",
            "source": "api" if i % 3 else "bank_import",
            "document_id": None if i % 4 else f"doc_{i:010d}",
            "reverses_intent_id": None if i % 50 else f"int_{i - 1:012d}",
        })
    return chain_entries(GENESIS_HASH, 1, raw)


def best_of(runs: int, fn: Callable[[], object]) -> float:
    """The fastest of `runs` timings of fn (noise from a shared machine only ever adds time)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def best_of_alternating(runs: int, *fns: Callable[[], object]) -> list[float]:
    """The fastest of `runs` timings of each of fns, timed in turn (fns[0], fns[1], fns[0], ...).

    A ratio of two best-ofs taken one after the other is skewed whenever the load from other work on
    the machine changes in between; alternating exposes both to the same load.
    """
    best = [float("inf")] * len(fns)
    for _ in range(runs):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def run(n: int = 100_000) -> dict[str, Any]:
    entries = _entries(n)
    canonical = [canonical_bytes(e) for e in entries]
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    try:
        with os.fdopen(fd, "wb") as f:
            for e in entries:
                f.write(export_line(e))
        del entries

        def verify(jobs: int | None = None) -> None:
            result = verify_file(path, jobs=jobs)
            if not result.verified or result.entries != n:
                raise AssertionError(result)

        def floor() -> None:
            sha256 = hashlib.sha256
            with open(path, "rb") as f:
                for _line, cb in zip(f, canonical, strict=True):
                    sha256(cb).hexdigest()

        verify_s, floor_s, one_process_s = best_of_alternating(5, verify, floor, lambda: verify(jobs=1))
        before = os.times()
        verify()
        after = os.times()
        cpu_s = sum(after[i] - before[i] for i in range(4))  # user + system, this process and its children
    finally:
        os.unlink(path)
    return {
        "name": f"chain_verify_{n // 1000}k" if n % 1000 == 0 else f"chain_verify_{n}",
        "entries": n,
        "verify_s": round(verify_s, 4),
        "floor_s": round(floor_s, 4),
        "ratio": round(verify_s / floor_s, 2),
        "target": "<= 2.0",
        "jobs": default_jobs(),
        "one_process_s": round(one_process_s, 4),
        "one_process_ratio": round(one_process_s / floor_s, 2),
        "cpu_s_of_one_parallel_run": round(cpu_s, 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)))
