"""The candidate index of the match suggestions: open items filed under the keys a bank transaction
can be looked up by (domain/reconciliation/suggestions.py ``index_keys``).

    PK=T#<t>#RECIDX#<side>   SK=<key>   c: string set of cards (an open item's JSON card)
                                        full: set once the key would hold more than saturated_at(key)

Keys: ``A#<cents>`` remaining amount, ``S#<cents>`` Skonto-net amount of an invoice's own rate,
``R#F#<token>`` the invoice number (compact / digits only), ``R#S#<serial>``, ``P#<partner id>``.

Written by the receivables projector only, in journal order, with UpdateItem ADD / DELETE of set
elements (both idempotent, so a replayed block changes nothing). Read with BatchGetItem by key —
never a Query, never a scan: a request's cost follows its transactions' keys, not the number of
open items. A key that would hold more cards than it may (an amount half the customers
pay every month, a partner with many open invoices: ``saturated_at``) is marked ``full`` and its
cards are dropped: it cannot single out a candidate, so readers skip it, its item stays small (a
read costs the same however many open items there are) and far below DynamoDB's 400 KB. Full is
final — a key that once singled out nothing is not trusted again when it shrinks (its set would be
incomplete: cards added while it was full were never filed).
"""

from __future__ import annotations

from typing import Any

from ledgerlou import config
from ledgerlou.store.base import ddb, tenant_pk, transact_each

# Cards a key may hold before it stops being selective. A partner key (P#) finds a partial payment
# without a reference among the partner's open items: useful while a partner has a few of them; beyond
# 25 the payer must name the invoice or pay an amount that fits (A#). Amount and reference keys hold
# one or two cards normally; 100 of one amount (a subscription price) single out nothing either.
SATURATED_AT = {"P#": 25}
DEFAULT_SATURATED_AT = 100


def saturated_at(key: str) -> int:
    return SATURATED_AT.get(key[:2], DEFAULT_SATURATED_AT)


def index_pk(tenant_id: str, side: str) -> str:
    return tenant_pk(tenant_id, f"RECIDX#{side}")


def apply(tenant_id: str, side: str, adds: dict[str, set[str]], removes: dict[str, set[str]]) -> None:
    """Remove and add cards (key → cards). Removals first: a card that changed (a partial payment)
    leaves its old string before the new one arrives, so a full key frees its room first.

    Batched: the updates go in TransactWriteItems of up to 100 (one round trip for a block that moves
    a hundred invoices' cards, where one UpdateItem per key cost ~4 per invoice). A transaction is
    all or nothing, so an update whose condition fails (a removal from a key never filed, an add to a
    key that is or becomes full) cancels its chunk: the cancellation reasons name those updates, they
    get their fallback (nothing / mark the key full) and the rest of the chunk is sent again. Two
    updates of one key never share a transaction (removals and adds go in separate rounds, and each
    round has one update per key)."""
    pk = index_pk(tenant_id, side)
    removals = {key: _remove(pk, key, cards) for key, cards in sorted(removes.items()) if cards}
    transact_each(removals, lambda key: None)
    additions = {key: _add(pk, key, cards) for key, cards in sorted(adds.items()) if cards}
    transact_each(additions, lambda key: _mark_full(pk, key))


def _key(pk: str, key: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": key}}


def _remove(pk: str, key: str, cards: set[str]) -> dict[str, Any]:
    return {"Update": {"TableName": config.table_name(), "Key": _key(pk, key), "UpdateExpression": "DELETE c :c",
                       "ConditionExpression": "attribute_exists(PK)",  # never filed: a key full when it came
                       "ExpressionAttributeValues": {":c": {"SS": sorted(cards)}}}}


def _add(pk: str, key: str, cards: set[str]) -> dict[str, Any]:
    return {"Update": {
        "TableName": config.table_name(), "Key": _key(pk, key), "UpdateExpression": "ADD c :c",
        "ConditionExpression": "attribute_not_exists(#f) AND (attribute_not_exists(c) OR size(c) < :cap)",
        "ExpressionAttributeNames": {"#f": "full"},
        "ExpressionAttributeValues": {":c": {"SS": sorted(cards)},
                                      ":cap": {"N": str(saturated_at(key) - len(cards) + 1)}}}}


def _mark_full(pk: str, key: str) -> dict[str, Any]:
    return {"Update": {"TableName": config.table_name(), "Key": _key(pk, key),
                       "UpdateExpression": "SET #f = :t REMOVE c", "ExpressionAttributeNames": {"#f": "full"},
                       "ExpressionAttributeValues": {":t": {"BOOL": True}}}}


def get(tenant_id: str, side: str, keys: list[str]) -> dict[str, list[str] | None]:
    """key → its cards (None for a saturated key; absent keys are left out). BatchGetItem, 100 keys
    per call."""
    pk = index_pk(tenant_id, side)
    table = config.table_name()
    out: dict[str, list[str] | None] = {}
    wanted = list(dict.fromkeys(keys))
    for i in range(0, len(wanted), 100):
        request: dict[str, Any] = {table: {"Keys": [{"PK": {"S": pk}, "SK": {"S": k}} for k in wanted[i:i + 100]],
                                           "ConsistentRead": True}}
        for _ in range(20):
            resp = ddb().batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(table, []):
                full = item.get("full", {}).get("BOOL", False)
                out[item["SK"]["S"]] = None if full else list(item.get("c", {}).get("SS", []))
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise RuntimeError("BatchGetItem left keys unprocessed twenty times")
    return out
