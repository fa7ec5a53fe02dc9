"""Setup and reset tokens: 256 random bits from the CSPRNG, sent by mail, stored only as SHA-256.

Single use; an invitation's token lives 24 h, a reset token 30 min (docs/api-contract.md). Both are
dead once the user's ``session_epoch`` moved on (a new password, a deactivation).
"""

from __future__ import annotations

import hashlib
import secrets
import time

from ledgerlou.errors import InvalidToken, TokenExpired
from ledgerlou.store.base import now_iso
from ledgerlou.store.people import tokens as store
from ledgerlou.store.people import users as user_store

LIFETIME_S = {store.INVITE: 24 * 3600, store.RESET: 30 * 60}


def clock() -> float:
    """Now, in epoch seconds (one place, so tests can move time without patching the time module)."""
    return time.time()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(user: user_store.UserItem, purpose: str) -> str:
    token = secrets.token_urlsafe(32)
    store.put_new(hash_token(token), user.tenant_id, user.user_id, purpose, int(user.session_epoch or 0),
                  now_iso(), int(clock()) + LIFETIME_S[purpose])
    return token


def redeem(token: str) -> user_store.UserItem:
    """The user the token was issued for; the token is used up. Raises INVALID_TOKEN / TOKEN_EXPIRED."""
    item = store.get(hash_token(token))
    if item is None or item.used_at:
        raise InvalidToken("The token is unknown or was used already.")
    if clock() >= int(item.expires_at):
        raise TokenExpired("The token has expired; ask for a new one.")
    user = user_store.get(item.tenant_id, item.user_id)
    if user is None or user.status == user_store.DEACTIVATED or int(user.session_epoch or 0) != int(item.epoch):
        raise InvalidToken("The token is no longer valid.")
    if not store.use(item, now_iso()):
        raise InvalidToken("The token is unknown or was used already.")
    return user
