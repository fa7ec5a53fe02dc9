"""API keys: ``ll_`` + 40 random base62 characters, stored only as a SHA-256 hash.

SHA-256 (not argon2) is right here: the keys carry ~238 bits of randomness, so there is nothing to
brute-force, and the authorizer must stay fast. Passwords (later) use argon2.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from datetime import UTC, datetime, timedelta

from ledgerlou.domain.caller import ALL_SCOPES, Caller
from ledgerlou.errors import AlreadyRevoked, Forbidden, InvalidInput, NotFound
from ledgerlou.store.admin import api_keys as store
from ledgerlou.store.admin import tenants as tenant_store
from ledgerlou.store.base import now_iso

KEY_PREFIX = "ll_"
KEY_RANDOM_LENGTH = 40
_ALPHABET = string.ascii_letters + string.digits
LAST_USED_RESOLUTION = timedelta(minutes=1)


def generate_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_RANDOM_LENGTH))


def is_well_formed(token: str) -> bool:
    body = token[len(KEY_PREFIX):]
    return token.startswith(KEY_PREFIX) and len(body) >= 32 and all(c in _ALPHABET for c in body)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_prefix(token: str) -> str:
    return token[: len(KEY_PREFIX) + 8]


def validate_scopes(scopes: list[str]) -> list[str]:
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise InvalidInput.field("scopes", f"unknown scope(s): {', '.join(unknown)}")
    if not scopes:
        raise InvalidInput.field("scopes", "at least one scope is required")
    return sorted(set(scopes))


def issue(tenant_id: str, label: str, scopes: list[str], created_by: str | None, token: str | None = None
          ) -> tuple[store.ApiKeyItem, str]:
    """Create a key; returns the record and the plaintext token (shown once, never stored)."""
    token = token or generate_key()
    if not is_well_formed(token):
        raise InvalidInput.field("key", "must be ll_ followed by at least 32 base62 characters")
    item = store.ApiKeyItem(key_id=str(uuid.uuid4()), tenant_id=tenant_id, label=label,
                            prefix=display_prefix(token), key_hash=hash_token(token),
                            scopes=validate_scopes(scopes), created_at=now_iso(), created_by=created_by)
    store.put_new(item)
    return item, token


def create(ctx: Caller, label: str, scopes: list[str]) -> tuple[store.ApiKeyItem, str]:
    requested = validate_scopes(scopes)
    # No key can mint a key with more rights than its own (docs/api-contract.md).
    if "admin" not in ctx.scopes:
        excess = [s for s in requested if s not in ctx.scopes]
        if excess:
            raise Forbidden(f"Cannot grant scopes the caller does not hold: {', '.join(excess)}.")
    return issue(ctx.tenant_id, label, requested, created_by=ctx.actor_id)


def to_dict(item: store.ApiKeyItem) -> dict[str, object]:
    return {"id": item.key_id, "label": item.label, "prefix": item.prefix, "scopes": list(item.scopes or []),
            "created_at": item.created_at, "created_by": item.created_by, "last_used_at": item.last_used_at,
            "revoked_at": item.revoked_at}


def list_keys(tenant_id: str) -> list[store.ApiKeyItem]:
    return sorted(store.list_for_tenant(tenant_id), key=lambda i: i.created_at)


def revoke(ctx: Caller, key_id: str) -> store.ApiKeyItem:
    item = store.get(ctx.tenant_id, key_id)
    if item is None:
        raise NotFound("API key not found.")
    if item.revoked_at:
        raise AlreadyRevoked("API key is revoked already.")
    store.revoke(item, now_iso())
    item.revoked_at = item.revoked_at or now_iso()
    return item


def authenticate(token: str) -> Caller | None:
    """Token → caller, or None. Used by the authorizer; constant work whether or not the key exists."""
    if not is_well_formed(token):
        return None
    pointer = store.find_by_hash(hash_token(token))
    if pointer is None:
        return None
    item = store.get(pointer.tenant_id, pointer.key_id)
    if item is None or item.revoked_at:
        return None
    tenant = tenant_store.get(pointer.tenant_id)
    if tenant is None:
        return None
    now = datetime.now(UTC)
    store.touch(item, now_iso(), (now - LAST_USED_RESOLUTION).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"))
    return Caller(tenant_id=item.tenant_id, actor_id=f"apikey:{item.key_id}", actor_type="api_key",
                       actor_label=item.label, key_prefix=item.prefix,
                       scopes=frozenset(str(s) for s in item.scopes or []), chart=tenant.chart,
                       base_currency=tenant.base_currency)
