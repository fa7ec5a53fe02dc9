"""Sliding-window throttles for the public routes (no permanent lockout: a window forgets).

Login: 10 failures in 15 minutes per e-mail and per client IP (OWASP Authentication Cheat Sheet:
count per account, and per IP against spraying). Contact form: 5 messages an hour per client.
Counted in one-minute (login) or five-minute (contact) buckets; ``Retry-After`` is the time until
enough buckets have left the window.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from ledgerlou.errors import TooManyAttempts
from ledgerlou.store.people import throttle as store


def clock() -> float:
    """Now, in epoch seconds (one place, so tests can move time without patching the time module)."""
    return time.time()


@dataclass(frozen=True)
class Limit:
    kind: str
    limit: int
    window_s: int
    bucket_s: int


LOGIN_EMAIL = Limit("login-email", 10, 15 * 60, 60)
LOGIN_CLIENT = Limit("login-client", 10, 15 * 60, 60)
CONTACT_CLIENT = Limit("contact-client", 5, 60 * 60, 300)
FORGOT_EMAIL = Limit("forgot-email", 3, 15 * 60, 60)  # reset mails per address (silently capped)
FORGOT_CLIENT = Limit("forgot-client", 20, 15 * 60, 60)  # reset requests per client (silently capped)


def _starts(limit: Limit, now: float) -> list[int]:
    """The buckets that count now: each counts for the window from its start, so an event is
    remembered between window - bucket and window seconds (14-15 minutes for login), never longer."""
    first = int(now) - limit.window_s + 1
    first += -first % limit.bucket_s
    return list(range(first, int(now) + 1, limit.bucket_s))


def _wait(limit: Limit, live: list[tuple[int, int]], now: float) -> int | None:
    total = sum(count for _, count in live)
    if total < limit.limit:
        return None
    for start, count in live:  # oldest first: when it leaves the window the total drops by its count
        total -= count
        if total < limit.limit:
            return max(1, math.ceil(start + limit.window_s - now))
    return limit.window_s


def retry_after_all(checks: list[tuple[Limit, str]], now: float | None = None) -> int | None:
    """Seconds until one more event is allowed under every (limit, subject), or None if it is now."""
    now = clock() if now is None else now
    found = store.bucket_counts([(limit.kind, subject, _starts(limit, now)) for limit, subject in checks])
    return _max_wait(checks, found, now)


def _max_wait(checks: list[tuple[Limit, str]], found: dict[tuple[str, str], list[tuple[int, int]]],
              now: float) -> int | None:
    waits = [_wait(limit, found[(limit.kind, subject)], now) for limit, subject in checks]
    return max((w for w in waits if w is not None), default=None)


def check_and_read(checks: list[tuple[Limit, str]], message: str, keys: list[tuple[str, str]]
                   ) -> dict[tuple[str, str], dict[str, Any]]:
    """``check``, reading the raw items at ``keys`` in the same round trip (login: the e-mail pointer)."""
    now = clock()
    found, items = store.bucket_counts_and_items(
        [(limit.kind, subject, _starts(limit, now)) for limit, subject in checks], keys)
    wait = _max_wait(checks, found, now)
    if wait is not None:
        raise TooManyAttempts(message, retry_after=wait)
    return items


def retry_after(limit: Limit, subject: str, now: float | None = None) -> int | None:
    return retry_after_all([(limit, subject)], now)


def check(limit: Limit, subject: str, message: str, *more: tuple[Limit, str]) -> None:
    wait = retry_after_all([(limit, subject), *more])
    if wait is not None:
        raise TooManyAttempts(message, retry_after=wait)


def record(limit: Limit, subject: str, now: float | None = None) -> None:
    now = clock() if now is None else now
    start = int(now) - int(now) % limit.bucket_s
    store.add(limit.kind, subject, start, start + limit.bucket_s + limit.window_s)
