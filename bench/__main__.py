"""`make bench`: every benchmark writes JSON figures (ratios against a floor measured in the same run)
to bench/results/<name>.json and prints a summary. `python -m bench NAME…` runs a subset."""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BENCHES = {
    "cold_start": "bench.cold_start",
    "journal": "bench.journal",
    "chain": "bench.bench_chain",
    "bank_import": "bench.bank_import",
    "reports": "bench.reports",
    "local_state": "bench.local_state",
    "receivables": "bench.receivables",
    "people": "bench.people",
    "payment_runs": "bench.payment_runs",
    "reconciliation": "bench.reconciliation",
    "reconciliation_suggestions": "bench.reconciliation_suggestions",
    "inbox_extraction": "bench.inbox_extraction",
    "inbox": "bench.inbox",
}


def main(argv: list[str]) -> int:
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core" / "python")]
    names = argv or list(BENCHES)
    RESULTS.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name in names:
        started = time.monotonic()
        module = importlib.import_module(BENCHES[name])
        result = module.run()
        result["wall_s"] = round(time.monotonic() - started, 2)
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        summary[name] = result
        print(json.dumps({name: result}, indent=2, default=str), flush=True)
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
