"""Tax codes (Steuerschlüssel) and the split of a gross amount into net and tax.

The system codes of every new tenant are fixed by docs/api-contract.md "Bookings", per chart (SKR03 / SKR04).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ledgerlou.domain.chart import skr as charts
from ledgerlou.errors import AccountNotFound, InvalidInput, NotFound, SystemTaxCodeImmutable
from ledgerlou.store.base import now_iso
from ledgerlou.store.chart import tax_codes as store


@dataclass(frozen=True)
class SystemTaxCode:
    code: str
    label: str
    rate: Decimal
    direction: str  # input | output
    vat_account: dict[str, str]
    self_assess_account: dict[str, str] | None = None


SYSTEM_TAX_CODES: tuple[SystemTaxCode, ...] = (
    SystemTaxCode("USt19", "Umsatzsteuer 19 %", Decimal("19"), "output", {"skr03": "1776", "skr04": "3806"}),
    SystemTaxCode("USt7", "Umsatzsteuer 7 %", Decimal("7"), "output", {"skr03": "1771", "skr04": "3801"}),
    SystemTaxCode("VSt19", "Vorsteuer 19 %", Decimal("19"), "input", {"skr03": "1576", "skr04": "1406"}),
    SystemTaxCode("VSt7", "Vorsteuer 7 %", Decimal("7"), "input", {"skr03": "1571", "skr04": "1401"}),
    SystemTaxCode("RC19", "Reverse Charge § 13b UStG 19 %", Decimal("19"), "input",
                  {"skr03": "1577", "skr04": "1407"}, {"skr03": "1787", "skr04": "3837"}),
    SystemTaxCode("IGE19", "Innergemeinschaftlicher Erwerb 19 %", Decimal("19"), "input",
                  {"skr03": "1574", "skr04": "1404"}, {"skr03": "1774", "skr04": "3804"}),
)


def split_gross(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """DATEV convention: tax = gross × rate / (100 + rate), half-up to cents; net = gross − tax."""
    tax = (gross * rate / (Decimal(100) + rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return gross - tax, tax


def self_assessed_tax(net: Decimal, rate: Decimal) -> Decimal:
    """Reverse charge: the invoice is net; the tax is computed on it and booked on both sides."""
    return (net * rate / Decimal(100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def seed_system_codes(tenant_id: str, chart: str) -> None:
    now = now_iso()
    for sc in SYSTEM_TAX_CODES:
        store.put_new(tenant_id, store.TaxCodeItem(
            code=sc.code, label=sc.label, description=None, rate=sc.rate, direction=sc.direction,
            vat_account=sc.vat_account[chart],
            self_assess_account=sc.self_assess_account[chart] if sc.self_assess_account else None,
            is_system=True, is_active=True, created_at=now))


def to_dict(item: store.TaxCodeItem) -> dict[str, object]:
    return {
        "code": item.code, "label": item.label, "description": item.description, "rate": item.rate,
        "vat_account": item.vat_account, "self_assess_account": item.self_assess_account,
        "direction": item.direction, "is_system": bool(item.is_system), "is_active": bool(item.is_active),
    }


def list_codes(tenant_id: str, include_inactive: bool) -> list[store.TaxCodeItem]:
    items = sorted(store.list_for_tenant(tenant_id), key=lambda i: (not i.is_system, i.code))
    return [i for i in items if include_inactive or i.is_active]


def get_code(tenant_id: str, code: str) -> store.TaxCodeItem:
    item = store.get(tenant_id, code)
    if item is None:
        raise NotFound(f"Tax code {code} not found.")
    return item


def _check_vat_account(tenant_id: str, chart: str, field: str, number: str) -> None:
    from ledgerlou.domain.chart import accounts

    if accounts.find(tenant_id, chart, number) is None:
        raise AccountNotFound(f"{field}: account {number} does not exist.",
                              details=[{"field": field, "issue": "account does not exist"}])


def create_code(tenant_id: str, chart: str, *, code: str, label: str, description: str | None, rate: Decimal,
                vat_account: str, self_assess_account: str | None, direction: str | None) -> store.TaxCodeItem:
    _check_vat_account(tenant_id, chart, "vat_account", vat_account)
    if self_assess_account:
        _check_vat_account(tenant_id, chart, "self_assess_account", self_assess_account)
    if direction is None:
        direction = _infer_direction(chart, vat_account)
    item = store.TaxCodeItem(code=code, label=label, description=description, rate=rate, direction=direction,
                             vat_account=vat_account, self_assess_account=self_assess_account,
                             is_system=False, is_active=True, created_at=now_iso())
    store.put_new(tenant_id, item)
    return item


def _infer_direction(chart: str, vat_account: str) -> str:
    acc = charts.load_chart(chart).get(vat_account)
    if acc is not None and acc.category == "output_vat":
        return "output"
    if acc is not None and acc.category == "input_vat":
        return "input"
    raise InvalidInput.field("direction", "required when vat_account is not a VAT account of the chart")


def patch_code(tenant_id: str, chart: str, code: str, changes: dict[str, object]) -> store.TaxCodeItem:
    item = get_code(tenant_id, code)
    if item.is_system:
        # The system codes are the tax law's rates and the chart's VAT accounts: changing them would
        # silently re-define every future booking with that code. Texts and activation may change.
        locked = {"rate", "vat_account", "self_assess_account"} & {k for k, v in changes.items() if v is not None}
        if locked:
            raise SystemTaxCodeImmutable(f"System tax code {code}: {', '.join(sorted(locked))} cannot be changed.")
    for field in ("vat_account", "self_assess_account"):
        value = changes.get(field)
        if isinstance(value, str) and value:
            _check_vat_account(tenant_id, chart, field, value)
    actions = []
    for field, value in changes.items():
        if value is None:
            continue
        actions.append(getattr(store.TaxCodeItem, field).set(value))
    if actions:
        actions.append(store.TaxCodeItem.updated_at.set(now_iso()))
        item.update(actions=actions)
    return item


def deactivate_code(tenant_id: str, code: str) -> store.TaxCodeItem:
    item = get_code(tenant_id, code)
    if item.is_active:
        item.update(actions=[store.TaxCodeItem.is_active.set(False),
                             store.TaxCodeItem.updated_at.set(now_iso())])
    return item
