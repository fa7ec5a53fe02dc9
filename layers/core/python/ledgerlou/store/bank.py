"""Bank accounts, bank transactions and import batches.

Access patterns (README "Access patterns"):

* bank account              PK=T#<t>#BANKACCOUNT            SK=<bank account id>    Get / Query (a tenant has few)
* IBAN uniqueness           PK=T#<t>#BANKIBAN               SK=<IBAN>               conditional Put
* ledger account link       PK=T#<t>#BANKLEDGER             SK=<account number>     conditional Put
* transactions of a month   PK=T#<t>#BANKTX#<acct>#<YYYY-MM> SK=<booking_date>#<id>  BatchWrite / Query
* transaction by id         PK=T#<t>#BANKTXID               SK=<id>                 Get → the month item;
                                                                                    BatchGet: the duplicate check
* import batch              PK=T#<t>#IMPORTBATCH            SK=<batch id>           Get / Update

A transaction is two items: the month item (what lists and balances read) and the by-id item
(account, booking date and the import batch that wrote it). Transaction ids derive from the
duplicate key (``bank_import.tx_id_for``), so the by-id item is the duplicate claim too: a row is
known iff the by-id item of its id exists. There is no separate duplicate-key item and no
conditional write per transaction: imports into one bank account are serialised by a lease on the
account item (``acquire_lease``), and under it the duplicate check is a BatchGetItem and new items
are written with BatchWriteItem, the by-id items of a chunk of work before its month items (so a month
item never exists without its by-id item, which a retried import relies on).

Why a by-id item and not GSI1: a GSI is eventually consistent (a client that imports and then GETs a
transaction by id could get a 404), and moto's index queries walk the whole table (measured 59 ms at
8,000 items against 1.2 ms for GetItem), which the local runtime would feel.

The bulk paths (transactions) use the low-level client instead of pynamodb models: pynamodb's
per-item model objects would cost more than the writes. The small items (accounts, claims, batches)
are pynamodb models like everywhere else. Per-account counters are maintained with UpdateItem ADD,
guarded so that a retried import batch counts once and only while it holds the lease (``apply_batch``).
Items written by earlier versions (``BANKDEDUP`` duplicate-key items, by-id items without
``batch_id``) are left as they are; a by-id item without ``batch_id`` counts as imported.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pynamodb.attributes import Attribute, BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.constants import MAP
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from ledgerlou import config
from ledgerlou.store.base import DecimalAttribute, TableModel, tenant_pk

BATCH_GET_MAX = 100  # DynamoDB limits
BATCH_WRITE_MAX = 25


class DecimalMapAttribute(Attribute[dict[str, Decimal]]):
    """A map of exact numbers ({"2026-01": Decimal("-12.50")}): pynamodb's raw MapAttribute reads
    numbers as floats (PITFALLS.md)."""

    attr_type = MAP

    def serialize(self, value: dict[str, Decimal]) -> dict[str, dict[str, str]]:
        return {k: {"N": str(v)} for k, v in value.items()}

    def deserialize(self, value: dict[str, dict[str, str]]) -> dict[str, Decimal]:
        return {k: Decimal(v["N"]) for k, v in value.items()}


class BankAccountItem(TableModel):
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    iban = UnicodeAttribute(null=True)
    bic = UnicodeAttribute(null=True)
    account_number = UnicodeAttribute(null=True)
    currency = UnicodeAttribute()
    ledger_account = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Maintained by imports (UpdateItem ADD; see apply_batch) and later by reconciliation.
    tx_count = NumberAttribute(default=0)
    unreconciled_count = NumberAttribute(default=0)
    last_tx_date = UnicodeAttribute(null=True)
    # Sum of the account-currency transactions per booking month; its keys are the months that have
    # transactions, so listing and balances query only those month partitions.
    month_totals = DecimalMapAttribute(default=dict)
    month_counts = DecimalMapAttribute(default=dict)  # transactions per booking month (listing totals, paging)
    # The latest closing balance a bank statement stated (the anchor of the balance history).
    stated_balance = DecimalAttribute(null=True)
    stated_balance_date = UnicodeAttribute(null=True)
    # Import batches whose counts were added but which are not marked completed yet (retry guard).
    counted_batches = UnicodeSetAttribute(null=True)
    # The import lease (acquire_lease): who holds it, and until when (epoch seconds).
    import_lease = UnicodeAttribute(null=True)
    import_lease_until = NumberAttribute(null=True)


class ClaimItem(TableModel):
    """A unique value (an IBAN, a linked ledger account) held by one bank account."""

    bank_account_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class ImportBatchItem(TableModel):
    batch_id = UnicodeAttribute()
    bank_account_id = UnicodeAttribute()
    state = UnicodeAttribute()  # queued | processing | completed | failed
    source = UnicodeAttribute()  # json | file
    document_id = UnicodeAttribute(null=True)
    original_name = UnicodeAttribute(null=True)
    format = UnicodeAttribute(null=True)
    dialect = UnicodeAttribute(null=True)
    total_rows = NumberAttribute(null=True)
    imported = NumberAttribute(null=True)
    skipped_duplicates = NumberAttribute(null=True)
    errors = UnicodeAttribute(null=True)  # JSON list, at most MAX_STORED_ERRORS entries
    errors_truncated = BooleanAttribute(default=False)
    statements = UnicodeAttribute(null=True)  # JSON list of statement summaries
    balance_mismatches = UnicodeAttribute(null=True)  # JSON list of strings
    failure_reason = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    completed_at = UnicodeAttribute(null=True)


# ------------------------------------------------------------------------------------- keys
def account_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "BANKACCOUNT")


def iban_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "BANKIBAN")


def ledger_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "BANKLEDGER")


def tx_pk(tenant_id: str, bank_account_id: str, month: str) -> str:
    return tenant_pk(tenant_id, f"BANKTX#{bank_account_id}#{month}")


def tx_sk(booking_date: str, tx_id: str) -> str:
    return f"{booking_date}#{tx_id}"


def tx_id_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "BANKTXID")


def batch_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "IMPORTBATCH")


# ------------------------------------------------------------------------------------- bank accounts
def put_account(tenant_id: str, item: BankAccountItem) -> None:
    item.PK, item.SK = account_pk(tenant_id), item.account_id
    item.save(condition=BankAccountItem.PK.does_not_exist())


def get_account(tenant_id: str, account_id: str, consistent: bool = False) -> BankAccountItem | None:
    try:
        return BankAccountItem.get(account_pk(tenant_id), account_id, consistent_read=consistent)
    except DoesNotExist:
        return None


def list_accounts(tenant_id: str) -> list[BankAccountItem]:
    return list(BankAccountItem.query(account_pk(tenant_id), consistent_read=True))


def rename_account(tenant_id: str, account_id: str, name: str, now: str) -> BankAccountItem | None:
    item = BankAccountItem(account_pk(tenant_id), account_id)
    try:
        item.update(actions=[BankAccountItem.name.set(name), BankAccountItem.updated_at.set(now)],
                    condition=BankAccountItem.PK.exists())
    except UpdateError as ex:
        if _conditional_failed(ex):
            return None
        raise
    return get_account(tenant_id, account_id, consistent=True)


class LeaseBusy(Exception):
    """The import lease of a bank account is held by another import."""

    def __init__(self, holder: str | None, until: float | None) -> None:
        super().__init__(f"import lease held by {holder} until {until}")
        self.holder, self.until = holder, until


def acquire_lease(tenant_id: str, account_id: str, token: str, until: float, now: float) -> BankAccountItem | None:
    """Take the import lease of a bank account until ``until`` (epoch seconds) with one conditional
    UpdateItem on the account item: granted when nobody holds it or the holder's lease has expired (a
    crashed holder). Returns the account as it is now (strongly consistent), None when it does not
    exist; raises LeaseBusy when another import holds it."""
    item = BankAccountItem(account_pk(tenant_id), account_id)
    try:
        item.update(actions=[BankAccountItem.import_lease.set(token), BankAccountItem.import_lease_until.set(until)],
                    condition=BankAccountItem.PK.exists() & (BankAccountItem.import_lease_until.does_not_exist()
                                                             | (BankAccountItem.import_lease_until < now)))
        return item
    except UpdateError as ex:
        if not _conditional_failed(ex):
            raise
    current = get_account(tenant_id, account_id, consistent=True)
    if current is None:
        return None
    raise LeaseBusy(current.import_lease, current.import_lease_until)


def release_lease(tenant_id: str, account_id: str, token: str) -> bool:
    """Give the lease back (False when it was not ours any more: it expired and was taken over)."""
    try:
        _ddb().update_item(TableName=config.table_name(),
                           Key={"PK": _s(account_pk(tenant_id)), "SK": _s(account_id)},
                           UpdateExpression="REMOVE import_lease, import_lease_until",
                           ConditionExpression="import_lease = :tok", ExpressionAttributeValues={":tok": _s(token)})
        return True
    except _ddb().exceptions.ConditionalCheckFailedException:
        return False


def claim(tenant_id: str, kind: str, value: str, account_id: str, now: str) -> str | None:
    """Claim a unique value (kind "iban" or "ledger") for ``account_id``; None when claimed, else the
    id of the bank account that holds it. Claims are never deleted (functions may only delete
    idempotency records): a claim left behind by a create that failed halfway is taken over with
    ``take_over_claim`` once its bank account is found not to exist."""
    pk = iban_pk(tenant_id) if kind == "iban" else ledger_pk(tenant_id)
    item = ClaimItem(pk, value, bank_account_id=account_id, created_at=now)
    try:
        item.save(condition=ClaimItem.PK.does_not_exist())
        return None
    except PutError as ex:
        if not _conditional_failed(ex):
            raise
    try:
        return ClaimItem.get(pk, value, consistent_read=True).bank_account_id
    except DoesNotExist:  # cannot happen (claims are never deleted); claim again
        item.save(condition=ClaimItem.PK.does_not_exist())
        return None


def take_over_claim(tenant_id: str, kind: str, value: str, orphan_account_id: str, account_id: str) -> bool:
    pk = iban_pk(tenant_id) if kind == "iban" else ledger_pk(tenant_id)
    try:
        ClaimItem(pk, value).update(actions=[ClaimItem.bank_account_id.set(account_id)],
                                    condition=ClaimItem.bank_account_id == orphan_account_id)
        return True
    except UpdateError as ex:
        if _conditional_failed(ex):
            return False
        raise


def claims(tenant_id: str, kind: str) -> dict[str, str]:
    pk = iban_pk(tenant_id) if kind == "iban" else ledger_pk(tenant_id)
    return {c.SK: c.bank_account_id for c in ClaimItem.query(pk, consistent_read=True)}


# ------------------------------------------------------------------------------------- import batches
def put_batch(tenant_id: str, item: ImportBatchItem) -> None:
    item.PK, item.SK = batch_pk(tenant_id), item.batch_id
    item.save(condition=ImportBatchItem.PK.does_not_exist())


def get_batch(tenant_id: str, batch_id: str) -> ImportBatchItem | None:
    try:
        return ImportBatchItem.get(batch_pk(tenant_id), batch_id, consistent_read=True)
    except DoesNotExist:
        return None


def get_batches(tenant_id: str, batch_ids: Iterable[str]) -> dict[str, ImportBatchItem]:
    keys = [(batch_pk(tenant_id), b) for b in set(batch_ids)]
    return {b.batch_id: b for b in ImportBatchItem.batch_get(keys, consistent_read=True)} if keys else {}


def start_batch(tenant_id: str, batch_id: str, now: str) -> ImportBatchItem | None:
    """Mark a batch processing (attempts + 1) unless it is completed; returns it, or None if completed
    or missing."""
    item = ImportBatchItem(batch_pk(tenant_id), batch_id)
    try:
        item.update(actions=[ImportBatchItem.state.set("processing"), ImportBatchItem.updated_at.set(now),
                             ImportBatchItem.attempts.add(1)],
                    condition=ImportBatchItem.PK.exists() & (ImportBatchItem.state != "completed"))
    except UpdateError as ex:
        if _conditional_failed(ex):
            return None
        raise
    return item


def finish_batch(tenant_id: str, batch_id: str, *, state: str, now: str, **fields: Any) -> None:
    actions: list[Action] = [ImportBatchItem.state.set(state), ImportBatchItem.updated_at.set(now)]
    if state == "completed":
        actions.append(ImportBatchItem.completed_at.set(now))
    for name, value in fields.items():
        attr = getattr(ImportBatchItem, name)
        actions.append(attr.remove() if value is None else attr.set(value))
    ImportBatchItem(batch_pk(tenant_id), batch_id).update(actions=actions)


# ------------------------------------------------------------------------------------- low-level bulk
@lru_cache(maxsize=1)
def _ddb() -> Any:
    import boto3  # the bulk paths use the client directly (module docstring)
    from botocore.config import Config

    region = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "eu-central-1"))
    # No client-side parameter validation: these requests are built here, DynamoDB validates them
    # anyway, and botocore's walk over every attribute of every item costs about a quarter of a
    # BatchWriteItem's client time (measured: 0.65 → 0.48 ms per 18-attribute item on moto).
    return boto3.client("dynamodb", region_name=region, config=Config(parameter_validation=False))


def _conditional_failed(ex: Exception) -> bool:
    cause = getattr(ex, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batch_get(keys: list[dict[str, Any]], projection: str | None = None) -> list[dict[str, Any]]:
    table = config.table_name()
    out: list[dict[str, Any]] = []
    for chunk in _chunks(keys, BATCH_GET_MAX):
        request: dict[str, Any] = {"Keys": chunk, "ConsistentRead": True}
        if projection:
            request["ProjectionExpression"] = projection
        pending: dict[str, Any] = {table: request}
        delay = 0.05
        while pending:
            resp = _ddb().batch_get_item(RequestItems=pending)
            out.extend(resp.get("Responses", {}).get(table, []))
            pending = resp.get("UnprocessedKeys") or {}
            if pending:  # throttled: back off, as the SDK guide says
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
    return out


def _batch_put(items: list[dict[str, Any]], threads: int = 1, guard: Callable[[], None] | None = None) -> None:
    """BatchWriteItem, 25 per call, unprocessed items retried with backoff. ``guard`` runs before every
    call (the import lease's expiry check: a holder whose lease ran out stops writing)."""
    table = config.table_name()

    def put(chunk: list[dict[str, Any]]) -> None:
        pending: list[dict[str, Any]] = [{"PutRequest": {"Item": i}} for i in chunk]
        delay = 0.05
        while pending:
            if guard is not None:
                guard()
            resp = _ddb().batch_write_item(RequestItems={table: pending})
            pending = (resp.get("UnprocessedItems") or {}).get(table, [])
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    chunks = list(_chunks(items, BATCH_WRITE_MAX))
    if threads > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(put, chunks))  # list(): re-raises the first failure
    else:
        for chunk in chunks:
            put(chunk)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


# ------------------------------------------------------------------------------------- transactions
# A month item holds what can change (status), what reads project (amount, currency; the booking
# date is the start of SK) and, in one JSON attribute ``d``, the rest: the bank's data, which never
# changes after the import, and the import's provenance. Few attributes keep the items cheap to
# write — moto's cost per item grows with the square of its attribute count (every attribute set
# re-sizes the whole item): 0.63 ms for 17 attributes, 0.3 ms for 6, measured — and nothing filters
# or updates those fields one by one. Items of earlier versions (one attribute per field) still read.
TX_TEXT_FIELDS = ("bank_account_id", "booking_date", "value_date", "currency", "counterparty_name",
                  "counterparty_iban", "counterparty_bic", "purpose", "end_to_end_id", "mandate_id", "creditor_id",
                  "bank_reference", "status", "batch_id", "document_id", "created_at", "dedup_key")
_TOP_LEVEL = ("currency", "status")  # besides PK, SK, amount and d


def _tx_item(tenant_id: str, tx: dict[str, Any]) -> dict[str, Any]:
    date = tx["booking_date"]
    packed = {"id": tx["id"], **{name: tx[name] for name in TX_TEXT_FIELDS
                                 if name not in _TOP_LEVEL and tx.get(name) is not None}}
    return {"PK": _s(tx_pk(tenant_id, tx["bank_account_id"], date[:7])), "SK": _s(tx_sk(date, tx["id"])),
            "amount": {"N": str(tx["amount"])}, "currency": _s(tx["currency"]), "status": _s(tx["status"]),
            "d": _s(json.dumps(packed, ensure_ascii=False, separators=(",", ":")))}


def _pointer_item(tenant_id: str, tx: dict[str, Any]) -> dict[str, Any]:
    return {"PK": _s(tx_id_pk(tenant_id)), "SK": _s(tx["id"]), "bank_account_id": _s(tx["bank_account_id"]),
            "booking_date": _s(tx["booking_date"]), "batch_id": _s(tx["batch_id"])}


def _month_key(tenant_id: str, tx: dict[str, Any]) -> dict[str, Any]:
    date = tx["booking_date"]
    return {"PK": _s(tx_pk(tenant_id, tx["bank_account_id"], date[:7])), "SK": _s(tx_sk(date, tx["id"]))}


def _tx_from(item: dict[str, Any]) -> dict[str, Any]:
    if "d" in item:
        packed = json.loads(item["d"]["S"])
        tx: dict[str, Any] = {name: packed.get(name) for name in TX_TEXT_FIELDS}
        tx.update(id=packed["id"], currency=item["currency"]["S"], status=item["status"]["S"])
    else:  # an item of an earlier version: one attribute per field
        tx = {"id": item["id"]["S"]}
        for name in TX_TEXT_FIELDS:
            value = item.get(name)
            tx[name] = value["S"] if value else None
    tx["amount"] = Decimal(item["amount"]["N"])
    return tx


def transaction_holders(tenant_id: str, tx_ids: list[str]) -> dict[str, str]:
    """Which of these transactions exist (their by-id items; BatchGetItem, 100 per call), each with the
    import batch that wrote it ("" for items of earlier versions, which carry none)."""
    pk = _s(tx_id_pk(tenant_id))
    # The projection matters on moto, whose response serialiser costs per attribute returned
    # (measured per found item: 0.40 ms whole, 0.28 ms projected).
    found = _batch_get([{"PK": pk, "SK": _s(i)} for i in dict.fromkeys(tx_ids)], "SK, batch_id")
    return {i["SK"]["S"]: i.get("batch_id", {}).get("S", "") for i in found}


def write_new_transactions(tenant_id: str, txs: list[dict[str, Any]], threads: int = 1,
                           guard: Callable[[], None] | None = None) -> None:
    """Write transactions that do not exist yet (no by-id item), with BatchWriteItem: all by-id items
    first, then the month items. Only under the account's import lease: nobody else writes them then."""
    _batch_put([_pointer_item(tenant_id, tx) for tx in txs], threads, guard)
    _batch_put([_tx_item(tenant_id, tx) for tx in txs], threads, guard)


def complete_transactions(tenant_id: str, txs: list[dict[str, Any]], threads: int = 1,
                          guard: Callable[[], None] | None = None) -> int:
    """The recovery path of an import that died halfway: these transactions' by-id items exist, their
    month items may not. Writes the missing month items (an existing one is left alone: it may have
    been reconciled since); returns how many were written."""
    found = {i["SK"]["S"] for i in _batch_get([_month_key(tenant_id, tx) for tx in txs], "SK")}
    missing = [tx for tx in txs if tx_sk(tx["booking_date"], tx["id"]) not in found]
    _batch_put([_tx_item(tenant_id, tx) for tx in missing], threads, guard)
    return len(missing)


def take_over_transaction(tenant_id: str, tx_id: str, dead_batch: str, batch_id: str) -> bool:
    """Move a transaction written by an import batch that died before counting it to ``batch_id``."""
    try:
        _ddb().update_item(TableName=config.table_name(), Key={"PK": _s(tx_id_pk(tenant_id)), "SK": _s(tx_id)},
                           UpdateExpression="SET batch_id = :new", ConditionExpression="batch_id = :old",
                           ExpressionAttributeValues={":new": _s(batch_id), ":old": _s(dead_batch)})
        return True
    except _ddb().exceptions.ConditionalCheckFailedException:
        return False


def get_transaction(tenant_id: str, tx_id: str) -> dict[str, Any] | None:
    table = config.table_name()
    pointer = _ddb().get_item(TableName=table, Key={"PK": _s(tx_id_pk(tenant_id)), "SK": _s(tx_id)},
                              ConsistentRead=True).get("Item")
    if pointer is None:
        return None
    account, date = pointer["bank_account_id"]["S"], pointer["booking_date"]["S"]
    item = _ddb().get_item(TableName=table, Key={"PK": _s(tx_pk(tenant_id, account, date[:7])),
                                                 "SK": _s(tx_sk(date, tx_id))}, ConsistentRead=True).get("Item")
    return _tx_from(item) if item else None


def _month_query(tenant_id: str, bank_account_id: str, month: str, start: str | None,
                 end: str | None) -> dict[str, Any]:
    lo = (start if start and start > f"{month}-00" else f"{month}-00") + "#"
    hi = (end if end and end < f"{month}-99" else f"{month}-99") + "#~"  # "~" sorts after every id character
    return {"TableName": config.table_name(), "ConsistentRead": True,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {":pk": _s(tx_pk(tenant_id, bank_account_id, month)), ":lo": _s(lo),
                                          ":hi": _s(hi)}}


def month_transactions(tenant_id: str, bank_account_id: str, month: str, start: str | None = None,
                       end: str | None = None, amounts_only: bool = False, newest_first: bool = False,
                       limit: int | None = None) -> list[dict[str, Any]]:
    """One month partition of an account (paged Query) in SK order (booking date, id), optionally
    limited to booking dates start..end (inclusive) and to the first ``limit`` items."""
    kwargs = _month_query(tenant_id, bank_account_id, month, start, end)
    kwargs["ScanIndexForward"] = not newest_first
    if amounts_only:
        kwargs["ProjectionExpression"] = "SK, amount, currency"
    out: list[dict[str, Any]] = []
    while limit is None or len(out) < limit:
        if limit is not None:
            kwargs["Limit"] = limit - len(out)
        resp = _ddb().query(**kwargs)
        for item in resp.get("Items", []):
            if amounts_only:
                out.append({"booking_date": item["SK"]["S"].split("#", 1)[0], "amount": Decimal(item["amount"]["N"]),
                            "currency": item["currency"]["S"]})
            else:
                out.append(_tx_from(item))
        if "LastEvaluatedKey" not in resp:
            break
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return out


def count_month(tenant_id: str, bank_account_id: str, month: str, start: str | None, end: str | None) -> int:
    kwargs = {**_month_query(tenant_id, bank_account_id, month, start, end), "Select": "COUNT"}
    count = 0
    while True:
        resp = _ddb().query(**kwargs)
        count += int(resp.get("Count", 0))
        if "LastEvaluatedKey" not in resp:
            return count
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


# ------------------------------------------------------------------------------------- counters
class LeaseLost(Exception):
    """The import lease expired (and may have been taken over) before the import was counted."""


def apply_batch(tenant_id: str, bank_account_id: str, batch_id: str, count: int,
                month_totals: dict[str, Decimal], month_counts: dict[str, int], now: str,
                lease_token: str | None = None) -> bool:
    """Add an import batch's transactions to the account's counters and month totals, once: the
    batch id goes into ``counted_batches`` in the same UpdateItem, whose condition refuses a second
    time (False). (The import marks the batch completed next and then drops the id again.) With
    ``lease_token`` the update also requires the import lease to be still ours, else LeaseLost: a
    holder whose lease expired must not count what the next holder may have taken over."""
    names: dict[str, str] = {"#mt": "month_totals", "#mc": "month_counts"}
    values: dict[str, Any] = {":n": {"N": str(count)}, ":b": {"SS": [batch_id]}, ":bid": _s(batch_id),
                              ":zero": {"N": "0"}, ":now": _s(now)}
    sets = ["updated_at = :now"]
    for i, month in enumerate(sorted(set(month_totals) | set(month_counts))):
        names[f"#m{i}"] = month
        values[f":v{i}"] = {"N": str(month_totals.get(month, Decimal(0)))}
        values[f":c{i}"] = {"N": str(month_counts.get(month, 0))}
        sets.append(f"#mt.#m{i} = if_not_exists(#mt.#m{i}, :zero) + :v{i}")
        sets.append(f"#mc.#m{i} = if_not_exists(#mc.#m{i}, :zero) + :c{i}")
    condition = "attribute_exists(PK) AND NOT contains(counted_batches, :bid)"
    if lease_token is not None:
        condition += " AND import_lease = :tok"
        values[":tok"] = _s(lease_token)
    key = {"PK": _s(account_pk(tenant_id)), "SK": _s(bank_account_id)}
    for attempt in range(2):
        try:
            _ddb().update_item(
                TableName=config.table_name(), Key=key,
                UpdateExpression="ADD tx_count :n, unreconciled_count :n, counted_batches :b SET " + ", ".join(sets),
                ConditionExpression=condition, ExpressionAttributeNames=names, ExpressionAttributeValues=values)
            return True
        except _ddb().exceptions.ConditionalCheckFailedException:
            if lease_token is not None:
                current = get_account(tenant_id, bank_account_id, consistent=True)
                if current is None or current.import_lease != lease_token:
                    raise LeaseLost(f"import lease of bank account {bank_account_id} lost") from None
            return False
        except _ddb().exceptions.ClientError as ex:
            # A nested SET needs its map to exist: accounts stored before month_counts existed get it
            # once (a map cannot be created and written into in one expression).
            if attempt or ex.response.get("Error", {}).get("Code") != "ValidationException":
                raise
            _ddb().update_item(TableName=config.table_name(), Key=key,
                               UpdateExpression="SET #mt = if_not_exists(#mt, :e), #mc = if_not_exists(#mc, :e)",
                               ConditionExpression="attribute_exists(PK)",
                               ExpressionAttributeNames={"#mt": "month_totals", "#mc": "month_counts"},
                               ExpressionAttributeValues={":e": {"M": {}}})
    return False


def forget_counted(tenant_id: str, bank_account_id: str, batch_id: str) -> None:
    _ddb().update_item(TableName=config.table_name(),
                       Key={"PK": _s(account_pk(tenant_id)), "SK": _s(bank_account_id)},
                       UpdateExpression="DELETE counted_batches :b", ConditionExpression="attribute_exists(PK)",
                       ExpressionAttributeValues={":b": {"SS": [batch_id]}})


def raise_date(tenant_id: str, bank_account_id: str, attr: str, date: str, extra: dict[str, Any] | None = None) -> None:
    """SET ``attr`` = date (and ``extra``) if it is later than the stored one (a monotonic maximum)."""
    values: dict[str, Any] = {":d": _s(date)}
    sets = ["#a = :d"]
    names = {"#a": attr}
    for i, (name, value) in enumerate((extra or {}).items()):
        names[f"#x{i}"] = name
        values[f":x{i}"] = {"N": str(value)} if isinstance(value, Decimal) else _s(str(value))
        sets.append(f"#x{i} = :x{i}")
    try:
        _ddb().update_item(TableName=config.table_name(),
                           Key={"PK": _s(account_pk(tenant_id)), "SK": _s(bank_account_id)},
                           UpdateExpression="SET " + ", ".join(sets),
                           ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(#a) OR #a <= :d)",
                           ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    except _ddb().exceptions.ConditionalCheckFailedException:
        pass
