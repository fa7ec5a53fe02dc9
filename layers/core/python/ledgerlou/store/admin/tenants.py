"""Tenant settings item. Access pattern: get tenant by id → GetItem PK=T#<tenant>, SK=TENANT."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from ledgerlou.errors import Conflict
from ledgerlou.store.base import TableModel, tenant_pk


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
    try:
        item.save(condition=TenantItem.PK.does_not_exist())
    except PutError as ex:
        raise Conflict("Tenant exists already.", code="TENANT_EXISTS") from ex


def get(tenant_id: str) -> TenantItem | None:
    try:
        return TenantItem.get(*key(tenant_id))
    except DoesNotExist:
        return None
