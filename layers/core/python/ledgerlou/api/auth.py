"""The caller as the authorizer established it (a ``domain.caller.Caller``), and the scope check.

Tenancy comes from the token only (docs/api-contract.md): handlers take the tenant from here, never from the request.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from ledgerlou.domain.caller import Caller
from ledgerlou.errors import Forbidden, Unauthenticated


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


def caller(app: APIGatewayHttpResolver, scope: str) -> AuthContext:
    """The authenticated caller, checked for ``scope``; 401 without authorizer context, 403 without scope."""
    try:
        raw = app.current_event.request_context.authorizer.get_lambda or {}
    except (AttributeError, KeyError, TypeError):
        raw = {}
    if not raw or not raw.get("tenant_id"):
        raise Unauthenticated("A valid bearer token is required.")
    return AuthContext.from_context({k: str(v) for k, v in raw.items()}).require(scope)
