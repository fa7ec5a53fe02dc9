"""Generates the OpenAPI document from every function's resolver (powertools' OpenAPI merge) and
writes it to functions/openapi/openapi.json, which the openapi function serves. `--check` fails when
the committed file differs from what the code generates (CI drift check)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "functions" / "openapi" / "openapi.json"

DESCRIPTION = """GoBD-compliant double-entry bookkeeping for German SMEs (SKR03/SKR04).

Authentication: `Authorization: Bearer <API key ll_… or session token>`; scopes `<group>:read|write`,
`periods:approve`, `admin`. Errors: `{"error": {"code", "message", "details": [{"field", "issue"}]}}`.
Amounts are JSON numbers with at most 2 decimals (parsed exactly, never as float). POSTs that create
something accept an `Idempotency-Key` header."""


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
        if path in public:
            for op in ops.values():
                op["security"] = []
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


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
