"""API keys. Two items per key, and one per tenant:

- the key record   PK=T#<tenant>#APIKEY   SK=<key id>       (list / get / revoke within the tenant)
- the hash pointer PK=APIKEYHASH#<sha256> SK=APIKEYHASH     (authorizer: token → tenant, key id)
- the admin count  PK=T#<tenant>#ADMINS   SK=COUNTER        (active admin keys: the last is never revoked)

The pointer is the one key not prefixed with a tenant: it is how a token finds its tenant. It holds
no secret (only the hash) and no rights; the authorizer always reads the tenant's own key record for
scopes and revocation, so revoking needs one write and takes effect at once.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.errors import InternalError
from ledgerlou.observability import logger
from ledgerlou.store.base import TableModel, tenant_pk, update_if
from ledgerlou.store.base import put_new as put_unique


class ApiKeyItem(TableModel):
    key_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    label = UnicodeAttribute()
    prefix = UnicodeAttribute()
    key_hash = UnicodeAttribute()
    scopes = ListAttribute(of=UnicodeAttribute)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)
    last_used_at = UnicodeAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)


class ApiKeyHashItem(TableModel):
    tenant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()


def _pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "APIKEY")


def hash_key(key_hash: str) -> tuple[str, str]:
    return f"APIKEYHASH#{key_hash}", "APIKEYHASH"


def put_new(item: ApiKeyItem) -> None:
    item.PK, item.SK = _pk(item.tenant_id), item.key_id
    pointer = ApiKeyHashItem(*hash_key(item.key_hash), tenant_id=item.tenant_id, key_id=item.key_id)
    # Pointer first: a key record without a pointer is unusable, a pointer without a record is ignored.
    # Both keys derive from fresh randomness (a UUID, a SHA-256 of 238 random bits): a collision is
    # not a conflict the caller could resolve.
    collision = InternalError("API key id or hash collision.")
    put_unique(pointer, collision)
    put_unique(item, collision)


def get(tenant_id: str, key_id: str, consistent: bool = False) -> ApiKeyItem | None:
    try:
        return ApiKeyItem.get(_pk(tenant_id), key_id, consistent_read=consistent)
    except DoesNotExist:
        return None


def find_by_hash(key_hash: str) -> ApiKeyHashItem | None:
    try:
        return ApiKeyHashItem.get(*hash_key(key_hash))
    except DoesNotExist:
        return None


def list_for_tenant(tenant_id: str, consistent: bool = False) -> list[ApiKeyItem]:
    return list(ApiKeyItem.query(_pk(tenant_id), consistent_read=consistent))


def touch(item: ApiKeyItem, now: str, not_since: str) -> None:
    """Record last use, at most once per interval: a write per request would double the auth cost."""
    if item.last_used_at and item.last_used_at > not_since:
        return
    try:
        item.update(actions=[ApiKeyItem.last_used_at.set(now)])
    except Exception:  # noqa: BLE001 - bookkeeping of last use must never fail a request
        logger.warning("could not record last use of an API key", extra={"key_id": item.key_id})


def revoke(item: ApiKeyItem, now: str) -> bool:
    """Mark the key revoked; False if it was revoked already (by a concurrent request)."""
    return update_if(item, [ApiKeyItem.revoked_at.set(now)], ApiKeyItem.revoked_at.does_not_exist())


# ----------------------------------------------------------------- the tenant's count of active admin keys
class AdminKeyCounter(TableModel):
    """How many active admin keys the tenant has. Every change is one conditional UpdateItem on this one
    item, so two revocations racing each other are serialised by DynamoDB (no transaction needed:
    docs/library-notes.md "moto" on TransactWriteItems). The count may be lower than the truth after a
    crash between the counter's and the key's write (the writes are ordered so that it is never higher):
    lower only refuses a revocation too many, higher could let the last admin key go."""

    admin_keys = NumberAttribute()


def counter_key(tenant_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, "ADMINS"), "COUNTER"


def admin_key_count(tenant_id: str) -> int | None:
    """The count, or None for a tenant created before the counter existed."""
    try:
        return int(AdminKeyCounter.get(*counter_key(tenant_id), consistent_read=True).admin_keys)
    except DoesNotExist:
        return None


def init_admin_key_count(tenant_id: str, count: int) -> None:
    """Create the counter with ``count`` unless it exists already (a concurrent request created it: keep
    that one — it was counted before anything changed, see domain/admin/api_keys.py)."""
    put_unique(AdminKeyCounter(*counter_key(tenant_id), admin_keys=count))


def count_admin_key(tenant_id: str, delta: int = 1) -> None:
    """Add to the count (a new admin key, or giving back a slot taken for a revocation that did not happen)."""
    # No counter (the condition fails): the tenant's counter is created (by counting) before any admin key
    # changes, so this is only a counter removed by hand; the next change counts again.
    update_if(AdminKeyCounter(*counter_key(tenant_id)), [AdminKeyCounter.admin_keys.add(delta)],
              AdminKeyCounter.PK.exists())


def take_admin_key(tenant_id: str) -> bool:
    """Count one admin key less if at least one other remains; False (nothing written) if it is the last.

    Hook for admin users (there are none yet): they get their own ``admin_users`` count on this item, this
    condition becomes ``admin_keys > 1 OR admin_users > 0``, and removing an admin user the mirror image."""
    return update_if(AdminKeyCounter(*counter_key(tenant_id)), [AdminKeyCounter.admin_keys.add(-1)],
                     AdminKeyCounter.admin_keys > 1)
