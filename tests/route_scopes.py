"""Every route of every function with the scope it declares (api.auth.requires / public), read from
the functions' resolvers the way the local gateway loads them (template.yaml's CodeUri)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DeclaredRoute:
    function: str  # template logical id
    method: str
    path: str  # OpenAPI form: /v1/accounts/{number}/entries
    name: str  # the route function's name
    scope: str | None  # None: declared nothing; api.auth.PUBLIC: no token needed
    idempotency: str | None


def declared_routes() -> list[DeclaredRoute]:
    from ledgerlou.api.auth import declared_scope
    from ledgerlou.api.idempotency import idempotency_scope

    from local import template

    out = []
    for fn in template.functions().values():
        module_name = fn.handler.rsplit(".", 1)[0]
        module = importlib.import_module(f"{fn.code_uri.strip('/').replace('/', '.')}.{module_name}")
        app: Any = getattr(module, "app", None)
        if app is None or not hasattr(app, "_static_routes"):
            continue  # a worker or the authorizer: no routes
        for route in [*app._static_routes, *app._dynamic_routes]:
            methods = route.method if isinstance(route.method, list | tuple) else [route.method]
            for method in methods:
                out.append(DeclaredRoute(fn.logical_id, method.upper(), route.openapi_path, route.func.__name__,
                                         declared_scope(route.func), idempotency_scope(route.func)))
    return out
