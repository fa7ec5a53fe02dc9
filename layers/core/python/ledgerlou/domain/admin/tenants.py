"""Tenants: a company's books. Created with its chart (SKR03/SKR04), base currency and an admin key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ledgerlou.domain.admin import api_keys
from ledgerlou.domain.chart import skr as charts
from ledgerlou.domain.chart import tax_codes
from ledgerlou.errors import InvalidInput
from ledgerlou.store.admin import tenants as store
from ledgerlou.store.base import now_iso

SUPPORTED_CHARTS = ("skr03", "skr04")


@dataclass(frozen=True)
class NewTenant:
    tenant_id: str
    name: str
    chart: str
    admin_key: str
    admin_key_id: str


def create_tenant(name: str, chart: str = "skr03", base_currency: str = "EUR", admin_key: str | None = None,
                  tenant_id: str | None = None) -> NewTenant:
    chart = chart.lower()
    if chart not in SUPPORTED_CHARTS:
        raise InvalidInput.field("chart", "must be skr03 or skr04")
    if not name.strip():
        raise InvalidInput.field("name", "must not be empty")
    charts.load_chart(chart)  # fail before writing anything if the chart data is unusable
    tenant_id = tenant_id or str(uuid.uuid4())
    store.put_new(store.TenantItem(tenant_id=tenant_id, name=name.strip(), chart=chart,
                                   base_currency=base_currency, created_at=now_iso()))
    tax_codes.seed_system_codes(tenant_id, chart)
    key, token = api_keys.issue(tenant_id, "admin", ["admin"], created_by="system", token=admin_key)
    return NewTenant(tenant_id, name.strip(), chart, token, key.key_id)
