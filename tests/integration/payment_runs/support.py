"""Helpers of the payment-run tests: a tenant with a house bank, vendors, incoming invoices, a second
actor for the four-eyes approval, and dates relative to today (runs refuse past execution dates)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ledgerlou.domain.payables import calendar

from tests.integration.bank.support import IBAN, create_account

VENDOR_IBAN = "DE02120300000000202051"
TODAY = dt.datetime.now(dt.UTC).date()
DEBTOR_ADDRESS = {"street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def next_weekday(offset: int = 1) -> str:
    """A TARGET business day ``offset`` days from today or later."""
    return calendar.next_business_day(TODAY + dt.timedelta(days=offset)).isoformat()


def bank(client: Any, **fields: Any) -> dict[str, Any]:
    return create_account(client, **{"bic": "COBADEFFXXX", **fields})


def vendor(client: Any, name: str = "Bürobedarf Müller KG", **fields: Any) -> dict[str, Any]:
    body = {"name": name, "default_account": "4930", "iban": VENDOR_IBAN, "bic": "BYLADEM1001",
            "address": {"street": "Domstraße 5", "postal_code": "50667", "city": "Köln", "country": "DE"}, **fields}
    resp = client.post("/v1/vendors", body)
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def invoice(client: Any, vendor_id: str, number: str, gross: str = "119.00", due: int = 20,
            invoice_date: int = -3, **fields: Any) -> dict[str, Any]:
    from decimal import Decimal

    net = (Decimal(gross) / Decimal("1.19")).quantize(Decimal("0.01"))
    body = {"vendor_id": vendor_id, "invoice_number": number, "invoice_date": day(invoice_date),
            "due_date": day(due), "total_net": str(net), "total_tax": str(Decimal(gross) - net),
            "total_gross": gross, "lines": [{"description": "Papier", "net_amount": str(net), "tax_code": "VSt19"}],
            **fields}
    resp = client.post("/v1/invoices", body)
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def second_actor(client: Any, make_client: Any) -> Any:
    key = client.post("/v1/api-keys", {"label": "Prokuristin", "scopes": ["payables:read", "payables:write"]})
    assert key.status == 201, key.body
    return make_client(key.json()["key"])


def create_run(client: Any, account_id: str, invoice_ids: list[str], execution_date: str | None = None,
               **fields: Any) -> Any:
    return client.post("/v1/payment-runs", {"bank_account_id": account_id,
                                            "execution_date": execution_date or next_weekday(),
                                            "invoice_ids": invoice_ids, "label": "KW 50",
                                            "debtor_address": DEBTOR_ADDRESS, **fields})


__all__ = ["IBAN", "bank", "create_run", "day", "invoice", "next_weekday", "second_actor", "vendor"]
