"""Custom accounts of a tenant (system accounts come from the chart data file and are never stored).

Access patterns: list custom accounts → Query PK=T#<tenant>#ACCOUNT; get one → GetItem SK=<number>.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.errors import AccountExists
from ledgerlou.store.base import TableModel, tenant_pk
from ledgerlou.store.base import put_new as put_unique


class AccountItem(TableModel):
    number = UnicodeAttribute()
    name = UnicodeAttribute()
    type = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    report_group = UnicodeAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()


def _pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "ACCOUNT")


def put_new(tenant_id: str, item: AccountItem) -> None:
    item.PK, item.SK = _pk(tenant_id), item.number
    put_unique(item, AccountExists(f"Account {item.number} exists already."))


def get(tenant_id: str, number: str) -> AccountItem | None:
    try:
        return AccountItem.get(_pk(tenant_id), number)
    except DoesNotExist:
        return None


def list_for_tenant(tenant_id: str) -> list[AccountItem]:
    return list(AccountItem.query(_pk(tenant_id)))
