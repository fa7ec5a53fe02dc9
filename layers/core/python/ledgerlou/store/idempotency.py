"""Idempotency-Key records (API.md "Transport").

Access pattern: PK=T#<tenant>#IDEMPOTENCY, SK=<route>#<key> → GetItem / conditional PutItem; expires
via the table's TTL attribute after 24 h.
"""

from __future__ import annotations

import time

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from ledgerlou.store.base import TableModel, tenant_pk

TTL_SECONDS = 24 * 3600


class IdempotencyItem(TableModel):
    request_hash = UnicodeAttribute()
    state = UnicodeAttribute()  # in_progress | completed
    response_status = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()  # the table's TTL attribute


def key(tenant_id: str, scope: str, idem_key: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, "IDEMPOTENCY"), f"{scope}#{idem_key}"


def claim(tenant_id: str, scope: str, idem_key: str, request_hash: str) -> IdempotencyItem | None:
    """Claim the key; returns None when claimed, else the existing record."""
    pk, sk = key(tenant_id, scope, idem_key)
    item = IdempotencyItem(pk, sk, request_hash=request_hash, state="in_progress",
                           expires_at=int(time.time()) + TTL_SECONDS)
    try:
        item.save(condition=IdempotencyItem.PK.does_not_exist())
        return None
    except PutError:
        try:
            return IdempotencyItem.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            # Released between our put and get: claim again once.
            item.save(condition=IdempotencyItem.PK.does_not_exist())
            return None


def complete(tenant_id: str, scope: str, idem_key: str, status: int, body: str) -> None:
    pk, sk = key(tenant_id, scope, idem_key)
    IdempotencyItem(pk, sk).update(actions=[
        IdempotencyItem.state.set("completed"),
        IdempotencyItem.response_status.set(status),
        IdempotencyItem.response_body.set(body),
    ])


def release(tenant_id: str, scope: str, idem_key: str) -> None:
    pk, sk = key(tenant_id, scope, idem_key)
    try:
        IdempotencyItem(pk, sk).delete()
    except DeleteError:
        pass
