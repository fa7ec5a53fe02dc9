"""Chart of accounts of a tenant: the system chart (SKR03/SKR04 data file) plus custom accounts.

System accounts are never stored per tenant: they are immutable, and copying hundreds of rows into
every new tenant would only slow tenant creation and invite drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgerlou.domain.chart import skr as charts
from ledgerlou.errors import AccountExists, InvalidInput
from ledgerlou.store.base import now_iso
from ledgerlou.store.chart import accounts as store


@dataclass(frozen=True)
class Account:
    number: str
    name: str
    type: str
    category: str | None
    report_group: str | None
    is_system: bool
    is_active: bool = True

    def to_dict(self) -> dict[str, object]:
        return {"number": self.number, "name": self.name, "type": self.type, "category": self.category,
                "report_group": self.report_group, "is_system": self.is_system, "is_active": self.is_active}


def _system(chart: str) -> dict[str, Account]:
    return {n: Account(a.number, a.name, a.type, a.category, a.report_group, True)
            for n, a in charts.load_chart(chart).items()}


def _custom(item: store.AccountItem) -> Account:
    return Account(item.number, item.name, item.type, item.category, item.report_group, False,
                   bool(item.is_active))


def all_accounts(tenant_id: str, chart: str) -> list[Account]:
    merged = _system(chart)
    for item in store.list_for_tenant(tenant_id):
        merged.setdefault(item.number, _custom(item))
    return [merged[n] for n in sorted(merged)]


def find(tenant_id: str, chart: str, number: str) -> Account | None:
    system = charts.load_chart(chart).get(number)
    if system is not None:
        return Account(system.number, system.name, system.type, system.category, system.report_group, True)
    item = store.get(tenant_id, number)
    return _custom(item) if item else None


def search(tenant_id: str, chart: str, q: str | None, type_: str | None) -> list[Account]:
    needle = (q or "").strip().casefold()
    out = []
    for acc in all_accounts(tenant_id, chart):
        if type_ and acc.type != type_:
            continue
        if needle and not (acc.number.startswith(needle) or needle in acc.name.casefold()):
            continue
        out.append(acc)
    return out


def create(tenant_id: str, chart: str, *, number: str, name: str, type_: str, category: str | None,
           report_group: str | None) -> Account:
    length = charts.account_length(chart)
    if not number.isdigit() or len(number) != length:
        raise InvalidInput.field("number", f"must be {length} digits for {chart.upper()}")
    if not number.strip("0"):
        # No chart has an account 0, and DATEV refuses one: the DATEV export could never carry its entries.
        raise InvalidInput.field("number", "must not be 0")
    if report_group is not None and report_group not in charts.REPORT_GROUPS:
        raise InvalidInput.field("report_group", "unknown report group")
    if report_group is not None:
        pl = report_group.startswith("pl_")
        if pl != (type_ in ("revenue", "expense")):
            raise InvalidInput.field("report_group", f"does not fit an account of type {type_}")
    if number in charts.load_chart(chart):
        raise AccountExists(f"Account {number} is a system account of {chart.upper()}.")
    item = store.AccountItem(number=number, name=name, type=type_, category=category, report_group=report_group,
                             is_active=True, created_at=now_iso())
    store.put_new(tenant_id, item)
    return _custom(item)
