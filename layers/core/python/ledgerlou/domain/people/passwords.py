"""Password hashing: argon2id with the OWASP profile (m=19 MiB, t=2, p=1).

argon2-cffi's defaults (RFC 9106 low-memory: 64 MiB, t=3, p=4) cost ~210 ms per verify on our
hardware against ~26 ms for this profile, which OWASP's Password Storage Cheat Sheet lists as its
first choice (../shared/research/inbox-auth-anchors.md D). A hash made with other parameters is
replaced at the next successful login (``needs_rehash``).
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256  # a bound on the work one request can ask for; argon2 itself takes any length
TIME_COST, MEMORY_COST_KIB, PARALLELISM = 2, 19 * 1024, 1

HASHER = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM,
                        hash_len=32, salt_len=16, type=Type.ID)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of nothing anyone knows, with the current parameters: login verifies against it when the
    e-mail is unknown, so both answers cost one argon2 verify (no user enumeration by timing)."""
    import secrets

    return HASHER.hash(secrets.token_urlsafe(24))
