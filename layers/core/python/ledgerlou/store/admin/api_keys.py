"""API keys. Two items per key:

- the key record   PK=T#<tenant>#APIKEY   SK=<key id>       (list / get / revoke within the tenant)
- the hash pointer PK=APIKEYHASH#<sha256> SK=APIKEYHASH     (authorizer: token → tenant, key id)

The pointer is the one key not prefixed with a tenant: it is how a token finds its tenant. It holds
no secret (only the hash) and no rights; the authorizer always reads the tenant's own key record for
scopes and revocation, so revoking needs one write and takes effect at once.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.errors import AlreadyRevoked, InternalError
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


def get(tenant_id: str, key_id: str) -> ApiKeyItem | None:
    try:
        return ApiKeyItem.get(_pk(tenant_id), key_id)
    except DoesNotExist:
        return None


def find_by_hash(key_hash: str) -> ApiKeyHashItem | None:
    try:
        return ApiKeyHashItem.get(*hash_key(key_hash))
    except DoesNotExist:
        return None


def list_for_tenant(tenant_id: str) -> list[ApiKeyItem]:
    return list(ApiKeyItem.query(_pk(tenant_id)))


def touch(item: ApiKeyItem, now: str, not_since: str) -> None:
    """Record last use, at most once per interval: a write per request would double the auth cost."""
    if item.last_used_at and item.last_used_at > not_since:
        return
    try:
        item.update(actions=[ApiKeyItem.last_used_at.set(now)])
    except Exception:  # noqa: BLE001 - bookkeeping of last use must never fail a request
        logger.warning("could not record last use of an API key", extra={"key_id": item.key_id})


def revoke(item: ApiKeyItem, now: str) -> None:
    update_if(item, [ApiKeyItem.revoked_at.set(now)], ApiKeyItem.revoked_at.does_not_exist(),
              AlreadyRevoked("API key is revoked already."))
