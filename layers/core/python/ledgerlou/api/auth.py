"""The caller as the authorizer established it (a ``domain.caller.Caller``), and the scope check.

Tenancy comes from the token only (docs/api-contract.md): handlers take the tenant from here, never from the request.

Authorisation comes first: every route declares its scope once (``@requires(scope)``, or ``@public``),
and the resolver's request validation (``api.resolver._JsonBodyValidation``) checks it before it reads
the path, the query or the body, so that a caller without the scope learns nothing about a route's
validation (a 403 whatever the body). The route then takes the checked caller with ``caller(app)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from ledgerlou.domain.caller import Caller
from ledgerlou.errors import Forbidden, InternalError, Unauthenticated

F = TypeVar("F", bound=Callable[..., Any])
SCOPE_ATTRIBUTE = "__ledgerlou_scope__"
PUBLIC = ""  # the declared "scope" of a route without authentication (the OpenAPI document)
CALLER_CONTEXT = "ledgerlou_caller"  # the key of the checked caller in the resolver's per-request context


def requires(scope: str) -> Callable[[F], F]:
    """Declare the scope a route needs (put it under ``@app.<method>(...)``)."""
    if not scope:
        raise ValueError("a scope is required; use @public for a route without authentication")

    def declare(route: F) -> F:
        setattr(route, SCOPE_ATTRIBUTE, scope)
        return route

    return declare


def public(route: F) -> F:
    """Declare a route that needs no token (the explicit exception to ``requires``)."""
    setattr(route, SCOPE_ATTRIBUTE, PUBLIC)
    return route


def declared_scope(route: Callable[..., Any]) -> str | None:
    """The scope a route declared (``PUBLIC`` for a public one), None when it declared none."""
    return getattr(route, SCOPE_ATTRIBUTE, None)


@dataclass(frozen=True)
class AuthContext(Caller):
    """The domain's caller plus what the API does with it: the scope check and the authorizer's
    context encoding."""

    @classmethod
    def of(cls, caller: Caller) -> AuthContext:
        return cls(**{f.name: getattr(caller, f.name) for f in fields(Caller)})

    def has(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes

    def require(self, scope: str) -> AuthContext:
        if not self.has(scope):
            raise Forbidden(f"This token lacks the scope '{scope}'.")
        return self

    def to_context(self) -> dict[str, str]:
        """Authorizer context values must be flat strings (HTTP API simple responses)."""
        return {
            "tenant_id": self.tenant_id,
            "actor_id": self.actor_id,
            "actor_type": self.actor_type,
            "actor_label": self.actor_label,
            "key_prefix": self.key_prefix or "",
            "scopes": " ".join(sorted(self.scopes)),
            "chart": self.chart,
            "base_currency": self.base_currency,
        }

    @classmethod
    def from_context(cls, ctx: dict[str, str]) -> AuthContext:
        return cls(
            tenant_id=ctx["tenant_id"],
            actor_id=ctx["actor_id"],
            actor_type=ctx.get("actor_type", "api_key"),
            actor_label=ctx.get("actor_label", ""),
            key_prefix=ctx.get("key_prefix") or None,
            scopes=frozenset(s for s in ctx.get("scopes", "").split() if s),
            chart=ctx.get("chart", "skr03"),
            base_currency=ctx.get("base_currency", "EUR"),
        )


def authorize(app: APIGatewayHttpResolver, route: Callable[..., Any]) -> AuthContext | None:
    """Check the caller against the route's declared scope and keep it for ``caller``; None for a public
    route. A route that declared nothing is refused (fail closed; tests/unit/test_route_scopes.py)."""
    scope = declared_scope(route)
    if scope is None:
        raise InternalError(f"The route {getattr(route, '__name__', route)} declares no scope.")
    if scope == PUBLIC:
        return None
    checked = authenticated(app, scope)
    app.append_context(**{CALLER_CONTEXT: checked})
    return checked


def caller(app: APIGatewayHttpResolver) -> AuthContext:
    """The caller of this request, already checked for the route's declared scope (``authorize``)."""
    checked = app.context.get(CALLER_CONTEXT)
    if not isinstance(checked, AuthContext):
        # Only a route without @requires gets here, and authorize refuses those before the route runs.
        raise Unauthenticated("A valid bearer token is required.")
    return checked


def authenticated(app: APIGatewayHttpResolver, scope: str) -> AuthContext:
    """The authenticated caller, checked for ``scope``; 401 without authorizer context, 403 without scope."""
    try:
        raw = app.current_event.request_context.authorizer.get_lambda or {}
    except (AttributeError, KeyError, TypeError):
        raw = {}
    if not raw or not raw.get("tenant_id"):
        raise Unauthenticated("A valid bearer token is required.")
    return AuthContext.from_context({k: str(v) for k, v in raw.items()}).require(scope)
