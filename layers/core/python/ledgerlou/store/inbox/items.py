"""Inbox items (one per attachment) and the duplicate claims of (vendor, invoice number)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.store.base import TableModel, put_new, tenant_pk, update_if


class InboxItem(TableModel):
    inbox_id = UnicodeAttribute()
    document_id = UnicodeAttribute()
    status = UnicodeAttribute()
    original_name = UnicodeAttribute()
    mime_type = UnicodeAttribute()
    source = UnicodeAttribute()  # email | upload
    source_email = UnicodeAttribute(null=True)
    source_subject = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)  # the SES message id (the raw MIME's key in the inbound bucket)
    log_id = UnicodeAttribute()  # the ingestion log entry of this attempt
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    # JSON texts, written by the OCR worker
    ocr_extraction = UnicodeAttribute(null=True)
    ocr_raw = UnicodeAttribute(null=True)
    vendor_match = UnicodeAttribute(null=True)
    vendor_candidates = UnicodeAttribute(null=True)
    compliance_check = UnicodeAttribute(null=True)
    einvoice_document_id = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    rejected_reason = UnicodeAttribute(null=True)
    review_case_id = UnicodeAttribute(null=True)
    duplicate_key = UnicodeAttribute(null=True)  # (vendor, invoice number) claimed by this item


class DuplicateClaim(TableModel):
    inbox_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


def pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "INBOX")


def new_item(tenant_id: str, **attrs: Any) -> InboxItem:
    item = InboxItem(pk(tenant_id), attrs["inbox_id"], **attrs)
    return item


def put(item: InboxItem) -> bool:
    return put_new(item)


def get(tenant_id: str, inbox_id: str) -> InboxItem | None:
    try:
        return InboxItem.get(pk(tenant_id), inbox_id, consistent_read=True)
    except DoesNotExist:
        return None


def query(tenant_id: str, status: str | None, limit: int, offset: int) -> list[InboxItem]:
    """Newest first; with ``status`` only the items in it (a filter on the partition's pages: the inbox
    of a firm holds its mail of the years, read a page at a time until the page is full)."""
    cond = InboxItem.status == status if status else None
    out: list[InboxItem] = []
    for n, item in enumerate(InboxItem.query(pk(tenant_id), scan_index_forward=False, filter_condition=cond,
                                             consistent_read=True, page_size=max(limit + offset, 25))):
        if n >= offset:
            out.append(item)
        if len(out) >= limit:
            break
    return out


def transition(item: InboxItem, expected: list[str], **changes: Any) -> bool:
    """Set ``changes`` if the item is still in one of the ``expected`` states (the one writer wins)."""
    actions = [getattr(InboxItem, k).set(v) if v is not None else getattr(InboxItem, k).remove()
               for k, v in changes.items()]
    cond = InboxItem.status.is_in(*expected)
    return update_if(item, actions, cond)


def start(tenant_id: str, inbox_id: str, now: str) -> InboxItem | None:
    """``received``/``processing`` → ``processing`` and the item as it is now, in one UpdateItem (ALL_NEW);
    None when there is no such item or it is past processing."""
    item = InboxItem(pk(tenant_id), inbox_id)
    ok = update_if(item, [InboxItem.status.set("processing"), InboxItem.updated_at.set(now),
                          InboxItem.attempts.add(1)],
                   InboxItem.PK.exists() & InboxItem.status.is_in("received", "processing"))
    return item if ok else None


def dup_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "INBOXDUP")


def claim_duplicate_key(tenant_id: str, key: str, inbox_id: str, now: str) -> str | None:
    """Claim (vendor key, invoice number) for ``inbox_id``; None when claimed now or by this item
    before (a redelivered message), else the inbox id that holds it."""
    if put_new(DuplicateClaim(dup_pk(tenant_id), key, inbox_id=inbox_id, created_at=now)):
        return None
    try:
        owner = str(DuplicateClaim.get(dup_pk(tenant_id), key, consistent_read=True).inbox_id)
    except DoesNotExist:
        return None
    return None if owner == inbox_id else owner


def release_duplicate_key(tenant_id: str, key: str, inbox_id: str) -> None:
    """Give a claim up (its item was rejected): the same invoice may then arrive again."""
    from pynamodb.exceptions import DeleteError

    try:
        DuplicateClaim(dup_pk(tenant_id), key).delete(condition=DuplicateClaim.inbox_id == inbox_id)
    except DeleteError:
        pass  # taken over or gone already
