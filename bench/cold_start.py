"""Cold import time of each function module vs the floor `import boto3, aws_lambda_powertools.event_handler`,
measured in fresh interpreters in the same run (best of N, so noise from the machine counts less)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "import boto3, aws_lambda_powertools.event_handler"


def _time_import(statement: str, runs: int) -> float:
    code = f"import time; t=time.perf_counter(); {statement}; print(time.perf_counter()-t)"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers' / 'core' / 'python'}",
           "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "eu-central-1", "PYTHONDONTWRITEBYTECODE": "0"}
    best = float("inf")
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                             check=True)
        best = min(best, float(out.stdout.strip().splitlines()[-1]))
    return best


def run(runs: int = 7) -> dict[str, Any]:
    sys.path[:0] = [str(ROOT)]
    from local import template

    _time_import(FLOOR, 1)  # warm the bytecode caches so neither side pays for compiling
    modules = {}
    floors = []
    for lid, fn in sorted(template.functions().items()):
        module = fn.code_uri.strip("/").replace("/", ".") + "." + fn.handler.rpartition(".")[0]
        _time_import(f"import {module}", 1)
        # Floor and module alternate, so a burst of load on this shared machine hits both sides alike;
        # each function is compared with the floor measured next to it.
        floor = t = float("inf")
        for _ in range(runs):
            floor = min(floor, _time_import(FLOOR, 1))
            t = min(t, _time_import(f"import {module}", 1))
        floors.append(floor)
        modules[lid] = {"module": module, "import_s": round(t, 4), "floor_s": round(floor, 4),
                        "ratio": round(t / floor, 3)}
    worst = max(m["ratio"] for m in modules.values())
    return {"name": "cold_import", "floor": FLOOR, "floor_s": round(min(floors), 4), "functions": modules,
            "worst_ratio": worst, "target": "<= 1.5", "met": worst <= 1.5}
