"""Login sessions: an opaque ``ls_`` + 256-bit token from the CSPRNG, only its SHA-256 stored, 12 h.

A fast hash is right for the token (it has high entropy, nothing to brute-force) and keeps the
authorizer as fast as with an API key. A session is dead when it is past ``expires_at`` (checked here,
as DynamoDB's TTL deletes late), ended by logout, or the user's epoch moved on (deactivation, new
password). The user is the actor: ``actor_id`` = ``user:<id>`` for provenance and four-eyes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import UTC, datetime

from ledgerlou.domain.caller import Caller
from ledgerlou.errors import InvalidCredentials, NotASession
from ledgerlou.observability import logger
from ledgerlou.store.admin import tenants as tenant_store
from ledgerlou.store.base import now_iso
from ledgerlou.store.people import sessions as store
from ledgerlou.store.people import users as user_store

TOKEN_PREFIX = "ls_"  # noqa: S105 - a prefix, not a secret
LIFETIME_S = 12 * 3600
_WELL_FORMED = re.compile(r"ls_[A-Za-z0-9_-]{43}")


def clock() -> float:
    """Now, in epoch seconds (one place, so tests can move time without patching the time module)."""
    return time.time()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)  # 32 bytes → 43 characters


def is_session_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def login(email: str, password: str, client_ip: str) -> tuple[str, str, user_store.UserItem]:
    """(token, expires_at, user). Wrong password and unknown e-mail: the same INVALID_CREDENTIALS after
    the same work (one argon2 verify, against a dummy hash if need be). 10 failures in 15 minutes per
    e-mail or per client → TOO_MANY_ATTEMPTS, until the window has moved on."""
    # Here, not at the top: the authorizer imports this module on every cold start and needs neither
    from ledgerlou.domain.people import passwords, throttling

    subject = user_store.normalize_email(email)
    message = "Too many failed logins; try again later."
    pointer_key = user_store.email_key(subject)
    # the throttles and the e-mail pointer in one round trip: login's cost is the argon2 verify
    found = throttling.check_and_read([(throttling.LOGIN_EMAIL, subject), (throttling.LOGIN_CLIENT, client_ip)],
                                      message, [pointer_key])
    pointer = user_store.pointer_from_raw(found.get(pointer_key))
    user = user_store.get(pointer.tenant_id, pointer.user_id) if pointer else None
    usable = user is not None and user.status == user_store.ACTIVE and bool(user.password_hash)
    stored = str(user.password_hash) if usable and user is not None else passwords.dummy_hash()
    ok = passwords.verify(stored, password) and usable  # verify first: both paths do the same work
    if not ok or user is None:
        throttling.record(throttling.LOGIN_EMAIL, subject)
        throttling.record(throttling.LOGIN_CLIENT, client_ip)
        # who failed is not logged by address (the e-mail is personal data and may be a mistyped password)
        logger.info("login failed", extra={"known_user": user is not None})
        raise InvalidCredentials("The e-mail or the password is wrong.")
    if passwords.needs_rehash(str(user.password_hash)):
        try:
            user_store.rehash(user, passwords.hash_password(password))
        except Exception:  # noqa: BLE001 - the old hash still verifies; the next login tries again
            logger.warning("could not re-hash a password", extra={"user_id": user.user_id})
    token = generate_token()
    expires = clock() + LIFETIME_S
    store.put_new(hash_token(token), user.tenant_id, user.user_id, int(user.session_epoch or 0), now_iso(),
                  int(expires))
    # A reference to the session, never the token (OWASP Session Management: log a hash of the id)
    logger.info("login", extra={"tenant_id": user.tenant_id, "user_id": user.user_id,
                                "session_ref": session_ref(token)})
    return token, _iso(int(expires)), user


def session_ref(token: str) -> str:
    """For logs: a hash of the stored hash, so a log line cannot be turned into the session's key."""
    return hashlib.sha256(("log:" + hash_token(token)).encode("utf-8")).hexdigest()[:16]


def logout(token: str) -> None:
    if not is_session_token(token):
        raise NotASession.field("Authorization", "logout ends a session; API keys are revoked with "
                                "DELETE /v1/api-keys/{key_id}")
    item = store.get(hash_token(token))
    if item is not None and not item.ended_at:
        store.end(item, now_iso())
        logger.info("logout", extra={"user_id": item.user_id, "session_ref": session_ref(token)})


def authenticate(token: str) -> Caller | None:
    """Session token → caller, or None (the authorizer's other half beside ``api_keys.authenticate``)."""
    if not _WELL_FORMED.fullmatch(token):
        return None
    # Found by its hash as the key: no secret is compared in code (DynamoDB matches the key).
    item = store.get(hash_token(token))
    if item is None:
        return None
    if item.ended_at or clock() >= int(item.expires_at):
        return None
    user = user_store.get(item.tenant_id, item.user_id)
    if user is None or user.status != user_store.ACTIVE or int(user.session_epoch or 0) != int(item.epoch):
        return None
    tenant = tenant_store.get(item.tenant_id)
    if tenant is None:
        return None
    return Caller(tenant_id=user.tenant_id, actor_id=f"user:{user.user_id}", actor_type="user",
                  actor_label=user.name or user.email, key_prefix=None,
                  scopes=frozenset(str(s) for s in user.scopes or []), chart=tenant.chart,
                  base_currency=tenant.base_currency)
