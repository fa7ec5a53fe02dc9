"""Users of a tenant. Two items per user:

- the user record     PK=T#<tenant>#USER          SK=<user id>   (list / get / update within the tenant)
- the e-mail pointer  PK=USEREMAIL#<sha256(email)> SK=USEREMAIL  (login: e-mail → tenant, user id;
                                                                  and the uniqueness of an e-mail)

Login names no tenant, so an e-mail belongs to one user across all tenants; like the API-key hash
pointer, the pointer is how a request without a tenant finds one. It holds no secret and no rights
(the hash keeps the address itself out of the key); the user record decides everything.

``session_epoch`` ends sessions and outstanding setup/reset tokens at once: both carry the epoch they
were issued under, and a deactivation or a new password increments it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from ledgerlou.store.base import TableModel, tenant_pk

INVITED, ACTIVE, DEACTIVATED = "invited", "active", "deactivated"


class UserItem(TableModel):
    user_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    scopes = ListAttribute(of=UnicodeAttribute)
    status = UnicodeAttribute()
    password_hash = UnicodeAttribute(null=True)
    session_epoch = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)
    password_set_at = UnicodeAttribute(null=True)
    deactivated_at = UnicodeAttribute(null=True)


class UserEmailItem(TableModel):
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()


class EmailTaken(Exception):
    """The e-mail belongs to a user who is not deactivated."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_key(email: str) -> tuple[str, str]:
    digest = hashlib.sha256(normalize_email(email).encode("utf-8")).hexdigest()
    return f"USEREMAIL#{digest}", "USEREMAIL"


def _pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "USER")


def put_new(item: UserItem) -> None:
    """Claim the e-mail, then write the user. A pointer to a deactivated user may be taken over (the
    address can be invited again); any other existing pointer raises ``EmailTaken``."""
    item.PK, item.SK = _pk(item.tenant_id), item.user_id
    pk, sk = email_key(item.email)
    pointer = UserEmailItem(pk, sk, tenant_id=item.tenant_id, user_id=item.user_id)
    try:
        pointer.save(condition=UserEmailItem.PK.does_not_exist())
    except PutError as exc:
        if not _conditional(exc):
            raise
        old = find_by_email(item.email)
        holder = get(old.tenant_id, old.user_id) if old else None
        if old is None or (holder is not None and holder.status != DEACTIVATED):
            raise EmailTaken from None
        try:  # only if nobody else took it over meanwhile
            pointer.save(condition=(UserEmailItem.tenant_id == old.tenant_id) & (UserEmailItem.user_id == old.user_id))
        except PutError as again:
            if _conditional(again):
                raise EmailTaken from None
            raise
    item.save(condition=UserItem.PK.does_not_exist())


def _conditional(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def get(tenant_id: str, user_id: str) -> UserItem | None:
    try:
        return UserItem.get(_pk(tenant_id), user_id)
    except DoesNotExist:
        return None


def find_by_email(email: str) -> UserEmailItem | None:
    try:
        return UserEmailItem.get(*email_key(email))
    except DoesNotExist:
        return None


def pointer_from_raw(raw: dict[str, Any] | None) -> UserEmailItem | None:
    """The e-mail pointer from a raw item read elsewhere (login reads it with its throttle counters)."""
    return UserEmailItem.from_raw_data(raw) if raw else None


def list_for_tenant(tenant_id: str) -> list[UserItem]:
    return list(UserItem.query(_pk(tenant_id)))


def active_admin_user_count(tenant_id: str) -> int:
    """Active users holding ``admin``: the "last admin" rule of API-key revocation counts them too."""
    return sum(1 for u in list_for_tenant(tenant_id) if u.status == ACTIVE and "admin" in (u.scopes or []))


def set_password(item: UserItem, password_hash: str, now: str) -> None:
    """New password: the user becomes active and every session and outstanding token ends (epoch + 1).
    Refused if the user was deactivated meanwhile."""
    item.update(actions=[UserItem.password_hash.set(password_hash), UserItem.status.set(ACTIVE),
                         UserItem.password_set_at.set(now), UserItem.session_epoch.add(1)],
                condition=UserItem.status != DEACTIVATED)


def rehash(item: UserItem, password_hash: str) -> None:
    """Same password under new hash parameters: sessions stay (nothing about the credential changed)."""
    item.update(actions=[UserItem.password_hash.set(password_hash)])


def deactivate(item: UserItem, now: str) -> None:
    item.update(actions=[UserItem.status.set(DEACTIVATED), UserItem.deactivated_at.set(now),
                         UserItem.session_epoch.add(1)],
                condition=UserItem.status != DEACTIVATED)


def renew_invitation(item: UserItem) -> None:
    """A new invitation: the epoch moves on (earlier setup tokens die); only while still invited."""
    item.update(actions=[UserItem.session_epoch.add(1)], condition=UserItem.status == INVITED)
