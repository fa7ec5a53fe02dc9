"""Tenant settings item. Access pattern: get tenant by id → GetItem PK=T#<tenant>, SK=TENANT."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.errors import TenantExists
from ledgerlou.store.base import TableModel, tenant_pk
from ledgerlou.store.base import put_new as put_unique


class TenantItem(TableModel):
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    chart = UnicodeAttribute()
    base_currency = UnicodeAttribute(default="EUR")
    created_at = UnicodeAttribute()
    # DATEV header fields (Beraternummer/Mandantennummer); set by the tax advisor, defaults are DATEV's test values.
    datev_consultant_number = NumberAttribute(default=1001)
    datev_client_number = NumberAttribute(default=1)
    fiscal_year_start_month = NumberAttribute(default=1)


def key(tenant_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id), "TENANT"


def put_new(item: TenantItem) -> None:
    item.PK, item.SK = key(item.tenant_id)
    put_unique(item, TenantExists("Tenant exists already."))


def get(tenant_id: str) -> TenantItem | None:
    try:
        return TenantItem.get(*key(tenant_id))
    except DoesNotExist:
        return None
