"""Resolver factory: every endpoint group builds its powertools resolver here, so that validation,
error bodies, JSON and OpenAPI behave identically in all functions.

docs/api-contract.md "Errors" is implemented in exactly one place: the exception handlers below.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    _is_or_contains_sequence,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from ledgerlou.api.auth import authorize
from ledgerlou.api.idempotency import idempotency_scope, run_idempotent
from ledgerlou.errors import (
    DomainError,
    InternalError,
    InvalidInput,
    InvalidJson,
    NotFound,
    ServiceUnavailable,
    UnsupportedMediaType,
    by_status,
)
from ledgerlou.money import dumps
from ledgerlou.observability import logger
from ledgerlou.store.aws_errors import aws_error_code, is_throttle

JSON = "application/json"


def _json_body(text: str) -> dict[str, Any]:
    # parse_float=Decimal: amounts must never pass through float (docs/library-notes.md).
    try:
        return json.loads(text, parse_float=Decimal)  # type: ignore[no-any-return]
    except RecursionError:
        # "[[[[…" a few thousand deep exhausts the parser's recursion: malformed input, not our error
        raise json.JSONDecodeError("nested too deeply", text[:100], 0) from None


def error_response(error: type[DomainError], message: str, details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None, status: int | None = None) -> Response[str]:
    """The error body of docs/api-contract.md "Errors" for a catalog entry (its code and status)."""
    body: dict[str, Any] = {"error": {"code": error.code, "message": message}}
    if details:
        body["error"]["details"] = details
    return Response(status_code=status or error.status, content_type=JSON, body=dumps(body), headers=headers)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=dumps(payload), headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    # powertools prefixes "body"/"query"/"path"; integrators want the field as they sent it: lines[0].amount
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "headers", "cookie", "form", "file"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def _issue(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "invalid"))
    # pydantic prefixes messages of custom validators with "Value error, "; the rest is ours.
    return msg.removeprefix("Value error, ")


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"field": _field_path(tuple(e.get("loc", ()))), "issue": _issue(e)} for e in errors]


# On every answer of every function (docs/api-contract.md, README "API conventions"): browsers must not sniff a
# JSON error or a download into HTML, and no cache between client and API (proxy, browser) may keep a tenant's
# books. A route that chooses its own cache policy keeps it (only the public OpenAPI document does).
NOSNIFF = {"X-Content-Type-Options": "nosniff"}
DEFAULT_CACHE_CONTROL = "no-store"


def with_security_headers(result: dict[str, Any]) -> dict[str, Any]:
    """The Lambda proxy result ``result`` with the security headers set (case-insensitively: a route's own
    ``x-content-type-options`` is replaced, its own ``Cache-Control`` kept)."""
    headers = result.get("headers") or {}
    names = {name.lower(): name for name in headers}
    for name, value in NOSNIFF.items():
        headers.pop(names.get(name.lower(), name), None)
        headers[name] = value
    if "cache-control" not in names:
        headers["Cache-Control"] = DEFAULT_CACHE_CONTROL
    result["headers"] = headers
    return result


class _Resolver(APIGatewayHttpResolver):
    """powertools' HTTP API resolver, every answer with the security headers: set on the finished result,
    so they cover what no route or handler of ours writes (powertools' own 404, validation errors, the
    500 handler) and cannot be forgotten by a new route."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        return with_security_headers(super().resolve(event, context))


def make_resolver() -> APIGatewayHttpResolver:
    app = _Resolver(enable_validation=True, json_body_deserializer=_json_body)

    @app.exception_handler(DomainError)
    def _domain(ex: DomainError) -> Response[str]:
        if ex.status >= 500:
            logger.error("domain error", extra={"code": ex.code})
        return error_response(type(ex), ex.message, ex.details, ex.headers)

    @app.exception_handler(RequestValidationError)
    def _invalid(ex: RequestValidationError) -> Response[str]:
        errors = list(ex.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(InvalidJson, "The request body is not valid JSON.")
        if any(e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",) for e in errors):
            return error_response(InvalidInput, "A JSON request body is required.",
                                  [{"field": "body", "issue": "required"}])
        return error_response(InvalidInput, "The request is invalid.", validation_details(errors))

    @app.exception_handler(ValidationError)
    def _pydantic(ex: ValidationError) -> Response[str]:
        return error_response(InvalidInput, "The request is invalid.",
                              validation_details([dict(e) for e in ex.errors()]))

    @app.exception_handler(json.JSONDecodeError)
    def _bad_json(ex: json.JSONDecodeError) -> Response[str]:
        return error_response(InvalidJson, "The request body is not valid JSON.")

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(ex: UnicodeDecodeError) -> Response[str]:
        # API Gateway passes a body that is not valid UTF-8 base64-encoded; powertools decodes it as
        # UTF-8 text when the route reads JSON (RFC 8259: JSON exchanged between systems is UTF-8).
        return error_response(InvalidJson, "The request body is not valid UTF-8 JSON.")

    @app.exception_handler(ServiceError)
    def _service(ex: ServiceError) -> Response[str]:
        # powertools' own errors keep their status; the code comes from the catalog.
        if ex.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE:
            return error_response(UnsupportedMediaType, str(ex.msg), status=ex.status_code)
        return error_response(InvalidInput if ex.status_code < 500 else InternalError, str(ex.msg),
                              status=ex.status_code)

    @app.not_found
    def _not_found(ex: Exception) -> Response[str]:
        return error_response(NotFound, "No such endpoint.")

    @app.exception_handler(Exception)
    def _unexpected(ex: Exception) -> Response[str]:
        if is_throttle(ex):
            # DynamoDB throttled beyond botocore's retries (a read, or a write outside store.base's
            # helpers): the request may succeed in a moment, so 503 + Retry-After, not a 500.
            logger.warning("throttled", extra={"aws_code": aws_error_code(ex)})
            unavailable = ServiceUnavailable()
            return error_response(ServiceUnavailable, unavailable.message, headers=unavailable.headers)
        # Never a traceback in a response: log it with the request id, answer a stable code.
        logger.exception("unhandled error")
        return error_response(InternalError, "An internal error occurred.")

    # Our request validation in place of powertools' own (same class, one method changed; see below).
    app._request_validation_middleware = _JsonBodyValidation()  # type: ignore[attr-defined]
    return app


class _JsonBodyValidation(OpenAPIRequestValidationMiddleware):
    """powertools' request validation, after the route's scope check, and a route with a JSON body reads
    JSON only.

    Authorisation first (issue 14): the caller is checked against the scope the route declared
    (api.auth.requires) before the path, the query or the body is read, so a token without the scope
    gets 403 whatever it sends ("{not json", wrong types, another Content-Type, a huge upload). An
    ``@idempotent`` route then runs under its Idempotency-Key after the request validated, as before.

    powertools would read a urlencoded or multipart body as form fields ("curl -d" sends urlencoded, so
    every field came back "missing"), answered a multipart type without a boundary and text/plain with
    exceptions that were 500s, and took "Application/JSON" for an unknown type. Upload routes read their
    multipart body themselves (api/multipart.py) and have no body parameter, so they never come here."""

    def handler(self, app: Any, next_middleware: Any) -> Any:
        route = app.context["_route"].func
        if route.__name__ == "not_found_handler" and route.__module__.startswith("aws_lambda_powertools."):
            # powertools' own route for "no such path" (it answers our 404): it tells nothing, needs no scope
            return next_middleware(app)
        checked = authorize(app, route)
        scope = idempotency_scope(route)
        if scope is not None and checked is not None:
            inner = next_middleware
            # The request hash covers the body only: the path's values go into the record's scope, so
            # that one key sent to /periods/2026-01/lock and /periods/2026-02/lock never replays the other.
            args = app.context.get("_route_args") or {}
            records = scope + "".join(f"#{args[name]}" for name in sorted(args))

            def next_middleware(app: Any) -> Any:
                return run_idempotent(app, checked, records, lambda: inner(app))

        return super().handler(app, next_middleware)

    def _get_body(self, app: Any) -> dict[str, Any]:
        content_type = (app.current_event.headers or {}).get("content-type", "")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type and media_type != JSON:
            raise UnsupportedMediaType.field("Content-Type", "must be application/json")
        body = self._parse_json_data(app)
        # powertools hands a single-model body that is a list its *first element* (its form-data handling,
        # _normalize_field_value, applied to JSON as well): [{booking}, {booking}] booked one and dropped the
        # rest with a 201. A string, number or boolean would only fail deeper, with a message about the
        # model. A body of the wrong JSON type is refused here as a whole, for every route at once.
        # (No body at all stays "A JSON request body is required"; a literal null is refused like the rest.)
        if not isinstance(body, dict) and (body is not None or app.current_event.decoded_body) \
                and not _accepts_sequence(app.context["_route"]):
            raise InvalidInput.field("body", f"must be a JSON object, not {_json_type(body)}")
        return body  # type: ignore[no-any-return]


def _accepts_sequence(route: Any) -> bool:
    """Does the route's one body parameter take a JSON array (a ``list[Model]`` body)? None does today."""
    params = route.dependant.body_params
    return len(params) == 1 and _is_or_contains_sequence(params[0].field_info.annotation)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"


def _status_description(errors: list[type[DomainError]]) -> str:
    """``GENERIC: meaning (also: CODE_A, CODE_B)``: the status's generic code first, then the others."""
    generic = min(errors, key=lambda e: len(e.__mro__))
    others = [e.code for e in errors if e is not generic]
    meaning = generic.meaning().rstrip(".")
    meaning = meaning[:1].lower() + meaning[1:]  # "CODE: lower-case meaning", as the descriptions always read
    return f"{generic.code}: {meaning}" + (f" (also: {', '.join(others)})" if others else "")


# The OpenAPI description of each error status, generated from the error catalog (ledgerlou.errors).
ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    status: {"description": _status_description(errors)} for status, errors in by_status().items()}


def responses(model: Any, status: int = 200, description: str = "Success", *errors: int) -> dict[int, Any]:
    """OpenAPI ``responses=`` for a route: the success model plus the error responses it can give."""
    return {status: {"description": description, "content": {JSON: {"model": model}}}, **_errors(errors)}


def _errors(errors: tuple[int, ...]) -> dict[int, Any]:
    return {code: {"description": ERROR_RESPONSES.get(code, {"description": "Error"})["description"],
                   "content": {JSON: {"model": ErrorBody}}} for code in errors or (400, 401, 403, 404)}


def file_responses(content_type: str, description: str, *errors: int, redirect: bool = False) -> dict[int, Any]:
    """OpenAPI ``responses=`` for a route that answers a file (not JSON): its media type, the 303 to a
    presigned URL for large files (``redirect``), and the JSON error responses it can give."""
    out: dict[int, Any] = {200: {"description": description,
                                 "content": {content_type: {"schema": {"type": "string", "format": "binary"}}}},
                           **_errors(errors)}
    if redirect:
        out[303] = {"description": "Large file: the Location header is a presigned download URL (15 min)",
                    "headers": {"Location": {"description": "Presigned URL", "schema": {"type": "string"}}},
                    "content": {JSON: {"schema": {
                        "type": "object", "required": ["download_url", "expires_in", "size"],
                        "properties": {"download_url": {"type": "string"}, "expires_in": {"type": "integer"},
                                       "size": {"type": "integer", "description": "bytes"}}}}}}
    return out


def link(method: str, path: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation at ``method path``, its parameters taken from this response,
    e.g. ``link("GET", "/v1/journal/{intent_id}", intent_id="$response.body#/intent_id")``: clients and
    schemathesis' stateful tests follow it from what was created to what reads, changes or revokes it."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method.lower()}", "parameters": parameters}


def with_links(out: dict[int, Any], status: int, **links: dict[str, Any]) -> dict[int, Any]:
    """``responses=`` with OpenAPI ``links`` on the ``status`` response (see ``link``)."""
    out[status] = {**out[status], "links": links}
    return out


MULTIPART_EXTENSION = "x-ledgerlou-multipart"


def multipart_body(description: str, **text_fields: str) -> dict[str, Any]:
    """``openapi_extensions=`` for a route that reads a multipart/form-data upload itself
    (api/multipart.py): the document generator (local/openapi_gen.py) turns it into the operation's
    ``requestBody``, with the required ``file`` part and the optional text fields named here."""
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary", "description": description}}
    for name, text in text_fields.items():
        properties[name] = {"type": "string", "description": text}
    return {MULTIPART_EXTENSION: {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": properties, "required": ["file"]}}}}}


class ErrorDetail(BaseModel):
    field: str
    issue: str


class ErrorPayload(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    error: ErrorPayload
