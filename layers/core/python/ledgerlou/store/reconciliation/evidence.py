"""Evidence (Eigenbeleg) of a bank transaction without a voucher: every version kept (GoBD).

    PK=T#<t>#BANKEVIDENCE#<tx id>   SK=V#<version:06d>   data: the version's JSON

A version is written once, with a PutItem conditional on its key not existing: two writers racing
for version n get one winner, the other writes n + 1. Never updated, never deleted. Read with a Query
of the transaction's own partition (its versions only).
"""

from __future__ import annotations

import json
from typing import Any

from ledgerlou import config
from ledgerlou.store.base import ddb, tenant_pk


def evidence_pk(tenant_id: str, tx_id: str) -> str:
    return tenant_pk(tenant_id, f"BANKEVIDENCE#{tx_id}")


def versions(tenant_id: str, tx_id: str) -> list[dict[str, Any]]:
    """Every version, oldest first."""
    kwargs: dict[str, Any] = {"TableName": config.table_name(), "ConsistentRead": True,
                              "KeyConditionExpression": "PK = :pk AND begins_with(SK, :v)",
                              "ExpressionAttributeValues": {":pk": {"S": evidence_pk(tenant_id, tx_id)},
                                                            ":v": {"S": "V#"}}}
    out: list[dict[str, Any]] = []
    while True:
        resp = ddb().query(**kwargs)
        out.extend(json.loads(item["data"]["S"]) for item in resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            return out
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def put_version(tenant_id: str, tx_id: str, record: dict[str, Any]) -> bool:
    """Write version ``record["version"]``; False when another writer took that number first."""
    client = ddb()
    item = {"PK": {"S": evidence_pk(tenant_id, tx_id)}, "SK": {"S": f"V#{int(record['version']):06d}"},
            "data": {"S": json.dumps(record, ensure_ascii=False, separators=(",", ":"))}}
    try:
        client.put_item(TableName=config.table_name(), Item=item, ConditionExpression="attribute_not_exists(PK)")
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False
