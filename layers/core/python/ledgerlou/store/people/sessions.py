"""Login sessions: PK=SESSION#<sha256(token)> SK=SESSION → tenant, user id, epoch, expiry.

Only the hash of the token is stored (a leaked table gives no session). Like the API-key hash
pointer this key is not prefixed with a tenant: the token is how a request finds its tenant.
``expires_at`` (epoch seconds) is the table's TTL attribute, but DynamoDB deletes expired items only
within about 48 h and still returns them until then, so the expiry is checked in code
(docs/library-notes.md; ../shared/research/inbox-auth-anchors.md D).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.store.base import TableModel


class SessionItem(TableModel):
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    epoch = NumberAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute
    ended_at = UnicodeAttribute(null=True)


def key(token_hash: str) -> tuple[str, str]:
    return f"SESSION#{token_hash}", "SESSION"


def put_new(token_hash: str, tenant_id: str, user_id: str, epoch: int, created_at: str, expires_at: int) -> None:
    SessionItem(*key(token_hash), tenant_id=tenant_id, user_id=user_id, epoch=epoch, created_at=created_at,
                expires_at=expires_at).save(condition=SessionItem.PK.does_not_exist())


def get(token_hash: str) -> SessionItem | None:
    try:
        return SessionItem.get(*key(token_hash))
    except DoesNotExist:
        return None


def end(item: SessionItem, now: str) -> None:
    """Logout: the session is marked ended (one write; the authorizer refuses it from then on)."""
    item.update(actions=[SessionItem.ended_at.set(now)])
