"""Per-month summaries of the journal: every account's debit/credit sums and every tax code's base/tax,
in ONE item per tenant and month:

    PK=T#<tenant>#MONTHSUM  SK=<YYYY-MM>
    d_<account>, c_<account>   debit and credit sums            (numbers)
    b_<code>, t_<code>         tax base and tax of a tax code   (numbers, reversals negative)
    s<k>                       journal block seq applied last by chunk k of the update
    lo, hi                     first and last journal block with an entry in the month (block span)

Reports read a whole year with one BatchGetItem (12 keys): their cost follows months, never entries —
and no Query, whose cost in moto grows with the whole table. The projector applies each block with one
conditional UpdateItem per month (ADD is exact for numbers); the chunk markers make a replay a no-op
and tell a reader which blocks are already included. Updates are split into chunks of at most
CHUNK attributes (DynamoDB's expression size); the chunking depends only on the block's content, so
readers recompute it.

The block span lets the DATEV export read a month's entries straight from the journal blocks with
BatchGetItem (blocks lo..hi, filtered by booking date) instead of a Query over per-entry items. Blocks
are projected in order, so ``hi`` only grows; a booking backdated into an old month widens its span.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from ledgerlou import config
from ledgerlou.store.base import tenant_pk

CHUNK = 60


@lru_cache(maxsize=1)
def _client() -> Any:
    from ledgerlou.store.base import TableModel

    # Reuse pynamodb's botocore client (same endpoint, credentials and retry settings).
    return TableModel._get_connection().connection.client


def key(tenant_id: str, month: str) -> dict[str, Any]:
    return {"PK": {"S": tenant_pk(tenant_id, "MONTHSUM")}, "SK": {"S": month}}


def chunks(terms: dict[str, Decimal]) -> list[list[tuple[str, Decimal]]]:
    items = sorted((name, value) for name, value in terms.items() if value != 0)
    return [items[i: i + CHUNK] for i in range(0, len(items), CHUNK)]


def terms_for(accounts: dict[str, list[Decimal]], taxes: dict[str, list[Decimal]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for acct, (d, c) in accounts.items():
        out[f"d_{acct}"] = d
        out[f"c_{acct}"] = c
    for code, (b, t) in taxes.items():
        out[f"b_{code}"] = b
        out[f"t_{code}"] = t
    return out


def apply(tenant_id: str, month: str, terms: dict[str, Decimal], seq: int) -> None:
    client = _client()
    for k, chunk in enumerate(chunks(terms)):
        names = {"#s": f"s{k}"}
        values: dict[str, Any] = {":seq": {"N": str(seq)}}
        adds = []
        for i, (name, value) in enumerate(chunk):
            names[f"#a{i}"] = name
            values[f":a{i}"] = {"N": str(value)}
            adds.append(f"#a{i} :a{i}")
        span = ", lo = if_not_exists(lo, :seq), hi = :seq" if k == 0 else ""
        try:
            client.update_item(
                TableName=config.table_name(), Key=key(tenant_id, month),
                UpdateExpression="ADD " + ", ".join(adds) + " SET #s = :seq" + span,
                ConditionExpression="attribute_not_exists(#s) OR #s < :seq",
                ExpressionAttributeNames=names, ExpressionAttributeValues=values)
        except client.exceptions.ConditionalCheckFailedException:
            pass  # this chunk of this block was applied already


class MonthSummary:
    def __init__(self, item: dict[str, Any] | None) -> None:
        self.accounts: dict[str, list[Decimal]] = {}
        self.taxes: dict[str, list[Decimal]] = {}
        self.markers: dict[int, int] = {}
        # Block span (see module docstring); None for a month without entries.
        self.first_block: int | None = int(item["lo"]["N"]) if item and "lo" in item else None
        self.last_block: int | None = int(item["hi"]["N"]) if item and "hi" in item else None
        for name, value in (item or {}).items():
            if name in ("PK", "SK", "lo", "hi"):
                continue
            if name.startswith("s") and name[1:].isdigit():
                self.markers[int(name[1:])] = int(value["N"])
                continue
            prefix, _, ident = name.partition("_")
            number = Decimal(value["N"])
            if prefix in ("d", "c"):
                self.accounts.setdefault(ident, [Decimal(0), Decimal(0)])[0 if prefix == "d" else 1] += number
            elif prefix in ("b", "t"):
                self.taxes.setdefault(ident, [Decimal(0), Decimal(0)])[0 if prefix == "b" else 1] += number

    def add_unapplied(self, terms: dict[str, Decimal], seq: int) -> None:
        """Merge a block that may not be projected yet: only the chunks whose marker is behind it."""
        for k, chunk in enumerate(chunks(terms)):
            if self.markers.get(k, 0) >= seq:
                continue
            for name, value in chunk:
                prefix, _, ident = name.partition("_")
                target = self.accounts if prefix in ("d", "c") else self.taxes
                target.setdefault(ident, [Decimal(0), Decimal(0)])[0 if prefix in ("d", "b") else 1] += value


def get_many(tenant_id: str, months: list[str]) -> dict[str, MonthSummary]:
    client = _client()
    out: dict[str, MonthSummary] = {m: MonthSummary(None) for m in months}
    for i in range(0, len(months), 100):
        request: dict[str, Any] = {config.table_name(): {
            "Keys": [key(tenant_id, m) for m in months[i: i + 100]], "ConsistentRead": True}}
        while request:
            resp = client.batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(config.table_name(), []):
                out[item["SK"]["S"]] = MonthSummary(item)
            request = resp.get("UnprocessedKeys") or {}
    return out
