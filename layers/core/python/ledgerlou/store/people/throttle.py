"""Throttle counters for the public routes: PK=THROTTLE#<kind>#<sha256(subject)> SK=<bucket start>.

A subject is an e-mail address or a client IP (hashed: neither needs to be readable here). Each
bucket counts the events of ``bucket_seconds`` by an atomic ADD; a check sums the buckets of the
window with one Query. ``expires_at`` (TTL) lets the table forget a bucket after its window; the
sum ignores older buckets, so a late TTL deletion changes nothing.
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import NumberAttribute

from ledgerlou.store.base import TableModel


class ThrottleItem(TableModel):
    hits = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute


def pk(kind: str, subject: str) -> str:
    return f"THROTTLE#{kind}#{hashlib.sha256(subject.encode('utf-8')).hexdigest()}"


def _sk(bucket_start: int) -> str:
    return f"{bucket_start:012d}"


def add(kind: str, subject: str, bucket_start: int, expires_at: int) -> None:
    ThrottleItem(pk(kind, subject), _sk(bucket_start)).update(
        actions=[ThrottleItem.hits.add(1), ThrottleItem.expires_at.set(expires_at)])


def buckets(kind: str, subject: str, since: int) -> list[tuple[int, int]]:
    """(bucket start, count) of the buckets starting at or after ``since``, oldest first."""
    found = ThrottleItem.query(pk(kind, subject), ThrottleItem.SK.between(_sk(since), _sk(10**12 - 1)))
    return [(int(i.SK), int(i.hits)) for i in found]
