"""Invoices and open items (side ``AR`` = outgoing, ``AP`` = incoming): projections of the journal.

Every item here is written by the receivables projector only (domain/receivables/projection.py), in
journal order, from the facts the journal records (an invoice booked or linked, a settlement, a
reversal, a due-date change); the API never writes them directly.

Access patterns (README "Access patterns"):

* invoice (state)         PK=T#<t>#INVOICE#<side>                 SK=<invoice id>     GetItem; Put/Update
                                                                                     conditional on applied_seq
* invoices of a month     PK=T#<t>#INVMONTH#<side>#<YYYY-MM>      SK=<date>#<id>      Query (list by month)
* invoices of a partner   PK=T#<t>#INVPARTNER#<side>#<partner>    SK=<date>#<id>      Query (list by partner)
* open items of a due day PK=T#<t>#OPENITEM#<side>#<YYYY-MM-DD>   SK=<id>             Query; Put / Delete
* calendar                PK=T#<t>#INVCAL                         SK=<side>           GetItem: open items per
                          due day, invoices per month, open count (guarded UpdateItem per block)
* invoice number taken    PK=T#<t>#INVNO#<side>[#<vendor>]        SK=<number>         GetItem (the booking's
                                                                                     race-safe check); Put
* intent → invoice        PK=T#<t>#INVLINK                        SK=<intent id>      GetItem; Put

Open items are partitioned per due day and the calendar names the days that hold any, so the first
page of the open-items list reads one small item and the first day partitions, however many invoices
the tenant has (moto's Query walks a whole partition: PITFALLS.md). The calendar's counts are applied
once per journal block (``applied_seq``), like the partners' open amounts.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from ledgerlou.store.base import TableModel, tenant_pk


class InvoiceItem(TableModel):
    data = UnicodeAttribute()  # JSON of the invoice state (domain/receivables/open_items.py)
    applied_seq = NumberAttribute()


class InvoiceRowItem(TableModel):
    """A list row (month or partner partition): the state as of its last change."""

    data = UnicodeAttribute()


class OpenItemRow(TableModel):
    data = UnicodeAttribute()


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


def open_pk(tenant_id: str, side: str, due_date: str) -> str:
    return tenant_pk(tenant_id, f"OPENITEM#{side}#{due_date}")


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


def put_state(tenant_id: str, side: str, state: dict[str, Any], seq: int, previous_seq: int | None) -> bool:
    """Write the state as of block ``seq``; conditional on the state read (``previous_seq``) so that a
    replayed or concurrently projected block is applied once. False if another projector was first."""
    item = InvoiceItem(invoice_pk(tenant_id, side), state["id"], data=_dumps(state), applied_seq=seq)
    cond = InvoiceItem.PK.does_not_exist() if previous_seq is None else (InvoiceItem.applied_seq == previous_seq)
    try:
        item.save(condition=cond)
        return True
    except PutError as ex:
        if ex.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def row_sk(state: dict[str, Any]) -> str:
    return f"{state['invoice_date']}#{state['id']}"


def put_rows(tenant_id: str, side: str, state: dict[str, Any], row: dict[str, Any]) -> None:
    data = _dumps(row)
    with InvoiceRowItem.batch_write() as batch:
        batch.save(InvoiceRowItem(month_pk(tenant_id, side, state["invoice_date"][:7]), row_sk(state), data=data))
        batch.save(InvoiceRowItem(partner_rows_pk(tenant_id, side, state["partner_id"]), row_sk(state), data=data))


def query_rows(pk: str, newest_first: bool = True) -> list[dict[str, Any]]:
    return [json.loads(i.data) for i in InvoiceRowItem.query(pk, consistent_read=True,
                                                             scan_index_forward=not newest_first)]


# ------------------------------------------------------------------------------------- open items
def put_open(tenant_id: str, side: str, due_date: str, invoice_id: str, row: dict[str, Any]) -> None:
    OpenItemRow(open_pk(tenant_id, side, due_date), invoice_id, data=_dumps(row)).save()


def delete_open(tenant_id: str, side: str, due_date: str, invoice_id: str) -> None:
    OpenItemRow(open_pk(tenant_id, side, due_date), invoice_id).delete()


def open_of_day(tenant_id: str, side: str, due_date: str) -> list[dict[str, Any]]:
    return [json.loads(i.data) for i in OpenItemRow.query(open_pk(tenant_id, side, due_date), consistent_read=True)]


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


def put_number_claim(tenant_id: str, side: str, scope: str | None, number: str, invoice_id: str) -> None:
    ClaimItem(number_pk(tenant_id, side, scope), number, invoice_id=invoice_id, side=side).save()


def get_link(tenant_id: str, intent_id: str) -> tuple[str, str] | None:
    """(side, invoice id) of the invoice that an intent books or that links it."""
    try:
        item = ClaimItem.get(link_pk(tenant_id), intent_id, consistent_read=True)
    except DoesNotExist:
        return None
    return str(item.side), str(item.invoice_id)


def put_link(tenant_id: str, intent_id: str, side: str, invoice_id: str) -> None:
    ClaimItem(link_pk(tenant_id), intent_id, invoice_id=invoice_id, side=side).save()

