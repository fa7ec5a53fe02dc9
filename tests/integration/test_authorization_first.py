"""Authorisation before validation, on every route of the OpenAPI document (issue 14 item 6): a token
without the route's scope gets 403 FORBIDDEN whatever it sends (malformed JSON, wrong types, missing
or unknown fields, another Content-Type, malformed path or query parameters, an oversized upload), and
no token gets 401, so a caller without rights learns nothing about a route's validation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from ledgerlou.api.auth import PUBLIC

from tests.route_scopes import declared_routes

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "functions" / "openapi" / "openapi.json").read_text(encoding="utf-8"))
SCOPES = {(r.method, r.path): r.scope for r in declared_routes()}
# The public routes (the document, login, passwords, contact; logout checks its session itself) have no scope
# to check first; their own tests (tests/integration/people) cover what they answer to anything.
OPERATIONS = sorted((method.upper(), path, op) for path, ops in DOCUMENT["paths"].items()
                    for method, op in ops.items() if SCOPES.get((method.upper(), path)) != PUBLIC)
JSON_TYPE = {"content-type": "application/json"}
# Path values: one of the right form (it names nothing), one the route's pattern refuses (400 with the scope).
WELL_FORMED = {"period": "2026-01", "number": "1200", "code": "VSt19"}
UUID = "00000000-0000-0000-0000-000000000000"
MALFORMED_PATH = "x%00y"
OVERSIZED = 7 * 1024 * 1024  # above the 6 MB upload limit (api/multipart.py)


def _path(path: str, malformed: bool) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: MALFORMED_PATH if malformed else WELL_FORMED.get(m.group(1), UUID), path)


def _requests(method: str, path: str, op: dict[str, Any]) -> list[tuple[str, str, dict[str, str], bytes | None]]:
    """(what, url, headers, body) of the malformed requests sent to one operation."""
    url, bad_url = _path(path, False), _path(path, True)
    out: list[tuple[str, str, dict[str, str], bytes | None]] = [
        ("malformed path", bad_url, {}, None),
        ("malformed query", f"{url}?limit=-1&offset=x&startDate=2026-13-45&type=%00", {}, None),
    ]
    if method in ("POST", "PUT", "PATCH"):
        out += [
            ("not JSON", url, JSON_TYPE, b"{not json"),
            ("an array", url, JSON_TYPE, b"[1, 2]"),
            ("wrong types", url, JSON_TYPE, json.dumps({"lines": "x", "name": 5, "scopes": {}}).encode()),
            ("no body", url, JSON_TYPE, None),
            ("not UTF-8", url, JSON_TYPE, b"\xff\xfe\x00"),
            ("another Content-Type", url, {"content-type": "text/plain"}, b"hello"),
            ("multipart without boundary", url, {"content-type": "multipart/form-data"}, b"--x\r\n"),
        ]
        if "x-ledgerlou-multipart" in op or "multipart/form-data" in op.get("requestBody", {}).get("content", {}):
            boundary = "b0undary"
            head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
                    "Content-Type: application/pdf\r\n\r\n")
            big = head.encode() + b"%" * OVERSIZED + f"\r\n--{boundary}--\r\n".encode()
            out.append(("an oversized upload", url, {"content-type": f"multipart/form-data; boundary={boundary}"}, big))
    return out


@pytest.fixture
def token_without(tenant: Any) -> Any:
    """A token of the tenant with every scope but ``scope`` (and admin, which implies every scope)."""
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.domain.caller import ALL_SCOPES

    made: dict[str, str] = {}

    def make(scope: str) -> str:
        if scope not in made:
            others = [s for s in ALL_SCOPES if s not in (scope, "admin")]
            _, made[scope] = api_keys.issue(tenant.tenant_id, f"without {scope}", others, None)
        return made[scope]

    return make


def test_given_the_document_then_every_operation_has_a_declared_scope() -> None:
    # Given every operation of the OpenAPI document but the public one  Then the walk knows its scope
    assert len(OPERATIONS) > 30
    assert [f"{m} {p}" for m, p, _ in OPERATIONS if not SCOPES.get((m, p))] == []


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_given_a_token_without_the_scope_when_sending_anything_then_403_before_validation(
        make_client: Any, token_without: Any, method: str, path: str, op: dict[str, Any]) -> None:
    # Given a token with every scope but the one the route declares
    scope = SCOPES[(method, path)]
    client = make_client(token_without(scope), project=False)
    anonymous = make_client(None, project=False)
    for what, url, headers, body in _requests(method, path, op):
        # When it sends a malformed request
        resp = client.request(method, url, headers=headers, body=body, token=True)
        # Then 403 FORBIDDEN names the scope, whatever the request's faults
        assert resp.status == 403, (what, method, url, resp.status, resp.body[:300])
        error = resp.json()["error"]
        assert error["code"] == "FORBIDDEN" and scope in error["message"], (what, error)
        assert "details" not in error, (what, error)
        # and without a token 401 UNAUTHENTICATED
        assert anonymous.request(method, url, headers=headers, body=body, token=None).status == 401, what


def test_given_the_scope_when_sending_malformed_json_then_the_validation_answers(client: Any) -> None:
    # Given a token with the scope (admin)  When it sends "{not json" to a JSON write route
    resp = client.request("POST", "/v1/bookings", headers=JSON_TYPE, body=b"{not json")
    # Then the validation answers (the 403s above come from the scope check, not from the route)
    assert resp.status == 400 and resp.json()["error"]["code"] == "INVALID_JSON"
