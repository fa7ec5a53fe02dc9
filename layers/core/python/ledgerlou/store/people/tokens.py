"""Setup and reset tokens (invitation e-mail, forgot password):
PK=PWTOKEN#<sha256(token)> SK=PWTOKEN → tenant, user id, purpose, epoch, expiry, used_at.

Only the hash is stored. Single use by a conditional write of ``used_at``; expiry checked in code
(``expires_at`` is also the TTL attribute, so the table forgets them within days).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from ledgerlou.store.base import TableModel

INVITE, RESET = "invite", "reset"


class PasswordTokenItem(TableModel):
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    purpose = UnicodeAttribute()
    epoch = NumberAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute
    used_at = UnicodeAttribute(null=True)


def key(token_hash: str) -> tuple[str, str]:
    return f"PWTOKEN#{token_hash}", "PWTOKEN"


def put_new(token_hash: str, tenant_id: str, user_id: str, purpose: str, epoch: int, created_at: str,
            expires_at: int) -> None:
    PasswordTokenItem(*key(token_hash), tenant_id=tenant_id, user_id=user_id, purpose=purpose, epoch=epoch,
                      created_at=created_at, expires_at=expires_at).save(
        condition=PasswordTokenItem.PK.does_not_exist())


def get(token_hash: str) -> PasswordTokenItem | None:
    try:
        return PasswordTokenItem.get(*key(token_hash))
    except DoesNotExist:
        return None


def use(item: PasswordTokenItem, now: str) -> bool:
    """Mark the token used; False if another request used it first (single use under races)."""
    try:
        item.update(actions=[PasswordTokenItem.used_at.set(now)],
                    condition=PasswordTokenItem.used_at.does_not_exist())
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True
