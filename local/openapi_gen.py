"""Generates the OpenAPI document from every function's resolver (powertools' OpenAPI merge) and
writes it to functions/openapi/openapi.json, which the openapi function serves. `--check` fails when
the committed file differs from what the code generates (CI drift check)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "functions" / "openapi" / "openapi.json"

DESCRIPTION = """GoBD-compliant double-entry bookkeeping for German SMEs (SKR03/SKR04).

Authentication: `Authorization: Bearer <API key ll_… or session token>`; scopes `<group>:read|write`,
`periods:approve`, `admin`. Errors: `{"error": {"code", "message", "details": [{"field", "issue"}]}}`.
Amounts are JSON numbers with at most 2 decimals (parsed exactly, never as float), or the same as a plain
decimal string ("119.00"); dates are `YYYY-MM-DD` and nothing else. POSTs that create something accept an
`Idempotency-Key` header."""


def generate() -> str:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    for p in (str(ROOT), str(ROOT / "layers" / "core" / "python")):
        if p not in sys.path:
            sys.path.insert(0, p)
    import importlib

    from local import template

    # Each function has its own resolver; merge their documents. (powertools' configure_openapi_merge
    # discovers resolvers by their constructor call, which our factory hides.)
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "LedgerLou API", "version": "1.0.0", "description": DESCRIPTION},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "ll_… API key or session token"}}},
        "security": [{"bearerAuth": []}],
    }
    for fn in sorted(template.functions().values(), key=lambda f: f.logical_id):
        module = importlib.import_module(fn.code_uri.strip("/").replace("/", ".") + "." +
                                         fn.handler.rpartition(".")[0])
        app = getattr(module, "app", None)
        if app is None:
            continue  # workers have no routes
        doc = json.loads(app.get_openapi_json_schema(title="LedgerLou API", version="1.0.0"))
        for path, ops in (doc.get("paths") or {}).items():
            target = merged["paths"].setdefault(path, {})
            for method, op in ops.items():
                if method in target:
                    raise SystemExit(f"route {method.upper()} {path} is declared by two functions")
                op["operationId"] = operation_id(op["operationId"], path, method)
                target[method] = op
        for name, schema in ((doc.get("components") or {}).get("schemas") or {}).items():
            known = merged["components"]["schemas"].get(name)
            if known is not None and known != schema:
                raise SystemExit(f"two different models are both named {name}")
            merged["components"]["schemas"][name] = schema
    schema = merged
    public = {"/v1/openapi.json", "/v1/auth/login", "/v1/auth/forgot-password", "/v1/auth/setup-password",
              "/v1/contact"}
    for path, ops in schema.get("paths", {}).items():
        for op in ops.values():
            if path in public:
                op["security"] = []
            _complete_operation(op, secured=path not in public)
    _drop_unreferenced_schemas(schema)
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# operationIds where the route function's name is not the verb and noun a client method should be called by
# (docs/api-contract.md "Transport": listAccounts, postBooking, getIntent, reconcileBankTransaction).
OPERATION_IDS = {
    "account_entries": "listAccountEntries", "post_batch": "postBookingBatch", "list_journal": "listJournalEntries",
    "balance_history": "getBalanceHistory", "import_transactions": "importBankTransactions",
    "unreconciled_count": "countUnreconciledTransactions", "document_file": "getDocumentFile",
    "document_preview": "getDocumentPreview", "openapi_document": "getOpenApiDocument",
    "request_lock": "requestPeriodLock", "approve_lock": "approvePeriodLock", "cancel_lock": "cancelPeriodLock",
    "lock_status": "getPeriodLockStatus", "soft_lock": "softLockPeriod", "reopen": "reopenPeriod",
    "monthly": "getMonthlyRevenueExpenses", "datev_export": "exportDatev",
}


def operation_id(generated: str, path: str, method: str) -> str:
    """The short camelCase operationId of a route: client generators make their method names of it, so it is
    derived here, in one place, from the route function's name (post_booking -> postBooking, or OPERATION_IDS),
    not left as powertools' ``<function><path>_<method>`` (post_booking_v1_bookings_post)."""
    suffix = re.sub(r"\W", "_", path) + "_" + method
    if not generated.endswith(suffix):
        raise SystemExit(f"{method.upper()} {path}: cannot tell the function from the operationId {generated!r}")
    function = generated.removesuffix(suffix)
    head, *rest = function.split("_")
    return OPERATION_IDS.get(function) or head + "".join(part.capitalize() for part in rest)


def _complete_operation(op: dict[str, Any], *, secured: bool) -> None:
    """Make the document say what the API does (checked against the running API by
    tests/e2e/test_openapi_conformance.py).

    - powertools documents a 422 with its own HTTPValidationError body on every route; this API answers
      validation errors with 400 and the error body of docs/api-contract.md (a route that can give 422 declares it).
    - every route behind the authorizer can answer 401 and 403, every route with parameters or a body 400,
      every route with a path parameter 404 - with the one error body.
    - a route that reads a multipart upload itself declares its body as an extension (resolver.multipart_body).
    """
    from ledgerlou.api.resolver import ERROR_RESPONSES, MULTIPART_EXTENSION

    responses = op.setdefault("responses", {})
    if "HTTPValidationError" in json.dumps(responses.get("422", {})):
        del responses["422"]
    errors: set[int] = set()
    if secured:
        errors |= {401, 403}
    parameters = op.get("parameters") or []
    if parameters or "requestBody" in op or MULTIPART_EXTENSION in op:
        errors.add(400)
    if any(p.get("in") == "path" for p in parameters):
        errors.add(404)
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for status in sorted(errors):
        responses.setdefault(str(status), {"description": ERROR_RESPONSES[status]["description"]})
    for status, response in responses.items():
        if status.startswith("4"):
            response["content"] = error_body
    body = op.pop(MULTIPART_EXTENSION, None)
    if body is not None:
        op["requestBody"] = body


def _drop_unreferenced_schemas(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    while True:
        text = json.dumps({k: v for k, v in doc.items() if k != "components"}) + json.dumps(schemas)
        unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
        if not unused:
            return
        for name in unused:
            del schemas[name]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    doc = generate()
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != doc:
            print("functions/openapi/openapi.json is out of date: run `make openapi` and commit it", file=sys.stderr)
            return 1
        print("openapi.json is up to date")
        return 0
    if args.write:
        TARGET.write_text(doc, encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)} ({len(json.loads(doc)['paths'])} paths)")
        return 0
    sys.stdout.write(doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
