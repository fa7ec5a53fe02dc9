"""The ledger side of reconciliation: per bank ledger account its balance and its unmatched entries.

    PK=T#<t>#RECONLEDGER#<account>  SK=BAL                     base (Σ debit − credit, base currency),
                                                               fx_<CUR> (the same in a booked foreign currency),
                                                               seq (the journal block applied last)
    PK=T#<t>#RECONLEDGER#<account>  SK=E#<date>#<intent id>   an intent's posting on the account that no
                                                               bank transaction is matched to

The projector keeps both from the journal's blocks (domain/reconciliation/ledger.py); the balance with
ADD guarded by ``seq`` (a replay adds nothing), the entries with idempotent puts. An entry leaves the
partition when a transaction is linked to it, or when its intent is reversed, so the reconciliation
view reads what is open — never the account's history.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from ledgerlou import config
from ledgerlou.store.base import ddb, tenant_pk


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def pk(tenant_id: str, account: str) -> str:
    return tenant_pk(tenant_id, f"RECONLEDGER#{account}")


def entry_key(tenant_id: str, account: str, booking_date: str, intent_id: str) -> dict[str, Any]:
    return {"PK": _s(pk(tenant_id, account)), "SK": _s(f"E#{booking_date}#{intent_id}")}


def _fx_name(currency: str) -> str:
    return f"fx_{currency}"


# ------------------------------------------------------------------------------------- balance
def add_balance(tenant_id: str, account: str, base: Decimal, fx: dict[str, Decimal], seq: int) -> None:
    """Add one block's postings to the account's balance, once (``seq`` guard)."""
    names = {"#seq": "seq", "#base": "base"}
    values: dict[str, Any] = {":seq": {"N": str(seq)}, ":base": {"N": str(base)}}
    adds = ["#base :base"]
    for i, (currency, amount) in enumerate(sorted(fx.items())):
        names[f"#f{i}"] = _fx_name(currency)
        values[f":f{i}"] = {"N": str(amount)}
        adds.append(f"#f{i} :f{i}")
    try:
        ddb().update_item(TableName=config.table_name(), Key={"PK": _s(pk(tenant_id, account)), "SK": _s("BAL")},
                          UpdateExpression="SET #seq = :seq ADD " + ", ".join(adds),
                          ConditionExpression="attribute_not_exists(#seq) OR #seq < :seq",
                          ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    except ddb().exceptions.ConditionalCheckFailedException:
        pass  # a replay of a block already added


def get_balance(tenant_id: str, account: str) -> tuple[Decimal, dict[str, Decimal], int]:
    """(base, {currency: amount}, seq of the last block in it)."""
    item = ddb().get_item(TableName=config.table_name(), Key={"PK": _s(pk(tenant_id, account)), "SK": _s("BAL")},
                          ConsistentRead=True).get("Item")
    if item is None:
        return Decimal(0), {}, 0
    fx = {name[3:]: Decimal(v["N"]) for name, v in item.items() if name.startswith("fx_")}
    return Decimal(item["base"]["N"]), fx, int(item["seq"]["N"])


# ------------------------------------------------------------------------------------- unmatched entries
def entry_item(tenant_id: str, account: str, entry: dict[str, Any]) -> dict[str, Any]:
    """``entry``: {intent_id, booking_date, description, external_reference, base, fx: {currency: amount}}."""
    return {**entry_key(tenant_id, account, entry["booking_date"], entry["intent_id"]),
            "intent_id": _s(entry["intent_id"]), "data": _s(json.dumps(entry, separators=(",", ":"),
                                                                        ensure_ascii=False))}


def put_entry_op(tenant_id: str, account: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {"Put": {"TableName": config.table_name(), "Item": entry_item(tenant_id, account, entry)}}


def delete_entry_op(tenant_id: str, account: str, booking_date: str, intent_id: str) -> dict[str, Any]:
    return {"Delete": {"TableName": config.table_name(), "Key": entry_key(tenant_id, account, booking_date, intent_id)}}


def write_entries(tenant_id: str, puts: list[tuple[str, dict[str, Any]]],
                  deletes: list[tuple[str, str, str]]) -> None:
    """The projector's writes of one block in BatchWriteItems of 25: ``puts`` (account, entry),
    ``deletes`` (account, booking date, intent id). Both idempotent; a key in both is deleted (a
    block never puts and deletes one entry, but a delete must win if it did)."""
    table = config.table_name()
    gone = {(a, d, i) for a, d, i in deletes}
    requests = [{"PutRequest": {"Item": entry_item(tenant_id, account, entry)}} for account, entry in puts
                if (account, entry["booking_date"], entry["intent_id"]) not in gone]
    requests += [{"DeleteRequest": {"Key": entry_key(tenant_id, *key)}} for key in sorted(gone)]
    for i in range(0, len(requests), 25):
        pending: dict[str, Any] = {table: requests[i : i + 25]}
        for attempt in range(20):
            pending = ddb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(min(0.5, 0.01 * 2 ** attempt))  # throttled: back off before the rest
        else:
            raise RuntimeError("BatchWriteItem left bank ledger entries unprocessed twenty times")


def entries(tenant_id: str, account: str) -> list[dict[str, Any]]:
    """The account's unmatched entries, oldest first (one Query of what is open)."""
    kwargs: dict[str, Any] = {
        "TableName": config.table_name(), "ConsistentRead": True,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :e)",
        "ExpressionAttributeValues": {":pk": _s(pk(tenant_id, account)), ":e": _s("E#")}}
    out: list[dict[str, Any]] = []
    while True:
        resp = ddb().query(**kwargs)
        out.extend(json.loads(i["data"]["S"]) for i in resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            return out
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
