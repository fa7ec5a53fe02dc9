"""Users: invited by an admin, with scopes as API keys have them; deactivated, never deleted (who
booked what must stay readable)."""

from __future__ import annotations

import uuid

from ledgerlou.domain.admin.api_keys import validate_scopes
from ledgerlou.domain.caller import Caller
from ledgerlou.domain.people import mail, passwords, tokens
from ledgerlou.errors import (
    AlreadyDeactivated,
    EmailTaken,
    Forbidden,
    InvalidToken,
    MailUnavailable,
    NotFound,
    NotInvited,
)
from ledgerlou.store.base import now_iso
from ledgerlou.store.people import tokens as token_store
from ledgerlou.store.people import users as store
from ledgerlou.store.people.users import ACTIVE, DEACTIVATED, UserItem


def to_dict(item: UserItem) -> dict[str, object]:
    return {"id": item.user_id, "email": item.email, "name": item.name, "scopes": list(item.scopes or []),
            "status": item.status, "created_at": item.created_at, "created_by": item.created_by,
            "deactivated_at": item.deactivated_at}


def public_dict(item: UserItem) -> dict[str, object]:
    """What login tells the user about themself."""
    return {"id": item.user_id, "email": item.email, "name": item.name, "scopes": list(item.scopes or [])}


def invite(ctx: Caller, email: str, name: str, scopes: list[str]) -> UserItem:
    requested = validate_scopes(scopes)
    # A user cannot be given more than the inviting actor has (as with API keys).
    if "admin" not in ctx.scopes:
        excess = [s for s in requested if s not in ctx.scopes]
        if excess:
            raise Forbidden(f"Cannot grant scopes the caller does not hold: {', '.join(excess)}.")
    item = UserItem(user_id=str(uuid.uuid4()), tenant_id=ctx.tenant_id, email=store.normalize_email(email),
                    name=name, scopes=requested, status=store.INVITED, session_epoch=0, created_at=now_iso(),
                    created_by=ctx.actor_id)
    try:
        store.put_new(item)
    except store.EmailTaken:
        raise EmailTaken("A user with this e-mail exists already.") from None
    token = tokens.issue(item, token_store.INVITE)
    try:
        mail.send(mail.invitation(item.email, item.name, token, ctx.actor_label or "Ein Administrator"))
    except MailUnavailable:
        # No invitation went out: the user is deactivated again (its token dies with it), so the
        # address can be invited once the mail service is back. The record stays: users are never deleted.
        store.deactivate(item, now_iso())
        raise
    return item


def resend_invitation(ctx: Caller, user_id: str) -> UserItem:
    """A new invitation mail for a user who has not set a password yet (the first one expired or got
    lost); the earlier setup tokens die with it."""
    from pynamodb.exceptions import UpdateError

    item = store.get(ctx.tenant_id, user_id)
    if item is None:
        raise NotFound("User not found.")
    try:
        store.renew_invitation(item)
    except UpdateError:
        raise NotInvited("Only a user who has not accepted the invitation yet can be invited again.") from None
    item = store.get(ctx.tenant_id, user_id) or item
    mail.send(mail.invitation(item.email, item.name, tokens.issue(item, token_store.INVITE),
                              ctx.actor_label or "Ein Administrator"))
    return item


def list_users(tenant_id: str) -> list[UserItem]:
    return sorted(store.list_for_tenant(tenant_id), key=lambda u: u.created_at)


def deactivate(ctx: Caller, user_id: str) -> UserItem:
    """Ends every session and outstanding token of the user at once (the epoch moves on)."""
    item = store.get(ctx.tenant_id, user_id)
    if item is None:
        raise NotFound("User not found.")
    if item.status == DEACTIVATED:
        raise AlreadyDeactivated("The user is deactivated already.")
    now = now_iso()
    from pynamodb.exceptions import UpdateError

    try:
        store.deactivate(item, now)
    except UpdateError:  # another request deactivated the user in between
        raise AlreadyDeactivated("The user is deactivated already.") from None
    item.status, item.deactivated_at = DEACTIVATED, now
    return item


def set_password(token: str, password: str) -> UserItem:
    """Invitation or reset: the token is used up, the password stored as argon2id, and every session
    of the user ends. No login follows (OWASP Forgot Password Cheat Sheet)."""
    user = tokens.redeem(token)
    from pynamodb.exceptions import UpdateError

    try:
        store.set_password(user, passwords.hash_password(password), now_iso())
    except UpdateError:  # deactivated between the token check and now
        raise InvalidToken("The token is no longer valid.") from None
    return user


def request_reset(email: str, client_ip: str) -> None:
    """Forgot password: a reset mail for a known active user, at most 3 per address and 20 requests
    per client in 15 minutes (no mail bombing of one address, no spraying of many); the caller
    answers the same whatever happened here, so the caps are silent (no lockout either: OWASP)."""
    from ledgerlou.domain.people import throttling

    subject = store.normalize_email(email)
    caps = [(throttling.FORGOT_EMAIL, subject), (throttling.FORGOT_CLIENT, client_ip)]
    if throttling.retry_after_all(caps) is not None:
        return
    for limit, who in caps:
        throttling.record(limit, who)
    pointer = store.find_by_email(subject)
    user = store.get(pointer.tenant_id, pointer.user_id) if pointer else None
    if user is None or user.status != ACTIVE:
        return
    try:
        mail.send(mail.password_reset(user.email, user.name, tokens.issue(user, token_store.RESET)))
    except MailUnavailable:
        pass  # logged by mail.send; the answer must not differ from an unknown address's


def active_admin_user_count(tenant_id: str) -> int:
    """Active users with the ``admin`` scope (for the "last admin" rule of API-key revocation)."""
    return store.active_admin_user_count(tenant_id)
