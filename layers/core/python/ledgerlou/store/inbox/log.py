"""The ingestion log: one entry per ingestion attempt (an attachment, or a message without one)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import UnicodeAttribute

from ledgerlou.store.base import TableModel, put_new, tenant_pk


class IngestionEntry(TableModel):
    entry_id = UnicodeAttribute()
    received_at = UnicodeAttribute()
    source = UnicodeAttribute()
    source_email = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    original_name = UnicodeAttribute(null=True)
    document_id = UnicodeAttribute(null=True)
    inbox_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()
    message = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)  # SES message id


def pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "INGEST")


def new_entry(tenant_id: str, **attrs: Any) -> IngestionEntry:
    return IngestionEntry(pk(tenant_id), attrs["entry_id"], **attrs)


def put(entry: IngestionEntry) -> bool:
    # The entry's id derives from the SES message and the part (domain/inbox/inbound.py): a redelivered
    # message finds its entries written and writes nothing twice.
    return put_new(entry)


def set_outcome(tenant_id: str, entry_id: str, outcome: str, message: str | None) -> None:
    IngestionEntry(pk(tenant_id), entry_id).update(actions=[
        IngestionEntry.outcome.set(outcome),
        IngestionEntry.message.set(message) if message else IngestionEntry.message.remove()])


def query(tenant_id: str, outcome: str | None, limit: int, offset: int) -> list[IngestionEntry]:
    cond = IngestionEntry.outcome == outcome if outcome else None
    out: list[IngestionEntry] = []
    for n, item in enumerate(IngestionEntry.query(pk(tenant_id), scan_index_forward=False, filter_condition=cond,
                                                  consistent_read=True, page_size=max(limit + offset, 25))):
        if n >= offset:
            out.append(item)
        if len(out) >= limit:
            break
    return out
