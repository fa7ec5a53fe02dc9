"""Document metadata. Access pattern: get by id → GetItem PK=T#<tenant>#DOCUMENT, SK=<document id>."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.errors import InternalError
from ledgerlou.store.base import TableModel, tenant_pk
from ledgerlou.store.base import put_new as put_unique


class DocumentItem(TableModel):
    doc_id = UnicodeAttribute()
    mime_type = UnicodeAttribute()
    original_name = UnicodeAttribute()
    sha256 = UnicodeAttribute()
    size = NumberAttribute()
    s3_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()


def _pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "DOCUMENT")


def put_new(tenant_id: str, item: DocumentItem) -> None:
    item.PK, item.SK = _pk(tenant_id), item.doc_id
    put_unique(item, InternalError("Document id collision."))  # a fresh UUID: never a caller's conflict


def put_if_absent(tenant_id: str, item: DocumentItem) -> bool:
    """Write a document whose id the caller derived; False when that id exists already (a retry's)."""
    item.PK, item.SK = _pk(tenant_id), item.doc_id
    return put_unique(item)


def get(tenant_id: str, doc_id: str, consistent: bool = False) -> DocumentItem | None:
    try:
        return DocumentItem.get(_pk(tenant_id), doc_id, consistent_read=consistent)
    except DoesNotExist:
        return None
