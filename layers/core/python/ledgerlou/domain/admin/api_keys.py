"""API keys: ``ll_`` + 40 random base62 characters, stored only as a SHA-256 hash.

SHA-256 (not argon2) is right here: the keys carry ~238 bits of randomness, so there is nothing to
brute-force, and the authorizer must stay fast. Passwords (later) use argon2.

A tenant always keeps an active admin key (issue 14, item 5): only an admin key manages keys, so
without one nobody could ever create a key again. The per-tenant admin-key counter
(``store.admin.api_keys.AdminKeyCounter``) makes the rule hold under concurrency: a revocation first
takes one from the counter with the condition that more than one remains, then marks the key revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from datetime import UTC, datetime, timedelta

from ledgerlou.domain.caller import ALL_SCOPES, Caller
from ledgerlou.errors import AlreadyRevoked, Forbidden, InvalidInput, LastAdminKey, NotFound
from ledgerlou.store.admin import api_keys as store
from ledgerlou.store.admin import tenants as tenant_store
from ledgerlou.store.base import now_iso

KEY_PREFIX = "ll_"
KEY_RANDOM_LENGTH = 40
_ALPHABET = string.ascii_letters + string.digits
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How actors are named (domain/caller.py): a key's ``apikey:<key id>`` (``authenticate`` below), a
# session's ``user:<user id>`` (domain/people/sessions.py)
KEY_ACTOR = "apikey:"
USER_ACTOR = "user:"
# Keys created by keys created by keys...: how many key records ``principal_of`` reads at most
MAX_PRINCIPAL_HOPS = 10


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


def is_admin_key(item: store.ApiKeyItem) -> bool:
    return "admin" in (item.scopes or [])


def _ensure_admin_count(tenant_id: str) -> None:
    """Tenants created before the counter have none: count their active admin keys once.

    Exact under concurrency: every request that changes an admin key calls this first, and only one
    conditional create of the counter wins. The winner counted before its create, and any change happens
    after its request saw the counter exist or lost the create — so after the winner's count, and the
    change is then counted by the counter itself. (A Lambda of the version before this one, running
    during a deployment, does not count: that window is the one gap.)"""
    if store.admin_key_count(tenant_id) is None:
        active = sum(1 for k in store.list_for_tenant(tenant_id, consistent=True)
                     if is_admin_key(k) and not k.revoked_at)
        store.init_admin_key_count(tenant_id, active)


def issue(tenant_id: str, label: str, scopes: list[str], created_by: str | None, token: str | None = None
          ) -> tuple[store.ApiKeyItem, str]:
    """Create a key; returns the record and the plaintext token (shown once, never stored)."""
    token = token or generate_key()
    if not is_well_formed(token):
        raise InvalidInput.field("key", "must be ll_ followed by at least 32 base62 characters")
    item = store.ApiKeyItem(key_id=str(uuid.uuid4()), tenant_id=tenant_id, label=label,
                            prefix=display_prefix(token), key_hash=hash_token(token),
                            scopes=validate_scopes(scopes), created_at=now_iso(), created_by=created_by)
    admin = is_admin_key(item)
    if admin:
        _ensure_admin_count(tenant_id)
    store.put_new(item)
    if admin:
        # Counted after the key exists: a crash in between leaves the count one low, never one high.
        store.count_admin_key(tenant_id)
    return item, token


def create(ctx: Caller, label: str, scopes: list[str]) -> tuple[store.ApiKeyItem, str]:
    requested = validate_scopes(scopes)
    # No key can mint a key with more rights than its own (docs/api-contract.md).
    if "admin" not in ctx.scopes:
        excess = [s for s in requested if s not in ctx.scopes]
        if excess:
            raise Forbidden(f"Cannot grant scopes the caller does not hold: {', '.join(excess)}.")
    return issue(ctx.tenant_id, label, requested, created_by=ctx.actor_id)


def principal_of(tenant_id: str, actor_id: str) -> str:
    """The person behind an actor: a user is themself; an API key is whoever created it, followed
    through keys that created keys (one consistent GetItem per key) until a user, or a key with no
    creator of its own — the tenant's bootstrap admin key (``created_by="system"``) is its own
    principal. Four-eyes rules compare these, not actor ids: a key is its creator's second pair of
    hands, not a second pair of eyes.

    Bounded: after MAX_PRINCIPAL_HOPS key records, or at a key whose record is missing (another
    tenant's, or never written), the chain stops at the furthest key it has reached — the furthest,
    not the first, so two keys made by one missing key still count as one person. A cycle (which
    ``create`` cannot produce: a key's creator exists before it) stops at the smallest key id in the
    cycle, so every key in it answers the same principal.

    The reads are consistent: a key created a moment ago must not pass for a person of its own."""
    if not actor_id.startswith(KEY_ACTOR):
        return actor_id
    chain = [actor_id]
    for _hop in range(MAX_PRINCIPAL_HOPS):
        current = chain[-1]
        item = store.get(tenant_id, current[len(KEY_ACTOR):], consistent=True)
        if item is None:
            return current
        creator = item.created_by or ""
        if creator.startswith(USER_ACTOR):
            return creator
        if not creator.startswith(KEY_ACTOR):
            return current  # no creator ("system", or none recorded): the key is its own principal
        if creator in chain:
            return min(chain[chain.index(creator):])
        chain.append(creator)
    return chain[-1]


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
    admin = is_admin_key(item)
    if admin:
        _ensure_admin_count(ctx.tenant_id)
        # Taken before the key is marked: two admins revoking each other's keys at once meet on this
        # one conditional write, and only one gets past it. (Admin users, once they exist, count as
        # "another admin" in the same condition: store.admin.api_keys.take_admin_key.)
        if not store.take_admin_key(ctx.tenant_id):
            raise LastAdminKey("This is the tenant's last active admin key: create another admin key first, "
                               "then revoke this one.")
    revoked_at = now_iso()
    if not store.revoke(item, revoked_at):
        if admin:
            store.count_admin_key(ctx.tenant_id)  # give back what was taken: the key stays counted
        raise AlreadyRevoked("API key is revoked already.")
    item.revoked_at = revoked_at
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
