"""Idempotency-Key handling for POSTs that create something (docs/api-contract.md "Transport").

Same key + same body → the first response again; same key + other body → 409 IDEMPOTENCY_KEY_REUSED;
while the first request runs → 409 IDEMPOTENCY_IN_PROGRESS. A request that failed releases its key: it
changed nothing, so a retry must be allowed to run. One killed at its timeout cannot release it: its
claim ends when the request can no longer be running, and the next retry runs (store.idempotency).

A route opts in with ``@idempotent("<scope>")`` under its ``@app.post(...)``; the resolver's request
validation (api/resolver.py) runs it around the route, after the scope check and the request's
validation, with the checked caller and the Idempotency-Key header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from ledgerlou.api.auth import AuthContext
from ledgerlou.errors import IdempotencyInProgress, IdempotencyKeyReused, InvalidInput

F = TypeVar("F", bound=Callable[..., Any])
SCOPE_ATTRIBUTE = "__ledgerlou_idempotency__"
MAX_KEY_LENGTH = 255
# The API functions' Timeout (template.yaml Globals, bounded by API Gateway's 29 s integration limit):
# how long a request may still run when the Lambda context cannot say.
API_TIMEOUT_SECONDS = 29


def _running_seconds(app: APIGatewayHttpResolver) -> float:
    """How long this request can still run: Lambda ends it at its deadline, so its claim may be
    taken over after that (as powertools does with the same figure)."""
    context = getattr(app, "lambda_context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else float(API_TIMEOUT_SECONDS)


def idempotent(scope: str) -> Callable[[F], F]:
    """Make a POST route idempotent under the Idempotency-Key header; ``scope`` names the records of
    this route (one key may be used once per route and tenant)."""

    def declare(route: F) -> F:
        setattr(route, SCOPE_ATTRIBUTE, scope)
        return route

    return declare


def idempotency_scope(route: Callable[..., Any]) -> str | None:
    return getattr(route, SCOPE_ATTRIBUTE, None)


def run_idempotent(app: APIGatewayHttpResolver, ctx: AuthContext, scope: str,
                   produce: Callable[[], Response[Any]]) -> Response[Any]:
    headers = app.current_event.headers or {}
    idem_key = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), None)
    if not idem_key:
        return produce()
    # Imported here: most requests carry no key, and the store pulls in pynamodb (cold-start time).
    from ledgerlou.store import idempotency as store

    if len(idem_key) > MAX_KEY_LENGTH:
        raise InvalidInput.field("Idempotency-Key", f"must be at most {MAX_KEY_LENGTH} characters")
    body = app.current_event.decoded_body or ""
    request_hash = hashlib.sha256(body.encode("utf-8") if isinstance(body, str) else body).hexdigest()
    existing = store.claim(ctx.tenant_id, scope, idem_key, request_hash, _running_seconds(app))
    if existing is not None:
        if existing.request_hash != request_hash:
            raise IdempotencyKeyReused("This Idempotency-Key was used with a different request body.")
        if existing.state != "completed":
            raise IdempotencyInProgress("A request with this Idempotency-Key is still in progress.")
        return Response(status_code=int(existing.response_status or 200), content_type="application/json",
                        body=existing.response_body or "", headers={"Idempotent-Replayed": "true"})
    try:
        response = produce()
    except BaseException:
        store.release(ctx.tenant_id, scope, idem_key)
        raise
    if 200 <= response.status_code < 300:
        store.complete(ctx.tenant_id, scope, idem_key, response.status_code, str(response.body))
    else:
        store.release(ctx.tenant_id, scope, idem_key)
    return response
