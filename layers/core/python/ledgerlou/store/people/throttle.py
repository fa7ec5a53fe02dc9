"""Throttle counters for the public routes: PK=THROTTLE#<kind>#<sha256(subject)> SK=<bucket start>.

A subject is an e-mail address or a client IP (hashed: neither needs to be readable here). Each
bucket counts the events of ``bucket_seconds`` by an atomic ADD; a check reads the buckets of the
window of every subject it asks about with one BatchGetItem (login asks about two subjects: one call
on the login's hot path, not two Queries). ``expires_at`` (TTL) lets the table forget a bucket after its window; the
sum ignores older buckets, so a late TTL deletion changes nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pynamodb.attributes import NumberAttribute

from ledgerlou import config
from ledgerlou.store.base import TableModel, ddb


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


def bucket_counts(wanted: list[tuple[str, str, list[int]]]) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """For each (kind, subject, bucket starts): the (start, count) of the buckets that exist, oldest first."""
    return bucket_counts_and_items(wanted, [])[0]


def bucket_counts_and_items(wanted: list[tuple[str, str, list[int]]], extra: list[tuple[str, str]]
                            ) -> tuple[dict[tuple[str, str], list[tuple[int, int]]],
                                       dict[tuple[str, str], dict[str, Any]]]:
    """``bucket_counts``, and in the same BatchGetItem the raw items of ``extra`` keys (PK, SK) of
    other modules that exist: login reads the e-mail pointer with its throttles, one round trip."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    keys: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, subject, starts in wanted:
        for start in starts:
            keys[(pk(kind, subject), _sk(start))] = (kind, subject)
    out: dict[tuple[str, str], list[tuple[int, int]]] = {(k, s): [] for k, s, _ in wanted}
    others = {key for key in extra if key not in keys}
    pending = [{"PK": {"S": p}, "SK": {"S": s}} for p, s in [*keys, *others]]
    table = config.table_name()
    while pending:
        chunk, pending = pending[:100], pending[100:]
        request: dict[str, Any] = {table: {"Keys": chunk}}
        while request:
            answer = ddb().batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(table, []):
                key = (item["PK"]["S"], item["SK"]["S"])
                if key in others:
                    found[key] = item
                    continue
                out[keys[key]].append((int(key[1]), int(item.get("hits", {}).get("N", "0"))))
            request = answer.get("UnprocessedKeys") or {}
    return {k: sorted(v) for k, v in out.items()}, found
