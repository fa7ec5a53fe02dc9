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
    assert_security_headers(response, what)  # every answer here comes from a function: the token is valid


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


# ------------------------------------------------------------------------------------- the OpenAPI document
# The tests below walk the document the API serves, so a route added tomorrow is covered without being named here.
# Path parameters are filled with ids that exist (the test creates them) or that have the right shape.
def _document(client: Any) -> dict[str, Any]:
    return client.get("/v1/openapi.json").json()  # type: ignore[no-any-return]


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def _json_body_schema(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    content = (op.get("requestBody") or {}).get("content") or {}
    return _resolve(doc, content["application/json"]["schema"]) if "application/json" in content else None


def _path_values(client: Any) -> dict[str, str]:
    """A value for every path parameter of the API: real ids where the route reads something."""
    account = client.post("/v1/bank-accounts", {"name": "Hausbank", "iban": "DE89370400440532013000"})
    assert account.status == 201, account.body
    return {"account_id": account.json()["id"], "code": "USt19", "number": "1200", "period": "2026-01",
            "intent_id": "00000000-0000-0000-0000-000000000000", "request_id": "00000000-0000-0000-0000-000000000000",
            "key_id": "00000000-0000-0000-0000-000000000000", "doc_id": "00000000-0000-0000-0000-000000000000",
            "batch_id": "00000000-0000-0000-0000-000000000000",
            "transaction_id": "00000000-0000-0000-0000-000000000000",
            "customer_id": "00000000-0000-0000-0000-000000000000", "vendor_id": "00000000-0000-0000-0000-000000000000",
            "invoice_id": "00000000-0000-0000-0000-000000000000", "user_id": "00000000-0000-0000-0000-000000000000",
            "group_id": "00000000-0000-0000-0000-000000000000",
            "run_id": "00000000-0000-0000-0000-000000000000",
            "inbox_id": "00000000-0000-0000-0000-000000000000", "case_id": "00000000-0000-0000-0000-000000000000"}


def _url(path: str, values: dict[str, str]) -> str:
    names = re.findall(r"\{([^}]+)\}", path)
    missing = [n for n in names if n not in values]
    assert not missing, f"{path}: give the path parameter(s) {missing} a value in _path_values"
    return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], path)


def _table_items() -> list[dict[str, Any]]:
    """Every item of the table (this test's tenant only: each test starts on an empty table), without the
    authorizer's throttled last-use stamp of the key, which a refused request may legitimately refresh."""
    import os

    import boto3

    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    items, kwargs = [], {}
    while True:
        page = table.scan(**kwargs)
        items.extend({k: v for k, v in item.items() if k != "last_used_at"} for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    return sorted(items, key=lambda item: (str(item.get("PK")), str(item.get("SK"))))


def _journal_head(client: Any) -> Any:
    verify = client.get("/v1/journal/verify").json()
    return verify, client.get("/v1/journal?limit=500").json()


WRONG_JSON_TYPES: list[tuple[str, Any]] = [
    ("an array of two valid bodies", lambda example: [example, example]),
    ("an array of one valid body", lambda example: [example]),
    ("an empty array", lambda example: []),
    ("a string", lambda example: "x"),
    ("the valid body as a JSON string", lambda example: json.dumps(example)),
    ("a number", lambda example: 1),
    ("a decimal number", lambda example: 119.5),
    ("true", lambda example: True),
    ("false", lambda example: False),
    ("null", lambda example: None),
]


def test_given_the_openapi_document_when_a_json_body_of_the_wrong_type_goes_to_any_route_then_400_and_nothing_stored(
        client: Any) -> None:
    # Given every operation of the document that reads a JSON object, with its own example body
    doc = _document(client)
    values = _path_values(client)
    operations = [(m, p, s) for m, p, op in _operations(doc) if (s := _json_body_schema(doc, op)) is not None]
    assert len(operations) >= 10, operations  # the walk found the JSON write routes
    before, journal_before = _table_items(), _journal_head(client)
    for method, path, schema in operations:
        assert schema.get("type") == "object" and schema.get("examples"), f"{method} {path}: needs an example"
        example = schema["examples"][0]
        url = _url(path, values)
        for what, make in WRONG_JSON_TYPES:
            # When the body is valid JSON but not an object (an array of valid bodies included)
            response = client.request(method, url, body=json.dumps(make(example)))
            # Then it is refused as a whole, naming the body: never its first element taken, the rest dropped
            label = f"{method} {path} with {what}"
            assert response.status == 400, (label, response.status, response.body[:300])
            error = response.json()["error"]
            assert error["code"] == "INVALID_INPUT", (label, error)
            assert [d["field"] for d in error["details"]] == ["body"], (label, error)
            assert "JSON object" in error["details"][0]["issue"], (label, error)
            assert_security_headers(response, label)
    # And nothing was stored: not one item of the table changed, the journal's head and chain are as they were
    assert _table_items() == before
    assert _journal_head(client) == journal_before


# ------------------------------------------------------------------------------------- security headers
# README "API conventions": every answer of the API says nosniff, every JSON answer no-store (the one exception
# is the public OpenAPI document, the same for everyone: it may be cached). What API Gateway answers itself
# before a function runs (no route: 404; no or a bad token: 401) is not ours to set; on AWS, HTTP APIs have no
# gateway responses to customise. Every other answer, success or error, comes through the resolver.
PUBLIC_CACHEABLE = {("GET", "/v1/openapi.json")}


def _public_routes() -> set[tuple[str, str]]:
    """The routes no scope guards (the document, login, passwords, contact, logout): nothing to refuse."""
    from ledgerlou.api.auth import PUBLIC

    from tests.route_scopes import declared_routes

    return {(r.method, r.path) for r in declared_routes() if r.scope == PUBLIC}


PUBLIC_ROUTES = _public_routes()


def assert_security_headers(response: Any, what: str, method: str = "", path: str = "") -> None:
    assert response.headers.get("x-content-type-options") == "nosniff", (what, response.status, response.headers)
    if response.headers.get("content-type", "").startswith("application/json"):
        if (method, path) in PUBLIC_CACHEABLE:
            assert response.headers.get("cache-control", "").startswith("public"), (what, response.headers)
        else:
            assert response.headers.get("cache-control") == "no-store", (what, response.status, response.headers)


def _a_key(client: Any, *scopes: str) -> str:
    created = client.post("/v1/api-keys", {"label": f"nur {' '.join(scopes)}", "scopes": list(scopes)})
    assert created.status == 201, created.body
    return created.json()["key"]  # type: ignore[no-any-return]


def test_given_every_route_of_the_document_when_called_with_and_without_its_scope_then_security_headers_on_each(
        client: Any, make_client: Any) -> None:
    # Given every operation of the document, a real booking, and two keys of which one lacks each route's scope
    doc = _document(client)
    values = _path_values(client)
    booked = client.post("/v1/bookings", {"booking_date": "2026-01-15", "description": "Büromaterial", "lines": [
        {"account_debit": "4930", "account_credit": "1200", "amount": "119.00", "tax_code": "VSt19"}]})
    assert booked.status == 201, booked.body
    values["intent_id"] = booked.json()["intent_id"]
    narrow = [make_client(_a_key(client, "documents:read")), make_client(_a_key(client, "periods:read"))]
    succeeded = 0
    for method, path, op in _operations(doc):
        url = _url(path, values)
        schema = _json_body_schema(doc, op)
        example = schema["examples"][0] if schema and schema.get("examples") else None
        # When it is called as the admin (its example body, if it takes one) and with each narrow key
        answers = [client.request(method, url, json=example)]
        answers += [c.request(method, url, json=example) for c in narrow]
        # Then every answer, success or error, has the security headers
        for i, response in enumerate(answers):
            assert_security_headers(response, f"{method} {path} call {i}", method, path)
        if (method, path) not in PUBLIC_ROUTES:
            assert any(r.status >= 400 for r in answers[1:]), f"{method} {path}: no call was refused"
        succeeded += answers[0].status < 300
    assert succeeded >= 10, succeeded  # successes were checked too, not only refusals
    # And the downloads (files, not JSON) say nosniff too, and are not cached either
    for url in ("/v1/journal/export?startDate=2026-01-01&endDate=2026-01-31",
                "/v1/reports/datev-export?startDate=2026-01-01&endDate=2026-01-31"):
        download = client.get(url)
        assert download.status == 200 and not download.headers["content-type"].startswith("application/json"), url
        assert download.headers.get("x-content-type-options") == "nosniff", (url, download.headers)
        assert download.headers.get("cache-control") == "no-store", (url, download.headers)


def test_given_no_route_in_the_function_or_an_unexpected_error_then_its_answer_has_the_security_headers(
        gateway: Any, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from local.gateway import Gateway, _to_http

    # Given an event the function has no route for (powertools' own 404), sent to the function directly
    route = next(r for r in gateway.routes if r.path == "/v1/tax-codes" and r.method == "GET")
    event = Gateway._event(route, "GET", "/v1/no-such-route", "", {}, None, {})
    response = _to_http(gateway.invoke(route.function, event))
    assert response.status == 404 and response.json()["error"]["code"] == "NOT_FOUND", response.body
    assert_security_headers(response, "powertools 404")
    # And a route whose domain call fails unexpectedly (the 500 handler)
    from ledgerlou.domain.chart import tax_codes

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store is down")

    monkeypatch.setattr(tax_codes, "list_codes", broken)
    response = client.get("/v1/tax-codes")
    assert response.status == 500 and response.json()["error"]["code"] == "INTERNAL_ERROR", response.body
    assert_security_headers(response, "500")
