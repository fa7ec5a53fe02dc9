"""`make tenant NAME=… [CHART=skr03|skr04]`: create a tenant with an admin key and print the key alone
on the last line. Talks to the running local stack (PORT), or — with LEDGERLOU_TARGET=aws — writes
to the deployed stack's table directly with the operator's AWS credentials (stack from samconfig)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _local(name: str, chart: str, port: int) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/_local/tenants", method="POST",
                                 data=json.dumps({"name": name, "chart": chart}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback only
            out = json.loads(resp.read())
    except urllib.error.HTTPError as ex:
        print(f"error: {ex.read().decode()}", file=sys.stderr)
        return 1
    except urllib.error.URLError as ex:
        print(f"error: no local stack on port {port} ({ex.reason}); start it with `make run`", file=sys.stderr)
        return 1
    print(f"tenant {out['tenant_id']} ({out['name']}, {out['chart'].upper()})")
    print(out["api_key"])
    return 0


def _aws(name: str, chart: str, stack: str) -> int:
    import boto3

    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    table = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "TableName")
    os.environ["TABLE_NAME"] = table
    sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))
    from ledgerlou.domain.admin import tenants

    new = tenants.create_tenant(name, chart)
    print(f"tenant {new.tenant_id} ({new.name}, {new.chart.upper()}) in table {table}")
    print(new.admin_key)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--chart", default="skr03", choices=["skr03", "skr04"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--stack", default=os.environ.get("LEDGERLOU_STACK", "ledgerlou-dev"))
    args = parser.parse_args()
    if os.environ.get("LEDGERLOU_TARGET") == "aws":
        return _aws(args.name, args.chart, args.stack)
    return _local(args.name, args.chart, args.port)


if __name__ == "__main__":
    raise SystemExit(main())
