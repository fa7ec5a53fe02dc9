"""Tax codes of a tenant (system codes are written at tenant creation, custom ones by the API).

Access patterns: list → Query PK=T#<tenant>#TAXCODE; get → GetItem SK=<code>.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.errors import TaxCodeExists
from ledgerlou.store.base import DecimalAttribute, TableModel, tenant_pk
from ledgerlou.store.base import put_new as put_unique


class TaxCodeItem(TableModel):
    code = UnicodeAttribute()
    label = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    rate = DecimalAttribute()
    vat_account = UnicodeAttribute()
    self_assess_account = UnicodeAttribute(null=True)
    # "input" (Vorsteuer, tax on the debit side) or "output" (Umsatzsteuer, credit side)
    direction = UnicodeAttribute()
    is_system = BooleanAttribute(default=False)
    is_active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)


def _pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "TAXCODE")


def put_new(tenant_id: str, item: TaxCodeItem) -> None:
    item.PK, item.SK = _pk(tenant_id), item.code
    put_unique(item, TaxCodeExists(f"Tax code {item.code} exists already."))


def get(tenant_id: str, code: str) -> TaxCodeItem | None:
    try:
        return TaxCodeItem.get(_pk(tenant_id), code)
    except DoesNotExist:
        return None


def list_for_tenant(tenant_id: str) -> list[TaxCodeItem]:
    return list(TaxCodeItem.query(_pk(tenant_id)))
