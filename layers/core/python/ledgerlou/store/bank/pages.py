"""Bank transactions, packed into page items per bank account and booking month (layout below)."""


import json
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlou import config
from ledgerlou.store.bank.accounts import _s, account_pk
from ledgerlou.store.bank.txids import DEDUP_LEN, account_tag, dedup_hash, parse_tx_id
from ledgerlou.store.base import ddb, tenant_pk


def tx_pk(tenant_id: str, bank_account_id: str, month: str) -> str:
    return tenant_pk(tenant_id, f"BANKTX#{bank_account_id}#{month}")



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
# its size (docs/architecture.md "Bank import"), and on DynamoDB a 64 KB page is 64 write units against ~250 one-KB
# items. The price: a status change rewrites its page (up to PAGE_BYTES of write units on DynamoDB).
# Transaction ids carry their location (``tx_id``), so a GET by id needs no pointer item and no GSI.
PAGE_BYTES = 64_000  # a page's size (d uncompressed + k + st); DynamoDB allows 400 KB per item: ample headroom


ROW_FIELDS = ("id", "booking_date", "value_date", "amount", "currency", "counterparty_name", "counterparty_iban",
              "counterparty_bic", "purpose", "end_to_end_id", "mandate_id", "creditor_id", "bank_reference")
STATUS_CODES = {"unreconciled": "u", "reconciled": "r", "dismissed": "d"}
_STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
_PAGE_META = "SK, b, k, n, tot, st, hi"  # what the duplicate check reads of a page




def page_sk(number: int) -> str:
    return f"P#{number:05d}"




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

    def __init__(self, status: str, change: int | None = None) -> None:
        super().__init__(f"the transaction is {status}")
        self.status = status
        self.change = change  # change_statuses: the index of the change it refused


# ------------------------------------------------------------------------ status changes in one transaction
@dataclass(frozen=True)
class Location:
    """Where a transaction is stored: its account, month partition, page and row."""

    bank_account_id: str
    month: str
    page: int
    index: int


def locate(tenant_id: str, tx_id_: str) -> Location | None:
    where = _locate(tenant_id, tx_id_)
    return Location(*where) if where else None


def locate_many(tenant_id: str, tx_ids: list[str]) -> dict[str, Location]:
    """``locate`` for many transactions: one Query of the account items per account tag and one
    projected Query per (account, month), however many of the ids they hold (a batch reconcile)."""
    wanted: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for tx_id_ in tx_ids:
        parsed = parse_tx_id(tx_id_)
        if parsed is not None:
            wanted.setdefault((parsed[0], parsed[1]), []).append((tx_id_, parsed[2]))
    tagged: dict[str, list[str]] = {}
    out: dict[str, Location] = {}
    for (tag, month), ids in wanted.items():
        if tag not in tagged:
            tagged[tag] = _accounts_tagged(tenant_id, tag)
        for account_id in tagged[tag]:
            for item in _query_month(tenant_id, account_id, month, "SK, k"):
                hashes = item["k"]["S"]
                for tx_id_, h in ids:
                    at = hashes.find(h)
                    while at >= 0 and at % DEDUP_LEN:
                        at = hashes.find(h, at + 1)
                    if at >= 0 and tx_id_ not in out:
                        out[tx_id_] = Location(account_id, month, int(item["SK"]["S"][2:]), at // DEDUP_LEN)
    return out


def get_many_at(tenant_id: str, wheres: list[Location]) -> dict[Location, dict[str, Any]]:
    """The transactions at these locations, each page read once (BatchGetItem)."""
    keys = sorted({(w.bank_account_id, w.month, w.page) for w in wheres})
    table = config.table_name()
    found: dict[tuple[str, str, int], dict[str, Any]] = {}
    for i in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"ConsistentRead": True, "Keys": [
            {"PK": _s(tx_pk(tenant_id, a, m)), "SK": _s(page_sk(n))} for a, m, n in keys[i : i + 100]]}}
        while request:
            resp = ddb().batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(table, []):
                pk = item["PK"]["S"]
                for a, m, n in keys[i : i + 100]:
                    if pk == tx_pk(tenant_id, a, m) and item["SK"]["S"] == page_sk(n):
                        found[(a, m, n)] = item
            request = resp.get("UnprocessedKeys") or {}
    rows: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    out: dict[Location, dict[str, Any]] = {}
    for w in wheres:
        key = (w.bank_account_id, w.month, w.page)
        if key in found:
            if key not in rows:
                rows[key] = _rows_of(w.bank_account_id, found[key])
            out[w] = rows[key][w.index]
    return out


def get_at(tenant_id: str, where: Location) -> dict[str, Any] | None:
    item = _get_page(tenant_id, where.bank_account_id, where.month, where.page)
    return _rows_of(where.bank_account_id, item)[where.index] if item else None


@dataclass
class StatusChange:
    """One transaction's status change and the writes that must happen with it (TransactWriteItems
    operations with their own conditions: a match record, a link). ``expected``: its status before."""

    where: Location
    status: str
    expected: str
    extra: list[dict[str, Any]]


class ExtraConditionFailed(Exception):
    """A change's own writes were refused (their condition did not hold): e.g. another request
    claimed the transaction first. ``failed`` = the indexes of the refused changes."""

    def __init__(self, failed: list[int]) -> None:
        super().__init__(f"changes {failed} refused")
        self.failed = failed


MAX_TRANSACT_ITEMS = 100  # DynamoDB's limit of operations per TransactWriteItems


def change_statuses(tenant_id: str, changes: list[StatusChange], attempts: int = 20) -> None:
    """Apply status changes with their writes in ONE TransactWriteItems: every touched page's status
    string (conditional on its version), each account's ``unreconciled_count`` (ADD) and the changes'
    own operations — all or none. So the page, the counter and the match record can never disagree,
    whatever crashes (the old page-then-counter pair had a window in which a crash left the counter
    off by one). A page changed meanwhile (another transaction of it) → read again and retry; a
    transaction whose status is not ``expected`` → StatusMismatch; a change's own condition refused →
    ExtraConditionFailed naming the changes. Callers keep a call ≤ MAX_TRANSACT_ITEMS operations."""
    if not changes:
        return
    table = config.table_name()
    pages = sorted({(c.where.bank_account_id, c.where.month, c.where.page) for c in changes})
    # which accounts keep per-month open counts (accounts.BankAccountItem.month_open)
    with_months = {a for a in {c.where.bank_account_id for c in changes} if "month_open" in (ddb().get_item(
        TableName=table, Key={"PK": _s(account_pk(tenant_id)), "SK": _s(a)}, ConsistentRead=True,
        ProjectionExpression="month_open").get("Item") or {})}
    for attempt in range(attempts):
        items: list[dict[str, Any]] = []
        owners: list[int | None] = []  # which change each operation belongs to (None: page / counter)
        deltas: dict[str, int] = {}
        per_month: dict[str, dict[str, int]] = {}
        dismissed: dict[str, int] = {}
        for account_id, month, number in pages:
            page = _get_page(tenant_id, account_id, month, number, "v, st")
            if page is None:
                raise ValueError(f"page {account_id}/{month}/{number} vanished")
            version, statuses = page["v"]["N"], list(page["st"]["S"])
            for i, c in enumerate(changes):
                if (c.where.bank_account_id, c.where.month, c.where.page) != (account_id, month, number):
                    continue
                before = _STATUS_NAMES[statuses[c.where.index]]
                if before != c.expected:
                    raise StatusMismatch(before, i)
                statuses[c.where.index] = STATUS_CODES[c.status]
                delta = (c.status == "unreconciled") - (c.expected == "unreconciled")
                deltas[account_id] = deltas.get(account_id, 0) + delta
                months = per_month.setdefault(account_id, {})
                months[month] = months.get(month, 0) + delta
                dismissed[account_id] = dismissed.get(account_id, 0) + (c.status == "dismissed") - (
                    c.expected == "dismissed")
            items.append({"Update": {
                "TableName": table, "Key": {"PK": _s(tx_pk(tenant_id, account_id, month)), "SK": _s(page_sk(number))},
                "UpdateExpression": "SET st = :st, v = :next", "ConditionExpression": "v = :v",
                "ExpressionAttributeValues": {":st": _s("".join(statuses)), ":v": {"N": version},
                                              ":next": {"N": str(int(version) + 1)}}}})
            owners.append(None)
        for account_id in sorted(deltas):
            adds, sets = [], []
            names: dict[str, str] = {}
            values: dict[str, Any] = {}
            if deltas[account_id]:
                adds.append("unreconciled_count :d")
                values[":d"] = {"N": str(deltas[account_id])}
            if account_id in with_months:
                if dismissed[account_id]:
                    adds.append("dismissed_count :x")
                    values[":x"] = {"N": str(dismissed[account_id])}
                for j, (month, n) in enumerate(sorted(per_month[account_id].items())):
                    if n:
                        names["#mo"], names[f"#m{j}"] = "month_open", month
                        values[f":m{j}"], values[":zero"] = {"N": str(n)}, {"N": "0"}
                        sets.append(f"#mo.#m{j} = if_not_exists(#mo.#m{j}, :zero) + :m{j}")
            if not adds and not sets:
                continue
            update = {"TableName": table, "Key": {"PK": _s(account_pk(tenant_id)), "SK": _s(account_id)},
                      "UpdateExpression": " ".join(p for p in ("ADD " + ", ".join(adds) if adds else "",
                                                               "SET " + ", ".join(sets) if sets else "") if p),
                      "ConditionExpression": "attribute_exists(PK)", "ExpressionAttributeValues": values}
            if names:
                update["ExpressionAttributeNames"] = names
            items.append({"Update": update})
            owners.append(None)
        for i, c in enumerate(changes):
            for op in c.extra:
                items.append(op)
                owners.append(i)
        if len(items) > MAX_TRANSACT_ITEMS:
            raise ValueError(f"{len(items)} operations exceed one transaction")
        try:
            ddb().transact_write_items(TransactItems=items)
            return
        except ddb().exceptions.TransactionCanceledException as ex:
            reasons = ex.response.get("CancellationReasons") or []
            failed = sorted({owner for k, r in enumerate(reasons)
                             if r.get("Code") == "ConditionalCheckFailed" and k < len(owners)
                             and (owner := owners[k]) is not None})
            if failed:
                raise ExtraConditionFailed(failed) from None
            # a page changed under us (another status change of it), or a transaction conflict: again
            time.sleep(min(0.2, 0.005 * 2 ** attempt))
    raise RuntimeError("bank transaction status not changed: its pages kept changing")


def status_counts(tenant_id: str, bank_account_id: str, months: Iterable[str]) -> dict[str, int]:
    """How many transactions of an account are in each status (the pages' status strings only)."""
    out = dict.fromkeys(STATUS_CODES, 0)
    for month in months:
        for item in _query_month(tenant_id, bank_account_id, month, "st"):
            for name, code in STATUS_CODES.items():
                out[name] += item["st"]["S"].count(code)
    return out


def open_transactions(tenant_id: str, bank_account_id: str, months: Iterable[str]) -> list[dict[str, Any]]:
    """The unreconciled transactions of an account: reads the status strings, then only the pages
    that hold an unreconciled one."""
    out: list[dict[str, Any]] = []
    for month in months:
        for head in _query_month(tenant_id, bank_account_id, month, "SK, st"):
            if "u" not in head["st"]["S"]:
                continue
            item = _get_page(tenant_id, bank_account_id, month, int(head["SK"]["S"][2:]))
            if item is not None:
                out.extend(tx for tx in _rows_of(bank_account_id, item) if tx["status"] == "unreconciled")
    out.sort(key=lambda t: (t["booking_date"], t["id"]))
    return out


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
