"""What a bank transaction is matched to, and which intents bank transactions have claimed.

Three item types, every key starting with the tenant:

    PK=T#<t>#BANKMATCH#<tx id>     SK=M   the transaction's match record (one per transaction)
    PK=T#<t>#BANKLINK#<intent id>  SK=L   an intent claimed by bank transactions (O(1) ``is_linked``)
    PK=T#<t>#BANKGROUP#<group id>  SK=G   a match group (several transactions, one intent)

A match record's ``state``: ``none`` (unmatched; also after an unmatch), ``claimed`` (a settlement is
being booked), ``matched``, ``unmatching`` (its Storno is being booked), ``dismissed``; ``version``
counts its claims, and the settlement intent of claim v has the id ``settlement_intent_id(tx, v)``.
The writes of a status change go into the page's TransactWriteItems (``store/bank/pages.py``
``change_statuses``) as operations with their own conditions: ``claim_op`` is conditional on the
record being unmatched at the version read, so of two requests racing for one transaction exactly one
commits and the other is refused as a whole (its page and counter untouched).

Read API for the suggestions (stable): ``is_linked``, ``linked_among``, ``get_match``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ledgerlou import config
from ledgerlou.store.base import ddb, now_iso, tenant_pk

STATES = ("none", "claimed", "matched", "unmatching", "dismissed")
MODES = ("settlement", "link", "group", "dismissed")
_NAMESPACE = uuid.UUID("6f1d3c52-8a0e-4b7f-9d21-5c3e7a9b0f48")


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def match_key(tenant_id: str, tx_id: str) -> dict[str, Any]:
    return {"PK": _s(tenant_pk(tenant_id, f"BANKMATCH#{tx_id}")), "SK": _s("M")}


def link_key(tenant_id: str, intent_id: str) -> dict[str, Any]:
    return {"PK": _s(tenant_pk(tenant_id, f"BANKLINK#{intent_id}")), "SK": _s("L")}


def group_key(tenant_id: str, group_id: str) -> dict[str, Any]:
    return {"PK": _s(tenant_pk(tenant_id, f"BANKGROUP#{group_id}")), "SK": _s("G")}


def settlement_intent_id(tenant_id: str, tx_id: str, version: int) -> str:
    """The id of the settlement intent that claim ``version`` of a transaction books.

    Derived, not random: the claim records it before the booking is appended, so after a crash
    between the two anyone can look the intent up in the journal and tell "booked" (finish the match)
    from "never booked" (release the claim) — a retry never books a second settlement."""
    return str(uuid.uuid5(_NAMESPACE, f"{tenant_id}/{tx_id}/{version}"))


def group_intent_id(tenant_id: str, group_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{tenant_id}/group/{group_id}"))


# ------------------------------------------------------------------------------------- records
@dataclass
class Match:
    """A transaction's match record."""

    tx_id: str
    bank_account_id: str
    version: int = 0
    state: str = "none"
    mode: str | None = None
    intent_id: str | None = None  # settlement: the intent booked; link: the booking linked; group: the group's
    candidate_kind: str | None = None
    open_item_account: str | None = None
    target_intent_id: str | None = None  # the open item's (invoice's) intent of a settlement
    group_id: str | None = None
    reversal_intent_id: str | None = None  # the Storno of the last settlement unmatched
    updated_at: str = ""
    exists: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.state == "none"


def _item(tenant_id: str, m: Match) -> dict[str, Any]:
    item: dict[str, Any] = {**match_key(tenant_id, m.tx_id), "tx_id": _s(m.tx_id),
                            "bank_account_id": _s(m.bank_account_id), "version": {"N": str(m.version)},
                            "state": _s(m.state), "updated_at": _s(m.updated_at or now_iso())}
    for name in ("mode", "intent_id", "candidate_kind", "open_item_account", "target_intent_id", "group_id",
                 "reversal_intent_id"):
        value = getattr(m, name)
        if value is not None:
            item[name] = _s(value)
    if m.extra:
        item["extra"] = _s(json.dumps(m.extra, separators=(",", ":")))
    return item


def _match(item: dict[str, Any]) -> Match:
    def s(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    return Match(tx_id=item["tx_id"]["S"], bank_account_id=item["bank_account_id"]["S"],
                 version=int(item["version"]["N"]), state=item["state"]["S"], mode=s("mode"),
                 intent_id=s("intent_id"), candidate_kind=s("candidate_kind"),
                 open_item_account=s("open_item_account"), target_intent_id=s("target_intent_id"),
                 group_id=s("group_id"), reversal_intent_id=s("reversal_intent_id"),
                 updated_at=item["updated_at"]["S"], extra=json.loads(s("extra") or "{}"))


def get_match(tenant_id: str, tx_id: str) -> Match | None:
    """The match record of a transaction (None: never matched, i.e. open)."""
    item = ddb().get_item(TableName=config.table_name(), Key=match_key(tenant_id, tx_id.lower()),
                          ConsistentRead=True).get("Item")
    return _match(item) if item else None


def get_matches(tenant_id: str, tx_ids: Iterable[str]) -> dict[str, Match]:
    """Match records of many transactions (BatchGetItem, 100 keys a call)."""
    ids = list(dict.fromkeys(t.lower() for t in tx_ids))
    out: dict[str, Match] = {}
    for item in _batch_get(tenant_id, [match_key(tenant_id, t) for t in ids]):
        m = _match(item)
        out[m.tx_id] = m
    return out


def _batch_get(tenant_id: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    table = config.table_name()
    out: list[dict[str, Any]] = []
    for i in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"Keys": keys[i : i + 100], "ConsistentRead": True}}
        while request:
            resp = ddb().batch_get_item(RequestItems=request)
            out.extend(resp.get("Responses", {}).get(table, []))
            request = resp.get("UnprocessedKeys") or {}
    return out


# ------------------------------------------------------------------------------------- the read API
def is_linked(tenant_id: str, intent_id: str) -> bool:
    """Whether bank transactions have claimed this intent: it is linked to one (``booking``), or it is
    a settlement or match-group intent reconciliation booked. O(1): one GetItem."""
    item = ddb().get_item(TableName=config.table_name(), Key=link_key(tenant_id, intent_id.lower()),
                          ConsistentRead=True, ProjectionExpression="PK").get("Item")
    return item is not None


def linked_among(tenant_id: str, intent_ids: Iterable[str]) -> set[str]:
    """Those of ``intent_ids`` that bank transactions have claimed (BatchGetItem; cost follows the
    candidates asked about, never the tenant's history)."""
    ids = list(dict.fromkeys(i.lower() for i in intent_ids))
    found = _batch_get(tenant_id, [link_key(tenant_id, i) for i in ids])
    return {item["intent_id"]["S"] for item in found}


def get_link(tenant_id: str, intent_id: str) -> dict[str, Any] | None:
    """The link item of an intent: {"intent_id", "tx_ids", "mode", "bank_account_id"}."""
    item = ddb().get_item(TableName=config.table_name(), Key=link_key(tenant_id, intent_id.lower()),
                          ConsistentRead=True).get("Item")
    if item is None:
        return None
    return {"intent_id": item["intent_id"]["S"], "tx_ids": item["tx_ids"]["SS"], "mode": item["mode"]["S"],
            "bank_account_id": item["bank_account_id"]["S"]}


# ------------------------------------------------------------------------------------- operations
def claim_op(tenant_id: str, before: Match, after: Match) -> dict[str, Any]:
    """Put the new record, conditional on the stored one being ``before`` (state and version): the
    one-winner guard of every transition."""
    table = config.table_name()
    if not before.exists:
        return {"Put": {"TableName": table, "Item": _item(tenant_id, after),
                        "ConditionExpression": "attribute_not_exists(PK)"}}
    return {"Put": {"TableName": table, "Item": _item(tenant_id, after),
                    "ConditionExpression": "#st = :st AND version = :v",
                    "ExpressionAttributeNames": {"#st": "state"},
                    "ExpressionAttributeValues": {":st": _s(before.state), ":v": {"N": str(before.version)}}}}


def transition(tenant_id: str, before: Match, after: Match) -> bool:
    """The same guard as a single write (a transition that changes no page status)."""
    op = claim_op(tenant_id, before, after)["Put"]
    try:
        ddb().put_item(**op)
        return True
    except ddb().exceptions.ConditionalCheckFailedException:
        return False


def put_many(tenant_id: str, records: list[Match]) -> None:
    """Write match records unconditionally (BatchWriteItem): only for records the caller itself has
    just claimed — nobody else writes a claimed record but recovery, and that only after the claim
    has been stale for minutes (domain/reconciliation/matching.STALE_CLAIM_S)."""
    table = config.table_name()
    for i in range(0, len(records), 25):
        request: dict[str, Any] = {table: [{"PutRequest": {"Item": _item(tenant_id, m)}} for m in records[i : i + 25]]}
        while request:
            request = ddb().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def link_op(tenant_id: str, intent_id: str, tx_ids: list[str], mode: str, bank_account_id: str) -> dict[str, Any]:
    """Claim an intent for bank transactions; refused if another transaction has it already."""
    return {"Put": {"TableName": config.table_name(), "ConditionExpression": "attribute_not_exists(PK)",
                    "Item": {**link_key(tenant_id, intent_id), "intent_id": _s(intent_id), "tx_ids": {"SS": tx_ids},
                             "mode": _s(mode), "bank_account_id": _s(bank_account_id),
                             "created_at": _s(now_iso())}}}


def unlink_op(tenant_id: str, intent_id: str) -> dict[str, Any]:
    """Release an intent (a projection of the match, not booked data: it may go)."""
    return {"Delete": {"TableName": config.table_name(), "Key": link_key(tenant_id, intent_id)}}


# ------------------------------------------------------------------------------------- groups
@dataclass
class Group:
    group_id: str
    bank_account_id: str
    tx_ids: list[str]
    intent_id: str
    state: str  # claimed | matched | unmatching | unmatched
    body: dict[str, Any]
    created_at: str
    reversal_intent_id: str | None = None


def _group_item(tenant_id: str, g: Group) -> dict[str, Any]:
    item = {**group_key(tenant_id, g.group_id), "group_id": _s(g.group_id), "bank_account_id": _s(g.bank_account_id),
            "tx_ids": _s(json.dumps(g.tx_ids)), "intent_id": _s(g.intent_id), "state": _s(g.state),
            "body": _s(json.dumps(g.body, separators=(",", ":"))), "created_at": _s(g.created_at),
            "updated_at": _s(now_iso())}
    if g.reversal_intent_id:
        item["reversal_intent_id"] = _s(g.reversal_intent_id)
    return item


def get_group(tenant_id: str, group_id: str) -> Group | None:
    item = ddb().get_item(TableName=config.table_name(), Key=group_key(tenant_id, group_id.lower()),
                          ConsistentRead=True).get("Item")
    if item is None:
        return None
    return Group(group_id=item["group_id"]["S"], bank_account_id=item["bank_account_id"]["S"],
                 tx_ids=json.loads(item["tx_ids"]["S"]), intent_id=item["intent_id"]["S"], state=item["state"]["S"],
                 body=json.loads(item["body"]["S"]), created_at=item["created_at"]["S"],
                 reversal_intent_id=item["reversal_intent_id"]["S"] if "reversal_intent_id" in item else None)


def group_op(tenant_id: str, group: Group, expected_state: str | None) -> dict[str, Any]:
    table = config.table_name()
    if expected_state is None:
        return {"Put": {"TableName": table, "Item": _group_item(tenant_id, group),
                        "ConditionExpression": "attribute_not_exists(PK)"}}
    return {"Put": {"TableName": table, "Item": _group_item(tenant_id, group),
                    "ConditionExpression": "#st = :st", "ExpressionAttributeNames": {"#st": "state"},
                    "ExpressionAttributeValues": {":st": _s(expected_state)}}}


def group_transition(tenant_id: str, group: Group, expected_state: str) -> bool:
    op = group_op(tenant_id, group, expected_state)["Put"]
    try:
        ddb().put_item(**op)
        return True
    except ddb().exceptions.ConditionalCheckFailedException:
        return False
