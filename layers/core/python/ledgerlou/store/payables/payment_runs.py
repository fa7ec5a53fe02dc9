"""Payment runs and the invoices they hold.

Access patterns (README "Access patterns"):

* run                    PK=T#<t>#PAYRUN          SK=<run id>      GetItem; Put (new); UpdateItem conditional on
                                                                   ``version`` (every state change); Query (list:
                                                                   a tenant has a few runs a week)
* the run's items        PK=T#<t>#PAYRUNITEMS     SK=<run id>#<n>  Put (new, once: items never change); Query
                         (chunks of ITEMS_PER_CHUNK)               (begins_with the run id) when the run is read
* invoice held by a run  PK=T#<t>#PAYRUNCLAIM     SK=<invoice id>  conditional Put (attribute_not_exists: two runs
                                                                   racing for one invoice, one wins); UpdateItem
                                                                   conditional on the old run id (take over the
                                                                   claim of a cancelled or completed run); both
                                                                   up to CLAIM_CHUNK in one TransactWriteItems
                                                                   (claim_chunk); BatchGetItem (eligibility of a
                                                                   page, the claims a new run meets)

Claims are never deleted (the functions' policies allow no DeleteItem): a cancelled run's claims stay
and are taken over by the next run that wants the invoice.

Why the items live apart from the run: a run holds up to 1,000 invoices, and one DynamoDB item holds
at most 400 KB. Inline, a 1,000-invoice run measured 580 KB of JSON (about 580 bytes an item), and
an item can be ~3.5 KB at the field limits (names of 200 characters, streets of 140, 4-byte UTF-8
characters). Compressing the one item (zlib: 65 KB for that run) would only make the limit unlikely
to be hit, never impossible, since the bound is on the compressed size of text the vendors wrote. So the run
record keeps what changes (status, version, history, ids: a few KB) and the items and their problems
are written once, ITEMS_PER_CHUNK per record, zlib-compressed: a chunk is bounded by its raw size
(100 × 3.5 KB worst case) whatever the compression gives, which is ~9× on real runs (fewer read and
write units on every transition, as every transition reads the whole run). Every state change writes
only the small run record, conditional on ``version``, as before; the chunks are never rewritten.
A run stored before this (its items inline in ``data``) is read and updated in that form.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou import config
from ledgerlou.store.base import TableModel, ddb, put_new, tenant_pk, update_if
from ledgerlou.store.receivables import partners as partner_store

# 100 items of at most ~3.5 KB raw (the field limits, 4-byte characters) with their problems: under
# DynamoDB's 400 KB per record even if zlib gained nothing (tests/integration/payment_runs/test_large_run.py)
ITEMS_PER_CHUNK = 100
# The keys the chunks hold; the run record holds the rest (and the debtor's problems)
CHUNKED = ("items", "problems")


class RunItem(TableModel):
    # JSON of the run (domain/payables/payment_runs.py) without its items and their problems, which are
    # in ``item_chunks`` RunItemsChunk records; a run written before that has them inline here
    data = UnicodeAttribute()
    version = NumberAttribute()
    created_at = UnicodeAttribute()


class RunItemsChunk(TableModel):
    # zlib-compressed JSON {"items": [...], "problems": [the problems of these items]}
    payload = BinaryAttribute(legacy_encoding=False)


class RunClaimItem(TableModel):
    run_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def run_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "PAYRUN")


def claim_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "PAYRUNCLAIM")


def items_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "PAYRUNITEMS")


def _chunk_sk(run_id: str, n: int) -> str:
    return f"{run_id}#{n:04d}"


# ------------------------------------------------------------------------------------- runs
def _record(run: dict[str, Any]) -> str:
    """The run record's JSON: without the chunked items and their problems (a run read in the old,
    inline form has no ``item_chunks`` and is written back whole)."""
    if "item_chunks" not in run:
        return _dumps(run)
    return _dumps({**{k: v for k, v in run.items() if k not in CHUNKED},
                   "problems": [p for p in run["problems"] if p.get("invoice_id") is None]})


def put_run(tenant_id: str, run: dict[str, Any]) -> None:
    """Write a new run: its item chunks first, then the run record (a run is read through its record,
    so a run is never seen without its items; chunks of a run whose record was never written are
    unreachable, under a fresh uuid). Sets ``run["item_chunks"]``."""
    items = run["items"]
    chunks = [items[i:i + ITEMS_PER_CHUNK] for i in range(0, len(items), ITEMS_PER_CHUNK)] or [[]]
    run["item_chunks"] = len(chunks)
    for n, chunk in enumerate(chunks):
        ids = {it["invoice_id"] for it in chunk}
        body = {"items": chunk, "problems": [p for p in run["problems"] if p.get("invoice_id") in ids]}
        put_new(RunItemsChunk(items_pk(tenant_id), _chunk_sk(run["id"], n),
                              payload=zlib.compress(_dumps(body).encode("utf-8"), 6)))
    put_new(RunItem(run_pk(tenant_id), run["id"], data=_record(run), version=1, created_at=run["created_at"]))


def with_items(tenant_id: str, run: dict[str, Any]) -> dict[str, Any]:
    """The run with its items and all its problems (one Query of its chunks, in chunk order)."""
    if "item_chunks" not in run:
        return run  # the old, inline form
    items: list[dict[str, Any]] = []
    problems = list(run["problems"])  # the debtor's: first, as the run listed them
    for chunk in RunItemsChunk.query(items_pk(tenant_id), RunItemsChunk.SK.startswith(f"{run['id']}#"),
                                     consistent_read=True):
        body = json.loads(zlib.decompress(chunk.payload))
        items.extend(body["items"])
        problems.extend(body["problems"])
    if len(items) != run["invoice_count"]:
        raise RuntimeError(f"payment run {run['id']}: {len(items)} of {run['invoice_count']} items found")
    return {**run, "items": items, "problems": problems}


def get_run(tenant_id: str, run_id: str) -> tuple[dict[str, Any], int] | None:
    """The run with its items, and its version."""
    try:
        item = RunItem.get(run_pk(tenant_id), run_id, consistent_read=True)
    except DoesNotExist:
        return None
    return with_items(tenant_id, json.loads(item.data)), int(item.version)


def get_runs(tenant_id: str, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The run records (status, claimed: what eligibility needs), without their items."""
    keys = [(run_pk(tenant_id), r) for r in dict.fromkeys(run_ids)]
    return {item.SK: json.loads(item.data) for item in RunItem.batch_get(keys, consistent_read=True)}


def list_runs(tenant_id: str) -> list[dict[str, Any]]:
    """Every run record of the tenant, without items (``with_items`` for the page shown)."""
    return [json.loads(item.data) for item in RunItem.query(run_pk(tenant_id), consistent_read=True)]


def update_run(tenant_id: str, run: dict[str, Any], expected_version: int) -> bool:
    """Replace the run record if nobody changed it since ``expected_version`` was read; False
    otherwise. The item chunks are not written again: nothing a transition changes is in them."""
    item = RunItem(run_pk(tenant_id), run["id"])
    return update_if(item, [RunItem.data.set(_record(run)), RunItem.version.set(expected_version + 1)],
                     RunItem.version == expected_version)


# ------------------------------------------------------------------------------------- claims
def claim(tenant_id: str, invoice_id: str, run_id: str, now: str) -> bool:
    return put_new(RunClaimItem(claim_pk(tenant_id), invoice_id, run_id=run_id, created_at=now))


def take_over(tenant_id: str, invoice_id: str, old_run_id: str, run_id: str, now: str) -> bool:
    item = RunClaimItem(claim_pk(tenant_id), invoice_id)
    return update_if(item, [RunClaimItem.run_id.set(run_id), RunClaimItem.created_at.set(now)],
                     RunClaimItem.run_id == old_run_id)


# DynamoDB's limit of operations in one TransactWriteItems
CLAIM_CHUNK = 100


def claim_chunk(tenant_id: str, wanted: list[tuple[str, str | None]], run_id: str, now: str) -> bool:
    """Claim up to CLAIM_CHUNK invoices for ``run_id`` in ONE TransactWriteItems, all or none: per
    (invoice id, run id of its claim as read, None: unclaimed) a Put conditional on
    ``attribute_not_exists`` or an Update conditional on that old run id (the take-over of a free
    claim). True when written; False when the transaction was cancelled — a condition failed (another
    run claimed one meanwhile) or a concurrent transaction touched one of the claims — and nothing
    was written. The IAM actions are those of the operations inside: PutItem and UpdateItem."""
    if len(wanted) > CLAIM_CHUNK:
        raise ValueError(f"{len(wanted)} claims exceed one transaction")
    table, pk = config.table_name(), claim_pk(tenant_id)
    ops: list[dict[str, Any]] = []
    for invoice_id, old in wanted:
        if old is None:
            ops.append({"Put": {"TableName": table, "Item": {"PK": {"S": pk}, "SK": {"S": invoice_id},
                                                             "run_id": {"S": run_id}, "created_at": {"S": now}},
                                "ConditionExpression": "attribute_not_exists(PK)"}})
        else:
            ops.append({"Update": {"TableName": table, "Key": {"PK": {"S": pk}, "SK": {"S": invoice_id}},
                                   "UpdateExpression": "SET run_id = :new, created_at = :at",
                                   "ConditionExpression": "run_id = :old",
                                   "ExpressionAttributeValues": {":new": {"S": run_id}, ":at": {"S": now},
                                                                 ":old": {"S": old}}}})
    client = ddb()
    try:
        client.transact_write_items(TransactItems=ops)
        return True
    except client.exceptions.TransactionCanceledException:
        return False


def claims(tenant_id: str, invoice_ids: list[str]) -> dict[str, tuple[str, str]]:
    """invoice id → (run id, claimed at) of the invoices some run has claimed (BatchGetItem)."""
    keys = [(claim_pk(tenant_id), i) for i in dict.fromkeys(invoice_ids)]
    return {item.SK: (item.run_id, item.created_at)
            for item in RunClaimItem.batch_get(keys, consistent_read=True)}


# ------------------------------------------------------------------------------------- vendors of a page
def vendors(tenant_id: str, vendor_ids: list[str]) -> dict[str, partner_store.PartnerItem]:
    keys = [(partner_store.partner_pk(tenant_id, "AP"), v) for v in dict.fromkeys(vendor_ids)]
    return {item.SK: item for item in partner_store.PartnerItem.batch_get(keys, consistent_read=True)}
