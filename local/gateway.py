"""An in-process API Gateway (HTTP API, payload 2.0): request → authorizer → group function.

Each request becomes the event API Gateway would send, so the handlers run exactly as deployed.
Each function is guarded by a lock: like one Lambda instance, a module-level resolver serves one
event at a time (powertools keeps the current event on the resolver).
"""

from __future__ import annotations

import base64
import importlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ledgerlou import errors

from local import iam, template

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LambdaContext:
    """The attributes powertools and our handlers read from the Lambda context."""

    def __init__(self, function_name: str, timeout_s: int = 29) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:eu-central-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        from ledgerlou.money import loads

        return loads(self.body.decode("utf-8"))


TEXT_TYPES = ("application/json", "text/", "application/xml", "application/x-ndjson", "application/jsonl")


class Gateway:
    def __init__(self) -> None:
        self.routes = template.routes()
        self.functions = template.functions()
        self.authorizer_id = template.authorizer_function()
        self._handlers: dict[str, Handler] = {}
        self._locks: dict[str, threading.Lock] = {lid: threading.Lock() for lid in self.functions}
        # Every function's AWS calls are checked against its policy in template.yaml (local.iam;
        # LEDGERLOU_LOCAL_IAM=0 turns that off): a missing permission fails here, not first on AWS.
        iam.install()

    def handler(self, logical_id: str) -> Handler:
        if logical_id not in self._handlers:
            fn = self.functions[logical_id]
            module_name, _, attr = fn.handler.rpartition(".")
            package = fn.code_uri.strip("/").replace("/", ".")
            module = importlib.import_module(f"{package}.{module_name}")
            self._handlers[logical_id] = getattr(module, attr)
        return self._handlers[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        # the init (the module's import) runs under the function's role too, as on AWS
        with self._locks[logical_id], iam.running(logical_id):
            # the function's own Timeout from template.yaml: the import worker has 120 s, the API 29 s
            return self.handler(logical_id)(event, LambdaContext(logical_id, self.functions[logical_id].timeout_s))

    def match(self, method: str, path: str) -> tuple[template.Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                return route, m.groupdict()
        return None

    def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                body: bytes | str | None = None) -> HttpResponse:
        method = method.upper()
        parts = urlsplit(url)
        path = parts.path or "/"
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        if isinstance(body, str):
            body = body.encode("utf-8")
        found = self.match(method, path)
        if found is None:
            allowed = sorted({r.method for r in self.routes if r.regex.match(path)})
            if not allowed:
                return _json(errors.NotFound, "No such endpoint.")
            # RFC 9110 15.5.6: a 405 names the methods the resource does support.
            answer = _json(errors.MethodNotAllowed, "Method not allowed.")
            answer.headers["allow"] = ", ".join(allowed)
            return answer
        route, params = found
        event = self._event(route, method, path, parts.query, headers, body, params)
        if not route.public and self.authorizer_id:
            auth_event = {"version": "2.0", "type": "REQUEST", "routeArn": route.route_key,
                          "identitySource": [headers.get("authorization", "")], "routeKey": route.route_key,
                          "rawPath": path, "rawQueryString": parts.query, "headers": headers,
                          "requestContext": event["requestContext"]}
            if not headers.get("authorization"):
                return _json(errors.Unauthenticated, "A bearer token is required.")
            result = self.invoke(self.authorizer_id, auth_event)
            if not result.get("isAuthorized"):
                # HTTP API answers 403 for a denied simple response; the API contract wants 401 (docs/api-contract.md).
                return _json(errors.Unauthenticated, "The bearer token is invalid or revoked.")
            event["requestContext"]["authorizer"] = {"lambda": result.get("context") or {}}
        result = self.invoke(route.function, event)
        return _to_http(result)

    @staticmethod
    def _event(route: template.Route, method: str, path: str, query: str, headers: dict[str, str],
               body: bytes | None, params: dict[str, str]) -> dict[str, Any]:
        now = datetime.now(UTC)
        qs: dict[str, str] = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            qs[k] = f"{qs[k]},{v}" if k in qs else v  # payload 2.0 joins repeated parameters with commas
        content_type = headers.get("content-type", "")
        is_text = body is not None and (content_type.startswith(TEXT_TYPES) or not content_type)
        if body is not None and is_text:
            try:
                encoded: str | None = body.decode("utf-8")
                b64 = False
            except UnicodeDecodeError:
                encoded, b64 = base64.b64encode(body).decode("ascii"), True
        elif body is not None:
            encoded, b64 = base64.b64encode(body).decode("ascii"), True
        else:
            encoded, b64 = None, False
        return {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": path,
            "rawQueryString": query,
            "cookies": [],
            "headers": headers,
            "queryStringParameters": qs or None,
            "pathParameters": params or None,
            "requestContext": {
                "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1",
                "domainPrefix": "local", "stage": "$default", "routeKey": route.route_key,
                "requestId": str(uuid.uuid4()), "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                         "userAgent": headers.get("user-agent", "")},
            },
            "body": encoded,
            "isBase64Encoded": b64,
        }


def _json(error: type[errors.DomainError], message: str) -> HttpResponse:
    from ledgerlou.money import dumps

    return HttpResponse(error.status, {"content-type": "application/json"},
                        dumps({"error": {"code": error.code, "message": message}}).encode("utf-8"))


def _to_http(result: dict[str, Any]) -> HttpResponse:
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for k, values in (result.get("multiValueHeaders") or {}).items():
        headers[k.lower()] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return HttpResponse(int(result.get("statusCode", 200)), headers, raw)
