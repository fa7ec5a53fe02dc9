"""Bank accounts, bank transactions and import batches.

Access patterns (README "Access patterns"):

* bank account              PK=T#<t>#BANKACCOUNT             SK=<bank account id>  Get / Query (a tenant has few)
* IBAN uniqueness           PK=T#<t>#BANKIBAN                SK=<IBAN>             conditional Put
* ledger account link       PK=T#<t>#BANKLEDGER              SK=<account number>   conditional Put
* transaction pages         PK=T#<t>#BANKTX#<acct>#<YYYY-MM> SK=P#<page:05d>        conditional Put (new page);
                                                                                   Query (a month; projected:
                                                                                   the duplicate check, by id);
                                                                                   GetItem + conditional Update
* import batch              PK=T#<t>#IMPORTBATCH             SK=<batch id>         Get / Update

Transactions are packed: an import writes its new rows into *page items* per bank account and
booking month (up to ``PAGE_BYTES``; the layout is described at "transactions" below), one
conditional PutItem per page — 40 items for a 10,000-entry statement instead of 20,000. A page is
never overwritten: later changes are UpdateItems of its status string (conditional on its version)
or of its owning batch (the take-over of a dead batch's page).

A transaction id names its bank account (an 8-hex tag), its booking month and its duplicate hash
(``tx_id``): ids derive from the duplicate key, so every attempt of an import gives a row the same
id, and a GET by id reads the month's duplicate hashes (a projected Query of one partition), then
the page — strongly consistent, no pointer item. Not GSI1: a GSI is eventually consistent (a client
that imports and then GETs a transaction by id could get a 404), and moto's index queries walk the
whole table.

The duplicate check of an import is the same projected Query per month it touches: imports into
one bank account are serialised by a lease on the account item (``acquire_lease``), under which the
months' hashes are all there is to compare. The bulk paths use the low-level client instead of
pynamodb models. The small items (accounts, claims, batches) are pynamodb models like everywhere
else. Per-account counters are maintained with UpdateItem ADD, guarded so that a retried import
batch counts once and only while it holds the lease (``apply_batch``). Transactions stored by earlier
versions (one month item + one ``BANKTXID`` by-id item each) are not read any more.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pynamodb.attributes import Attribute, BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.constants import MAP
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from ledgerlou import config
from ledgerlou.store.base import DecimalAttribute, TableModel, ddb, tenant_pk


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
        ddb().update_item(TableName=config.table_name(),
                           Key={"PK": _s(account_pk(tenant_id)), "SK": _s(account_id)},
                           UpdateExpression="REMOVE import_lease, import_lease_until",
                           ConditionExpression="import_lease = :tok", ExpressionAttributeValues={":tok": _s(token)})
        return True
    except ddb().exceptions.ConditionalCheckFailedException:
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
def _conditional_failed(ex: Exception) -> bool:
    cause = getattr(ex, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


# ------------------------------------------------------------------------------------- transactions
# Transactions are packed into *page items*, per bank account and booking month:
#   PK=T#<t>#BANKTX#<account>#<YYYY-MM>   SK=P#<page number:05d>
# A page is written once, by one import batch, with a conditional PutItem (attribute_not_exists), and
# afterwards only ever updated in place: its status string (``st``, with a version ``v``) or its owner
# (``b``, when an import takes over the page of a batch that died). Its attributes:
#   d    the rows, a JSON array of arrays in ROW_FIELDS order (amounts as strings: Decimal-exact),
#        zlib-compressed (level 1: ~0.3 ms a page; statements compress ~5×, and DynamoDB bills the
#        item's stored size for every write and read of the page, a status change included)
#   k    the rows' duplicate hashes (DEDUP_LEN hex each, the same order): the duplicate check and the
#        by-id lookup read only this (a projection), never the rows
#   st   one status letter per row (STATUS_CODES), same order — what reconciliation updates
#   v    version, + 1 with every status change (status updates are conditional on it)
#   b    the import batch that owns (counts) the page; doc / ca: its document and time of import
#   n    rows, tot: the sum of the rows in the account's currency, hi: their latest booking date (what
#        the account's counters need, without d)
# Few, large items instead of one per transaction: on moto every item written costs ~0.2 ms whatever
# its size (README "Bank import"), and on DynamoDB a 64 KB page is 64 write units against ~250 one-KB
# items. The price: a status change rewrites its page (up to PAGE_BYTES of write units on DynamoDB).
# Transaction ids carry their location (``tx_id``), so a GET by id needs no pointer item and no GSI.
PAGE_BYTES = 64_000  # a page's size (d uncompressed + k + st); DynamoDB allows 400 KB per item: ample headroom
DEDUP_LEN = 20  # hex digits (80 bits) of a transaction's duplicate hash kept in k and in its id
ROW_FIELDS = ("id", "booking_date", "value_date", "amount", "currency", "counterparty_name", "counterparty_iban",
              "counterparty_bic", "purpose", "end_to_end_id", "mandate_id", "creditor_id", "bank_reference")
STATUS_CODES = {"unreconciled": "u", "reconciled": "r", "dismissed": "d"}
_STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
_PAGE_META = "SK, b, k, n, tot, st, hi"  # what the duplicate check reads of a page
_HEX = frozenset("0123456789abcdef")


def page_sk(number: int) -> str:
    return f"P#{number:05d}"


@lru_cache(maxsize=256)
def account_tag(bank_account_id: str) -> str:
    """8 hex digits naming a bank account inside its transactions' ids."""
    return hashlib.sha256(bank_account_id.encode()).hexdigest()[:8]


def tx_id(bank_account_id: str, booking_date: str, dedup_hash: str) -> str:
    """A transaction id, shaped like a UUID (8-4-4-4-12 hex): the account's tag, the booking month
    (year * 12 + month - 1) and the transaction's duplicate hash. Deterministic, so every attempt of an
    import gives a row the same id, and it says where the transaction is stored."""
    month = int(booking_date[:4]) * 12 + int(booking_date[5:7]) - 1
    h = dedup_hash
    return f"{account_tag(bank_account_id)}-{month:04x}-{h[:4]}-{h[4:8]}-{h[8:DEDUP_LEN]}"


def dedup_hash(tx_id_: str) -> str:
    """The duplicate hash inside a transaction id (``tx_id``)."""
    return tx_id_[14:18] + tx_id_[19:23] + tx_id_[24:]


def parse_tx_id(value: str) -> tuple[str, str, str] | None:
    """(account tag, YYYY-MM, duplicate hash) of a transaction id, or None if it is not one."""
    if len(value) != 36 or value[8] != "-" or value[13] != "-" or value[18] != "-" or value[23] != "-":
        return None
    compact = value.replace("-", "")
    if len(compact) != 32 or not set(compact) <= _HEX:
        return None
    year, month = divmod(int(value[9:13], 16), 12)
    return value[:8], f"{year:04d}-{month + 1:02d}", value[14:18] + value[19:23] + value[24:]


@dataclass
class PageInfo:
    """What the duplicate check reads of a page (no rows)."""

    month: str
    number: int
    batch_id: str
    hashes: str  # DEDUP_LEN hex per row
    rows: int
    total: Decimal
    unreconciled: int
    last_date: str  # the latest booking date of its rows

    def hash_list(self) -> list[str]:
        return [self.hashes[i : i + DEDUP_LEN] for i in range(0, len(self.hashes), DEDUP_LEN)]


def _page_info(month: str, item: dict[str, Any]) -> PageInfo:
    return PageInfo(month, int(item["SK"]["S"][2:]), item["b"]["S"], item["k"]["S"], int(item["n"]["N"]),
                    Decimal(item["tot"]["N"]), item["st"]["S"].count("u"), item["hi"]["S"])


def _query_month(tenant_id: str, bank_account_id: str, month: str,
                 projection: str | None = None) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "TableName": config.table_name(), "ConsistentRead": True,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
        "ExpressionAttributeValues": {":pk": _s(tx_pk(tenant_id, bank_account_id, month)), ":p": _s("P#")}}
    if projection:
        kwargs["ProjectionExpression"] = projection
    out: list[dict[str, Any]] = []
    while True:
        resp = ddb().query(**kwargs)
        out.extend(resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            return out
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def month_pages(tenant_id: str, bank_account_id: str, months: Iterable[str]) -> list[PageInfo]:
    """The pages of these months of an account, without their rows (one Query per month)."""
    return [_page_info(month, item) for month in months
            for item in _query_month(tenant_id, bank_account_id, month, _PAGE_META)]


_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder, not one per dumps()


def _row_json(tx: dict[str, Any]) -> str:
    return _ROW_ENCODER.encode([str(tx["amount"]) if f == "amount" else tx.get(f) for f in ROW_FIELDS])


def build_pages(tenant_id: str, bank_account_id: str, month: str, first_number: int, txs: list[dict[str, Any]],
                *, batch_id: str, document_id: str | None, created_at: str, currency: str,
                page_bytes: int | None = None) -> list[tuple[dict[str, Any], PageInfo]]:
    """New page items (and what they count) for one month's new transactions, numbered from
    ``first_number``, each at most ``page_bytes`` (d + k + st; a row larger than that gets a page of
    its own). Rows in (booking date, id) order."""
    limit = page_bytes or PAGE_BYTES
    pages: list[tuple[dict[str, Any], PageInfo]] = []
    chunk: list[tuple[dict[str, Any], str]] = []
    size = 2

    def flush() -> None:
        number = first_number + len(pages)
        hashes = "".join(dedup_hash(tx["id"]) for tx, _ in chunk)
        total = sum((tx["amount"] for tx, _ in chunk if tx["currency"] == currency), Decimal(0))
        item = {"PK": _s(tx_pk(tenant_id, bank_account_id, month)), "SK": _s(page_sk(number)),
                "v": {"N": "0"}, "b": _s(batch_id), "ca": _s(created_at), "n": {"N": str(len(chunk))},
                "tot": {"N": str(total)}, "hi": _s(chunk[-1][0]["booking_date"]), "k": _s(hashes),
                "st": _s("u" * len(chunk)),
                "d": {"B": zlib.compress(("[" + ",".join(encoded for _, encoded in chunk) + "]").encode(), 1)}}
        if document_id:
            item["doc"] = _s(document_id)
        pages.append((item, PageInfo(month, number, batch_id, hashes, len(chunk), total, len(chunk),
                                     chunk[-1][0]["booking_date"])))

    for tx in sorted(txs, key=lambda t: (t["booking_date"], t["id"])):
        encoded = _row_json(tx)
        cost = len(encoded.encode()) + 1 + DEDUP_LEN + 1  # the row, its comma, its hash, its status
        if chunk and size + cost > limit:
            flush()
            chunk, size = [], 2
        chunk.append((tx, encoded))
        size += cost
    if chunk:
        flush()
    return pages


def put_pages(items: list[dict[str, Any]], threads: int = 1, guard: Callable[[], None] | None = None) -> None:
    """Write new pages, each with a conditional PutItem: a page is never overwritten (it may have been
    reconciled since; a stale import that lost its lease cannot clobber the next holder's page).
    ``guard`` runs before every write (the import lease's expiry check)."""
    table = config.table_name()

    def put(item: dict[str, Any]) -> None:
        if guard is not None:
            guard()
        ddb().put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(PK)")

    if threads > 1 and len(items) > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(put, items))  # list(): re-raises the first failure
    else:
        for item in items:
            put(item)


def take_over_page(tenant_id: str, bank_account_id: str, month: str, number: int, dead_batch: str,
                   batch_id: str) -> bool:
    """Move a page written by an import batch that died before counting it to ``batch_id``."""
    try:
        ddb().update_item(TableName=config.table_name(),
                           Key={"PK": _s(tx_pk(tenant_id, bank_account_id, month)), "SK": _s(page_sk(number))},
                           UpdateExpression="SET b = :new", ConditionExpression="b = :old",
                           ExpressionAttributeValues={":new": _s(batch_id), ":old": _s(dead_batch)})
        return True
    except ddb().exceptions.ConditionalCheckFailedException:
        return False


def _page_rows(item: dict[str, Any]) -> list[list[Any]]:
    """A page's rows as stored (arrays in ROW_FIELDS order)."""
    d = item["d"]
    return json.loads(zlib.decompress(d["B"]) if "B" in d else d["S"])  # type: ignore[no-any-return]


def _rows_of(bank_account_id: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    statuses = item["st"]["S"]
    batch, created = item["b"]["S"], item["ca"]["S"]
    document = item["doc"]["S"] if "doc" in item else None
    out = []
    for i, values in enumerate(_page_rows(item)):
        tx = dict(zip(ROW_FIELDS, values, strict=True))
        tx.update(amount=Decimal(tx["amount"]), bank_account_id=bank_account_id, status=_STATUS_NAMES[statuses[i]],
                  batch_id=batch, document_id=document, created_at=created)
        out.append(tx)
    return out


def _accounts_tagged(tenant_id: str, tag: str) -> list[str]:
    resp = ddb().query(TableName=config.table_name(), ConsistentRead=True, ProjectionExpression="SK",
                        KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": _s(account_pk(tenant_id))})
    items = resp.get("Items", [])
    while "LastEvaluatedKey" in resp:
        resp = ddb().query(TableName=config.table_name(), ConsistentRead=True, ProjectionExpression="SK",
                            KeyConditionExpression="PK = :pk", ExclusiveStartKey=resp["LastEvaluatedKey"],
                            ExpressionAttributeValues={":pk": _s(account_pk(tenant_id))})
        items.extend(resp.get("Items", []))
    return [i["SK"]["S"] for i in items if account_tag(i["SK"]["S"]) == tag]


def _locate(tenant_id: str, tx_id_: str) -> tuple[str, str, int, int] | None:
    """(bank account id, month, page number, row index) of a transaction, or None: the id names the
    account (by its tag) and the month; the month's duplicate hashes (k, a projection) name the page."""
    parsed = parse_tx_id(tx_id_)
    if parsed is None:
        return None
    tag, month, h = parsed
    for account_id in _accounts_tagged(tenant_id, tag):
        for item in _query_month(tenant_id, account_id, month, "SK, k"):
            hashes = item["k"]["S"]
            at = hashes.find(h)
            while at >= 0 and at % DEDUP_LEN:
                at = hashes.find(h, at + 1)
            if at >= 0:
                return account_id, month, int(item["SK"]["S"][2:]), at // DEDUP_LEN
    return None


def _get_page(tenant_id: str, bank_account_id: str, month: str, number: int,
              projection: str | None = None) -> dict[str, Any] | None:
    kwargs: dict[str, Any] = {"TableName": config.table_name(), "ConsistentRead": True,
                              "Key": {"PK": _s(tx_pk(tenant_id, bank_account_id, month)), "SK": _s(page_sk(number))}}
    if projection:
        kwargs["ProjectionExpression"] = projection
    return ddb().get_item(**kwargs).get("Item")  # type: ignore[no-any-return]


def get_transaction(tenant_id: str, tx_id_: str) -> dict[str, Any] | None:
    """A transaction by id: strongly consistent (found right after its import), no index."""
    where = _locate(tenant_id, tx_id_)
    if where is None:
        return None
    account_id, month, number, index = where
    item = _get_page(tenant_id, account_id, month, number)
    return _rows_of(account_id, item)[index] if item else None


class StatusMismatch(Exception):
    """The transaction's status is not the one the caller expected (it changed meanwhile)."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the transaction is {status}")
        self.status = status


def set_status(tenant_id: str, tx_id_: str, status: str, expected: str | None = None,
               attempts: int = 20) -> tuple[str, str] | None:
    """Change one transaction's status inside its page: read the page's statuses and version, write
    the new status string with an UpdateItem conditional on the version (another status change of the
    same page in between → read again and retry). Returns (bank account id, previous status), None
    when the transaction does not exist; raises StatusMismatch when ``expected`` is given and the
    transaction's status is another."""
    if status not in STATUS_CODES:
        raise ValueError(f"unknown status {status!r}")
    where = _locate(tenant_id, tx_id_)
    if where is None:
        return None
    account_id, month, number, index = where
    key = {"PK": _s(tx_pk(tenant_id, account_id, month)), "SK": _s(page_sk(number))}
    for attempt in range(attempts):
        item = _get_page(tenant_id, account_id, month, number, "v, st")
        if item is None:
            return None
        version, statuses = item["v"]["N"], item["st"]["S"]
        before = _STATUS_NAMES[statuses[index]]
        if expected is not None and before != expected:
            raise StatusMismatch(before)
        if before == status:
            return account_id, before
        new = statuses[:index] + STATUS_CODES[status] + statuses[index + 1 :]
        try:
            ddb().update_item(TableName=config.table_name(), Key=key,
                               UpdateExpression="SET st = :st, v = :next", ConditionExpression="v = :v",
                               ExpressionAttributeValues={":st": _s(new), ":v": {"N": version},
                                                          ":next": {"N": str(int(version) + 1)}})
            return account_id, before
        except ddb().exceptions.ConditionalCheckFailedException:
            time.sleep(min(0.2, 0.005 * 2 ** attempt))
    raise RuntimeError(f"status of bank transaction {tx_id_} not changed: its page kept changing")


def month_transactions(tenant_id: str, bank_account_id: str, month: str, start: str | None = None,
                       end: str | None = None, amounts_only: bool = False, newest_first: bool = False,
                       limit: int | None = None) -> list[dict[str, Any]]:
    """One month of an account (its pages, one paged Query) in (booking date, id) order, optionally
    limited to booking dates start..end (inclusive) and to the first ``limit``."""
    if amounts_only:
        out: list[dict[str, Any]] = []
        for item in _query_month(tenant_id, bank_account_id, month, "d"):
            for values in _page_rows(item):
                out.append({"booking_date": values[1], "amount": Decimal(values[3]), "currency": values[4]})
        return out
    def within(tx: dict[str, Any]) -> bool:
        return (start is None or tx["booking_date"] >= start) and (end is None or tx["booking_date"] <= end)

    if limit is not None and newest_first:
        return _newest(tenant_id, bank_account_id, month, within, start, limit)
    txs = [tx for item in _query_month(tenant_id, bank_account_id, month) for tx in _rows_of(bank_account_id, item)
           if within(tx)]
    txs.sort(key=lambda t: (t["booking_date"], t["id"]), reverse=newest_first)
    return txs if limit is None else txs[:limit]


def _newest(tenant_id: str, bank_account_id: str, month: str, within: Callable[[dict[str, Any]], bool],
            start: str | None, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` transactions of a month (a page of a listing): reads the pages' latest
    booking dates (projected Query) and then only the pages, latest first, that can still hold one
    of them — a page whose latest date is before the limit-th newest row found so far cannot."""
    heads = sorted(((item["hi"]["S"], int(item["SK"]["S"][2:]))
                    for item in _query_month(tenant_id, bank_account_id, month, "SK, hi")), reverse=True)
    found: list[dict[str, Any]] = []
    for latest, number in heads:
        if start is not None and latest < start:
            break  # this page and every later one end before the range
        if len(found) >= limit and latest < found[limit - 1]["booking_date"]:
            break
        item = _get_page(tenant_id, bank_account_id, month, number)
        if item is not None:
            found.extend(tx for tx in _rows_of(bank_account_id, item) if within(tx))
            found.sort(key=lambda t: (t["booking_date"], t["id"]), reverse=True)
    return found[:limit]


def count_month(tenant_id: str, bank_account_id: str, month: str, start: str | None, end: str | None) -> int:
    return sum(1 for tx in month_transactions(tenant_id, bank_account_id, month, amounts_only=True)
               if (start is None or tx["booking_date"] >= start) and (end is None or tx["booking_date"] <= end))


# ------------------------------------------------------------------------------------- counters
class LeaseLost(Exception):
    """The import lease expired (and may have been taken over) before the import was counted."""


def apply_batch(tenant_id: str, bank_account_id: str, batch_id: str, count: int,
                month_totals: dict[str, Decimal], month_counts: dict[str, int], now: str,
                lease_token: str | None = None, unreconciled: int | None = None) -> bool:
    """Add an import batch's transactions to the account's counters and month totals, once: the
    batch id goes into ``counted_batches`` in the same UpdateItem, whose condition refuses a second
    time (False). (The import marks the batch completed next and then drops the id again.) With
    ``lease_token`` the update also requires the import lease to be still ours, else LeaseLost: a
    holder whose lease expired must not count what the next holder may have taken over."""
    names: dict[str, str] = {"#mt": "month_totals", "#mc": "month_counts"}
    fresh = count if unreconciled is None else unreconciled
    values: dict[str, Any] = {":n": {"N": str(count)}, ":u": {"N": str(fresh)}, ":b": {"SS": [batch_id]},
                              ":bid": _s(batch_id), ":zero": {"N": "0"}, ":now": _s(now)}
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
            ddb().update_item(
                TableName=config.table_name(), Key=key,
                UpdateExpression="ADD tx_count :n, unreconciled_count :u, counted_batches :b SET " + ", ".join(sets),
                ConditionExpression=condition, ExpressionAttributeNames=names, ExpressionAttributeValues=values)
            return True
        except ddb().exceptions.ConditionalCheckFailedException:
            if lease_token is not None:
                current = get_account(tenant_id, bank_account_id, consistent=True)
                if current is None or current.import_lease != lease_token:
                    raise LeaseLost(f"import lease of bank account {bank_account_id} lost") from None
            return False
        except ddb().exceptions.ClientError as ex:
            # A nested SET needs its map to exist: accounts stored before month_counts existed get it
            # once (a map cannot be created and written into in one expression).
            if attempt or ex.response.get("Error", {}).get("Code") != "ValidationException":
                raise
            ddb().update_item(TableName=config.table_name(), Key=key,
                               UpdateExpression="SET #mt = if_not_exists(#mt, :e), #mc = if_not_exists(#mc, :e)",
                               ConditionExpression="attribute_exists(PK)",
                               ExpressionAttributeNames={"#mt": "month_totals", "#mc": "month_counts"},
                               ExpressionAttributeValues={":e": {"M": {}}})
    return False


def add_unreconciled(tenant_id: str, bank_account_id: str, delta: int) -> None:
    """Move the account's unreconciled counter after a status change (``set_status``)."""
    ddb().update_item(TableName=config.table_name(),
                       Key={"PK": _s(account_pk(tenant_id)), "SK": _s(bank_account_id)},
                       UpdateExpression="ADD unreconciled_count :d", ConditionExpression="attribute_exists(PK)",
                       ExpressionAttributeValues={":d": {"N": str(delta)}})


def forget_counted(tenant_id: str, bank_account_id: str, batch_id: str) -> None:
    ddb().update_item(TableName=config.table_name(),
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
        ddb().update_item(TableName=config.table_name(),
                           Key={"PK": _s(account_pk(tenant_id)), "SK": _s(bank_account_id)},
                           UpdateExpression="SET " + ", ".join(sets),
                           ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(#a) OR #a <= :d)",
                           ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    except ddb().exceptions.ConditionalCheckFailedException:
        pass
