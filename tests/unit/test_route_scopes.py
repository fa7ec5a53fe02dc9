"""Every route declares the scope it needs (``@requires``), so that the resolver checks it before it
reads the request; the OpenAPI document's route is the one explicit exception (``@public``)."""

from __future__ import annotations

import json
from pathlib import Path

from ledgerlou.api.auth import PUBLIC
from ledgerlou.domain.caller import ALL_SCOPES

from local import template
from tests.route_scopes import declared_routes

ROOT = Path(__file__).resolve().parents[2]


def test_given_every_function_then_every_route_declares_a_known_scope() -> None:
    # Given every route of every function of template.yaml
    routes = declared_routes()
    assert len(routes) == len(template.routes()) > 30
    # When their declarations are read  Then each names a scope the API knows
    undeclared = [f"{r.method} {r.path} ({r.name})" for r in routes if r.scope is None]
    assert undeclared == []
    unknown = [f"{r.method} {r.path}: {r.scope}" for r in routes if r.scope not in (*ALL_SCOPES, PUBLIC)]
    assert unknown == []


def test_given_every_function_then_only_the_document_and_the_people_entry_routes_are_public() -> None:
    # Given every route  Then only the OpenAPI document and login/password/contact need no token, as template.yaml says
    public = sorted(f"{r.method} {r.path}" for r in declared_routes() if r.scope == PUBLIC)
    assert public == ["GET /v1/openapi.json", "POST /v1/auth/forgot-password", "POST /v1/auth/login",
                      "POST /v1/auth/logout", "POST /v1/auth/setup-password", "POST /v1/contact"]
    # logout is behind the authorizer (a token is required) but needs no scope: any session may end itself
    assert [p for p in public if p != "POST /v1/auth/logout"] == sorted(
        f"{r.method} {r.path}" for r in template.routes() if r.public)


def test_given_the_read_routes_then_they_need_a_read_scope_and_writes_do_not() -> None:
    # Given the scope rule of docs/api-contract.md: GET needs <group>:read, everything else more
    for r in declared_routes():
        if r.scope in (PUBLIC, "admin"):
            continue
        assert (r.method == "GET") == r.scope.endswith(":read"), f"{r.method} {r.path}: {r.scope}"


def test_given_the_posts_that_create_something_then_each_is_idempotent() -> None:
    # Given the POST operations that answer 201 Created in the OpenAPI document (docs/api-contract.md:
    # "Idempotency-Key header on every POST that creates something")
    document = json.loads((ROOT / "functions" / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    # (public routes have no tenant to keep a record under: the contact form is throttled per client instead)
    public = {r.path for r in declared_routes() if r.scope == PUBLIC}
    creating = sorted(path for path, ops in document["paths"].items()
                      if "201" in ops.get("post", {}).get("responses", {}) and path not in public)
    assert "/v1/periods/{period}/lock" in creating and len(creating) >= 12
    # Then each declares @idempotent, each with its own record scope
    scopes = {r.path: r.idempotency for r in declared_routes() if r.method == "POST"}
    assert [p for p in creating if scopes.get(p) is None] == []
    assert len({scopes[p] for p in creating}) == len(creating)
