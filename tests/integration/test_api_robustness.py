"""Every route of template.yaml against odd input: never a 5xx, never a traceback, always an error code.

Seeded random bodies (odd JSON values, raw bytes that are not JSON or not UTF-8), path parameters that
name nothing or are malformed, and odd query strings. Complements the per-endpoint error tests: those
assert the exact code; this one asserts that no input reaches the "unhandled error" branch.
FUZZ_SEED=<any> and FUZZ_CASES=<n> in the environment run other or more cases (exploration)."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

ODD: list[Any] = [
    None, True, 0, -1, 1e308, 10**40, "", "x" * 3000, "119,00", "NaN", "-0.00", "2026-02-30", "2026-13",
    [], {}, [{}], {"a": {"b": [1, {"c": None}]}}, "\u0000", "😀", "../x", "' OR 1=1 --", "00004930",
]
FIELDS = ["booking_date", "description", "lines", "amount", "iban", "name", "period", "account", "number",
          "intent_id", "bank_account_id", "transactions", "email", "password", "token", "code", "rate",
          "status", "reason", "label", "scopes", "document_id", "vendor_id", "invoice_id", "items", "date"]
QUERY_NAMES = [*FIELDS, "limit", "offset", "startDate", "endDate"]
PATH_VALUES = ["2026-01", "1200", "00000000-0000-0000-0000-000000000000", "x", "9999-99", "%00", "a" * 300]
RAW_BODIES = [b"", b"{", b"[]", b"null", b"\xff\xfe\x00", b'{"a":1,}', b"[" * 5000, "ä".encode("latin-1")]


def _routes() -> list[Any]:
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    from local import template

    return [r for r in template.routes() if not r.public or r.method != "GET"]


def _body(rng: random.Random) -> Any:
    shape = rng.random()
    if shape < 0.15:
        return rng.choice(ODD)
    body = {rng.choice(FIELDS): rng.choice(ODD) for _ in range(rng.randrange(0, 6))}
    if shape < 0.4:
        body[rng.choice(FIELDS)] = [dict(body)] * rng.choice([1, 2, 200])
    return body


def _assert_handled(response: Any, what: str) -> None:
    assert response.status < 500, (what, response.status, response.body[:400])
    assert b"Traceback" not in response.body, what
    if response.status >= 400 and response.headers.get("content-type", "").startswith("application/json"):
        code = response.json().get("error", {}).get("code")
        assert isinstance(code, str) and code, (what, response.body[:400])


@pytest.mark.parametrize("route", _routes(), ids=lambda r: f"{r.method} {r.path}")
def test_given_odd_input_when_calling_any_route_then_a_handled_answer(client: Any, route: Any) -> None:
    import os

    rng = random.Random(f"{route.method} {route.path}{os.environ.get('FUZZ_SEED', '')}")
    for case in range(int(os.environ.get("FUZZ_CASES", "25"))):
        path = re.sub(r"\{[^}]+\}", lambda _m: rng.choice(PATH_VALUES), route.path)
        query = "&".join(f"{rng.choice(QUERY_NAMES)}={json.dumps(v)}"
                         for v in rng.sample(ODD, rng.randrange(0, 3)))
        url = f"{path}?{query}" if query else path
        if route.method in ("POST", "PUT", "PATCH"):
            if case % 5 == 4:
                response = client.request(route.method, url, body=rng.choice(RAW_BODIES))
            else:
                response = client.request(route.method, url, json=_body(rng))
        else:
            response = client.request(route.method, url)
        _assert_handled(response, f"case {case}: {route.method} {url}")
