"""The tenant's inbox address and its lookup from the recipient's local part."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.store.base import TableModel, put_new, tenant_pk


class AddressItem(TableModel):
    local_part = UnicodeAttribute()
    created_at = UnicodeAttribute()


class AddressPointer(TableModel):
    tenant_id = UnicodeAttribute()


SK = "ADDRESS"


def get_for_tenant(tenant_id: str) -> str | None:
    try:
        return str(AddressItem.get(tenant_pk(tenant_id, "INBOXADDR"), SK, consistent_read=True).local_part)
    except DoesNotExist:
        return None


def create(tenant_id: str, local_part: str, now: str) -> str:
    """Give the tenant ``local_part`` unless it has one already (the first writer wins); answers the
    tenant's local part. The pointer is written first: an address is never handed out unresolvable."""
    put_new(AddressPointer(f"INBOXADDR#{local_part}", SK, tenant_id=tenant_id))
    if put_new(AddressItem(tenant_pk(tenant_id, "INBOXADDR"), SK, local_part=local_part, created_at=now)):
        return local_part
    existing = get_for_tenant(tenant_id)
    assert existing is not None
    return existing  # a concurrent request won; the pointer written here resolves to the tenant still (harmless)


def tenant_of(local_part: str) -> str | None:
    try:
        return str(AddressPointer.get(f"INBOXADDR#{local_part}", SK).tenant_id)
    except DoesNotExist:
        return None
