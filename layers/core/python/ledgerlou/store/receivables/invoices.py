"""Invoices and open items (side ``AR`` = outgoing, ``AP`` = incoming): projections of the journal.

Every item here is written by the receivables projector only (domain/receivables/projection.py), in
journal order, from the facts the journal records (an invoice booked or linked, a settlement, a
reversal, a due-date change); the API never writes them directly.

Access patterns (README "Access patterns"):

* invoice (state)         PK=T#<t>#INVOICE#<side>                 SK=<invoice id>     GetItem; Put/Update
                                                                                     conditional on applied_seq
* invoices of a month     PK=T#<t>#INVMONTH#<side>#<YYYY-MM>      SK=<date>#<id>      Query (list by month)
* invoices of a partner   PK=T#<t>#INVPARTNER#<side>#<partner>    SK=<date>#<id>      Query (list by partner)
* open items of a due day PK=T#<t>#OPENDAY#<side>                 SK=<YYYY-MM-DD>     BatchGetItem; UpdateItem
                          ADD / DELETE of the string set ``ids`` (idempotent, no read; a block's
                          days in TransactWriteItems of 100)
* calendar                PK=T#<t>#INVCAL                         SK=<side>           GetItem: open items per
                          due day, invoices per month (read, merge, conditional Put per block)
* invoice number taken    PK=T#<t>#INVNO#<side>[#<vendor>]        SK=<number>         GetItem (the booking's
                                                                                     race-safe check); Put
* intent → invoice        PK=T#<t>#INVLINK                        SK=<intent id>      GetItem; Put
* linked bookings' numbers PK=T#<t>#INVNUMBERS                    SK=<YYYY-MM>        BatchGetItem (DATEV
                          export: Belegfeld 1 of a linked booking); UpdateItem SET i_<intent id> = number

The open-items list reads no partition at all: the calendar (GetItem) says which due days hold open
items and how many, one BatchGetItem reads the id sets of the days the page needs, one more the
invoices of the page — three calls however many invoices the tenant has (moto's Query walks the whole
table on every call; on DynamoDB a Query costs what it reads, but these reads do not need one). The
calendar's counts are applied once per journal block (``applied_seq``), like the partners' open
amounts. The lists by month and by partner are Queries of their partitions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from ledgerlou import config
from ledgerlou.store.base import TableModel, ddb, tenant_pk, transact_each
from ledgerlou.store.chart import tax_codes as tax_code_store
from ledgerlou.store.receivables import partners as partner_store


class InvoiceItem(TableModel):
    data = UnicodeAttribute()  # JSON of the invoice state (domain/receivables/open_items.py)
    applied_seq = NumberAttribute()


class InvoiceRowItem(TableModel):
    """A list row (month or partner partition): the state as of its last change."""

    data = UnicodeAttribute()


class OpenDayItem(TableModel):
    ids = UnicodeSetAttribute(null=True)  # invoice ids open on this due day


class CalendarItem(TableModel):
    open_days = UnicodeAttribute(null=True)  # JSON {"2026-02-14": 3, …}: open items per due day
    months = UnicodeAttribute(null=True)  # JSON {"2026-01": 120, …}: invoices per invoice month
    applied_seq = NumberAttribute(null=True)


class ClaimItem(TableModel):
    invoice_id = UnicodeAttribute()
    side = UnicodeAttribute(null=True)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------------------------------- keys
def invoice_pk(tenant_id: str, side: str) -> str:
    return tenant_pk(tenant_id, f"INVOICE#{side}")


def month_pk(tenant_id: str, side: str, month: str) -> str:
    return tenant_pk(tenant_id, f"INVMONTH#{side}#{month}")


def partner_rows_pk(tenant_id: str, side: str, partner_id: str) -> str:
    return tenant_pk(tenant_id, f"INVPARTNER#{side}#{partner_id}")


def open_pk(tenant_id: str, side: str) -> str:
    return tenant_pk(tenant_id, f"OPENDAY#{side}")


def number_pk(tenant_id: str, side: str, scope: str | None) -> str:
    return tenant_pk(tenant_id, f"INVNO#{side}" + (f"#{scope}" if scope else ""))


def link_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "INVLINK")


# ------------------------------------------------------------------------------------- invoice state
def get_state(tenant_id: str, side: str, invoice_id: str) -> tuple[dict[str, Any], int] | None:
    try:
        item = InvoiceItem.get(invoice_pk(tenant_id, side), invoice_id, consistent_read=True)
    except DoesNotExist:
        return None
    return json.loads(item.data), int(item.applied_seq)


def put_states(tenant_id: str, writes: list[tuple[str, dict[str, Any], int, int | None]]) -> None:
    """Write each (side, state, seq, previous seq) of a block: the state as of block ``seq``,
    conditional on the state read (``previous seq``) so that a replayed or concurrently projected block
    is applied once. In transactions of 100 (one round trip for a block that settles a hundred
    invoices); each write keeps its own condition — one a concurrent projector was first with is
    dropped, the others are written (store.base.transact_each)."""
    table = config.table_name()
    ops: dict[str, dict[str, Any]] = {}
    for side, state, seq, previous_seq in writes:
        put: dict[str, Any] = {"TableName": table, "Item": {
            "PK": {"S": invoice_pk(tenant_id, side)}, "SK": {"S": state["id"]}, "data": {"S": _dumps(state)},
            "applied_seq": {"N": str(seq)}}}
        if previous_seq is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put.update(ConditionExpression="applied_seq = :prev",
                       ExpressionAttributeValues={":prev": {"N": str(previous_seq)}})
        ops[f"{side}#{state['id']}"] = {"Put": put}
    transact_each(ops, lambda key: None)


def row_sk(state: dict[str, Any]) -> str:
    return f"{state['invoice_date']}#{state['id']}"


def put_derived(tenant_id: str, rows: list[tuple[str, dict[str, Any], dict[str, Any]]],
                number_claims: list[tuple[str, str | None, str, str]], links: list[tuple[str, str, str]]) -> None:
    """The projector's idempotent puts of one block in BatchWriteItems: list rows (side, state, row) in
    the month and the partner partition, number claims (side, scope, number, id), links (intent, side, id)."""
    with InvoiceRowItem.batch_write() as batch:
        for side, state, row in rows:
            data = _dumps(row)
            batch.save(InvoiceRowItem(month_pk(tenant_id, side, state["invoice_date"][:7]), row_sk(state), data=data))
            batch.save(InvoiceRowItem(partner_rows_pk(tenant_id, side, state["partner_id"]), row_sk(state),
                                      data=data))
        for side, scope, number, invoice_id in number_claims:
            batch.save(ClaimItem(number_pk(tenant_id, side, scope), number, invoice_id=invoice_id, side=side))
        for intent_id, side, invoice_id in links:
            batch.save(ClaimItem(link_pk(tenant_id), intent_id, invoice_id=invoice_id, side=side))


def query_rows(pk: str, newest_first: bool = True) -> list[dict[str, Any]]:
    return [json.loads(i.data) for i in InvoiceRowItem.query(pk, consistent_read=True,
                                                             scan_index_forward=not newest_first)]


# ------------------------------------------------------------------------------------- open items
def change_open(tenant_id: str, changes: dict[tuple[str, str], tuple[set[str], set[str]]]) -> None:
    """The invoice ids open on each due day: (side, day) → (ids to add, ids to remove), the block's
    changes grouped per day. Set DELETE / ADD (both idempotent, no condition) in TransactWriteItems of
    100 days (store.base.transact_each): one round trip for a block whose invoices fall due on up to a
    hundred days, where one UpdateItem per day (two when both) was one each. Removals and additions go
    in two rounds, as one update expression may not touch an attribute twice and a transaction may not
    touch an item twice."""
    table = config.table_name()

    def op(side: str, day: str, action: str, ids: set[str]) -> dict[str, Any]:
        return {"Update": {"TableName": table, "Key": {"PK": {"S": open_pk(tenant_id, side)}, "SK": {"S": day}},
                           "UpdateExpression": f"{action} ids :i",
                           "ExpressionAttributeValues": {":i": {"SS": sorted(ids)}}}}

    for action, which in (("DELETE", 1), ("ADD", 0)):
        ops = {f"{side}#{day}": op(side, day, action, sets[which])
               for (side, day), sets in sorted(changes.items()) if sets[which]}
        transact_each(ops, lambda key: None)  # no condition: nothing to fall back from


def open_ids(tenant_id: str, side: str, days: list[str]) -> dict[str, list[str]]:
    """due day → its open invoice ids, sorted (one BatchGetItem per 100 days)."""
    out: dict[str, list[str]] = {day: [] for day in days}
    for item in OpenDayItem.batch_get([(open_pk(tenant_id, side), d) for d in days], consistent_read=True):
        out[item.SK] = sorted(item.ids or ())
    return out


def get_states(tenant_id: str, side: str, invoice_ids: list[str]) -> dict[str, tuple[dict[str, Any], int]]:
    """Several invoices at once (BatchGetItem): id → (state, applied_seq)."""
    keys = [(invoice_pk(tenant_id, side), i) for i in dict.fromkeys(invoice_ids)]
    return {item.SK: (json.loads(item.data), int(item.applied_seq))
            for item in InvoiceItem.batch_get(keys, consistent_read=True)}


def get_calendar(tenant_id: str, side: str) -> tuple[dict[str, int], dict[str, int], int]:
    """(open items per due day, invoices per month, applied_seq)."""
    try:
        item = CalendarItem.get(tenant_pk(tenant_id, "INVCAL"), side, consistent_read=True)
    except DoesNotExist:
        return {}, {}, 0
    return json.loads(item.open_days or "{}"), json.loads(item.months or "{}"), int(item.applied_seq or 0)


def apply_calendar(tenant_id: str, side: str, day_deltas: dict[str, int], month_deltas: dict[str, int],
                   seq: int) -> bool:
    """Add the block's deltas once (read, merge, write conditional on the applied_seq read)."""
    for _ in range(20):
        days, months, applied = get_calendar(tenant_id, side)
        if applied >= seq:
            return False
        for key, delta in day_deltas.items():
            days[key] = days.get(key, 0) + delta
        for key, delta in month_deltas.items():
            months[key] = months.get(key, 0) + delta
        days = {k: v for k, v in sorted(days.items()) if v > 0}
        months = {k: v for k, v in sorted(months.items()) if v > 0}
        item = CalendarItem(tenant_pk(tenant_id, "INVCAL"), side, open_days=_dumps(days), months=_dumps(months),
                            applied_seq=seq)
        cond = CalendarItem.PK.does_not_exist() if applied == 0 else (CalendarItem.applied_seq == applied)
        try:
            item.save(condition=cond)
            return True
        except PutError as ex:
            if ex.cause_response_code != "ConditionalCheckFailedException":
                raise
    raise RuntimeError("calendar update kept losing its condition")


# ------------------------------------------------------------------------------------- claims
def get_number_claim(tenant_id: str, side: str, scope: str | None, number: str) -> str | None:
    try:
        return str(ClaimItem.get(number_pk(tenant_id, side, scope), number, consistent_read=True).invoice_id)
    except DoesNotExist:
        return None


def get_number_claims(tenant_id: str, keys: list[tuple[str, str | None, str]]) -> dict[tuple[str, str | None, str],
                                                                                str]:
    """(side, scope, number) → the invoice id holding it, for those taken (one BatchGetItem per 100)."""
    wanted = {(number_pk(tenant_id, side, scope), number): (side, scope, number) for side, scope, number in keys}
    return {wanted[(item.PK, item.SK)]: str(item.invoice_id)
            for item in ClaimItem.batch_get(list(wanted), consistent_read=True)}


def get_link(tenant_id: str, intent_id: str) -> tuple[str, str] | None:
    """(side, invoice id) of the invoice that an intent books or that links it."""
    try:
        item = ClaimItem.get(link_pk(tenant_id), intent_id, consistent_read=True)
    except DoesNotExist:
        return None
    return str(item.side), str(item.invoice_id)


def get_links(tenant_id: str, intent_ids: list[str]) -> dict[str, tuple[str, str]]:
    """``get_link`` for many intents at once (BatchGetItem): intent id → (side, invoice id)."""
    keys = [(link_pk(tenant_id), i) for i in dict.fromkeys(intent_ids)]
    return {str(item.SK): (str(item.side), str(item.invoice_id))
            for item in ClaimItem.batch_get(keys, consistent_read=True)}


@dataclass
class InvoiceReads:
    partner: partner_store.PartnerItem | None
    tax_codes: dict[str, tax_code_store.TaxCodeItem]  # those of the lines that exist


def read_for_invoice(tenant_id: str, side: str, partner_id: str, tax_codes: list[str]) -> InvoiceReads:
    """What a new invoice reads before its booking, in one BatchGetItem: its partner and its lines' tax
    codes. (The number's claim is read inside the journal append: it must be at least as new as the
    writer's watermark, which a read before the append cannot promise.)"""
    keys = {"partner": (partner_store.partner_pk(tenant_id, side), partner_id)}
    code_pk = tax_code_store._pk(tenant_id)  # the tax-code store's key, read in the same batch
    # BatchGetItem takes 100 keys: codes beyond the first 99 distinct ones are read on demand by the caller
    keys.update({f"code:{code}": (code_pk, code) for code in list(dict.fromkeys(tax_codes))[:99]})
    wanted = [{"PK": {"S": pk}, "SK": {"S": sk}} for pk, sk in keys.values()]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    request: dict[str, Any] = {config.table_name(): {"Keys": wanted, "ConsistentRead": True}}
    for _ in range(10):
        resp = ddb().batch_get_item(RequestItems=request)
        for item in resp.get("Responses", {}).get(config.table_name(), []):
            found[(item["PK"]["S"], item["SK"]["S"])] = item
        request = resp.get("UnprocessedKeys") or {}
        if not request:
            break
    else:
        raise RuntimeError("BatchGetItem left keys unprocessed ten times")
    raw_partner = found.get(keys["partner"])
    codes = {name[5:]: tax_code_store.TaxCodeItem.from_raw_data(found[key]) for name, key in keys.items()
             if name.startswith("code:") and key in found}
    return InvoiceReads(partner_store.PartnerItem.from_raw_data(raw_partner) if raw_partner else None, codes)


def add_linked_numbers(tenant_id: str, month: str, numbers: dict[str, str]) -> None:
    """Invoice numbers of bookings dated in ``month`` that an invoice links (SET is idempotent)."""
    names = {f"#i{n}": f"i_{intent_id}" for n, intent_id in enumerate(numbers)}
    values = {f":n{n}": {"S": number} for n, number in enumerate(numbers.values())}
    ddb().update_item(TableName=config.table_name(),
                      Key={"PK": {"S": tenant_pk(tenant_id, "INVNUMBERS")}, "SK": {"S": month}},
                      UpdateExpression="SET " + ", ".join(f"#i{n} = :n{n}" for n in range(len(numbers))),
                      ExpressionAttributeNames=names, ExpressionAttributeValues=values)


def linked_numbers(tenant_id: str, months: list[str]) -> dict[str, str]:
    """intent id → invoice number of the linked bookings dated in ``months`` (BatchGetItem per 100)."""
    out: dict[str, str] = {}
    pk = tenant_pk(tenant_id, "INVNUMBERS")
    for i in range(0, len(months), 100):
        request: dict[str, Any] = {config.table_name(): {
            "Keys": [{"PK": {"S": pk}, "SK": {"S": m}} for m in months[i: i + 100]], "ConsistentRead": True}}
        while request:
            resp = ddb().batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(config.table_name(), []):
                out.update((k[2:], v["S"]) for k, v in item.items() if k.startswith("i_"))
            request = resp.get("UnprocessedKeys") or {}
    return out
