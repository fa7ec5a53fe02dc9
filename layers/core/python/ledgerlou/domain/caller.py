"""Who is asking: the caller of a domain operation (tenant, actor, scopes, chart, base currency).

The API layer builds it from the authorizer's context (``ledgerlou.api.auth``, which also checks the
scopes); the domain reads it and never looks at HTTP. Tenancy comes from the token only: the domain
takes the tenant from here, never from a request body.
"""

from __future__ import annotations

from dataclasses import dataclass

# The scope vocabulary: a read and a write scope per endpoint group, plus the approval of a period
# lock and "admin" (every scope).
GROUPS = ("journal", "bank", "receivables", "payables", "periods", "reports", "documents", "inbox", "settings")
ALL_SCOPES: tuple[str, ...] = (
    *(f"{g}:{a}" for g in GROUPS for a in ("read", "write")),
    "periods:approve",
    "admin",
)


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    actor_id: str
    actor_type: str  # "api_key" | "user"
    actor_label: str
    key_prefix: str | None
    scopes: frozenset[str]
    chart: str  # "skr03" | "skr04"
    base_currency: str
