"""Every function runs inside the one entry-point stack (ledgerlou.entrypoint): its log lines carry
the Lambda context and the correlation id — for the API, API Gateway's request id, the same in the
authorizer's lines and the function's."""

from __future__ import annotations

import importlib
import inspect
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

REQUEST_ID = "req-4711-correlation"


@pytest.fixture
def log_lines() -> Iterator[Any]:
    """``log_lines()``: the JSON lines the functions' logger wrote so far in the test."""
    from ledgerlou.observability import logger

    handler = logger.registered_handler
    buffer = io.StringIO()
    previous, level = handler.setStream(buffer), logger.log_level  # type: ignore[attr-defined]
    logger.setLevel("INFO")  # the tests run at WARNING (tests/conftest.py); the authorizer logs a denial as info
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
        logger.setLevel(level)


def _event(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    from local import template
    from local.gateway import Gateway

    route = next(r for r in template.routes() if r.method == method and r.path == path)
    event = Gateway._event(route, method, path, "", headers, None, {})
    event["requestContext"]["requestId"] = REQUEST_ID
    return event


def test_given_every_function_then_its_handler_is_the_one_entrypoint_stack() -> None:
    # Given every function of template.yaml  When its handler is unwrapped  Then it is ledgerlou.entrypoint's
    from local import template

    for fn in template.functions().values():
        module_name, attribute = fn.handler.rsplit(".", 1)
        module = importlib.import_module(f"{fn.code_uri.strip('/').replace('/', '.')}.{module_name}")
        handler = getattr(module, attribute)
        assert inspect.unwrap(handler).__module__ == "ledgerlou.entrypoint", fn.logical_id


def test_given_a_request_id_when_a_function_fails_then_its_log_line_carries_it_as_correlation_id(
        tenant: Any, monkeypatch: pytest.MonkeyPatch, log_lines: Any) -> None:
    # Given an authenticated request to the journal function, whose verification fails unexpectedly
    from ledgerlou.api.auth import AuthContext
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.domain.journal import reads

    from functions.journal import app as journal
    from local.gateway import LambdaContext

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(reads, "verify", broken)
    event = _event("GET", "/v1/journal/verify", {})
    caller = api_keys.authenticate(tenant.admin_key)
    assert caller is not None
    event["requestContext"]["authorizer"] = {"lambda": AuthContext.of(caller).to_context()}
    # When the function runs it
    result = journal.lambda_handler(event, LambdaContext("JournalFunction"))
    # Then 500, and the error's log line names API Gateway's request id and the Lambda context
    assert result["statusCode"] == 500
    errors = [line for line in log_lines() if line.get("message") == "unhandled error"]
    assert errors and errors[0]["correlation_id"] == REQUEST_ID
    assert errors[0]["function_name"] == "JournalFunction" and "cold_start" in errors[0]


def test_given_a_request_id_when_the_authorizer_denies_then_its_log_line_carries_it(
        aws: Any, log_lines: Any) -> None:
    # Given the authorizer's event for a request with an unknown token
    from functions.authorizer import app as authorizer
    from local.gateway import LambdaContext

    event = _event("GET", "/v1/journal/verify", {"authorization": "Bearer ll_" + "x" * 40})
    event.update({"type": "REQUEST", "routeArn": event["routeKey"], "identitySource": ["Bearer ll_x"]})
    # When the authorizer runs  Then it denies, and its log line has the same correlation id
    assert authorizer.lambda_handler(event, LambdaContext("AuthorizerFunction"))["isAuthorized"] is False
    denied = [line for line in log_lines() if line.get("message") == "authorization denied"]
    assert denied and denied[0]["correlation_id"] == REQUEST_ID
