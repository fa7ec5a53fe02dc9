"""Helpers of the payment-run tests: a tenant with a house bank, vendors, incoming invoices, a second
actor for the four-eyes approval, and dates relative to today (runs refuse past execution dates)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ledgerlou.domain.payables import calendar

from tests.integration.bank.support import IBAN, create_account
from tests.integration.persons import person

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
    """The approver of the four-eyes rule: another person (a user's session). A key ``client`` creates
    would not do: it is ``client``'s own key, the same person (domain/admin/api_keys.py principal_of)."""
    session, _actor = person(client, make_client, ["payables:read", "payables:write"])
    return session


def key_of(actor: Any, make_client: Any, scopes: list[str], label: str = "Zahlungen") -> tuple[Any, str]:
    """An API key ``actor`` creates: its client and its actor id (``apikey:<id>``)."""
    key = actor.post("/v1/api-keys", {"label": label, "scopes": scopes})
    assert key.status == 201, key.body
    return make_client(key.json()["key"]), f"apikey:{key.json()['id']}"


def create_run(client: Any, account_id: str, invoice_ids: list[str], execution_date: str | None = None,
               **fields: Any) -> Any:
    return client.post("/v1/payment-runs", {"bank_account_id": account_id,
                                            "execution_date": execution_date or next_weekday(),
                                            "invoice_ids": invoice_ids, "label": "KW 50",
                                            "debtor_address": DEBTOR_ADDRESS, **fields})


__all__ = ["IBAN", "bank", "create_run", "day", "domain_caller", "invoice", "key_of", "next_weekday", "person",
           "second_actor", "seed_invoices", "vendor"]


def seed_invoices(ctx: Any, n: int, vendors: int = 10, skonto: bool = True, due: int = 20) -> list[str]:
    """``n`` open incoming invoices (119.00, 19 %, with 2 % Skonto for 10 days unless ``skonto`` is
    False) of ``vendors`` new vendors, booked through the domain's batch path as the bench seeds them:
    100 invoices a journal block, not projected (a run reads the current states, the journal's tail
    folded in). Their ids, in booking order."""
    from ledgerlou.domain.receivables import invoices, partners
    from ledgerlou.domain.receivables.sides import PAYABLES
    from ledgerlou.models.payables import IncomingInvoiceIn
    from ledgerlou.models.receivables import PartnerIn

    vendor_ids = [partners.create(ctx, PAYABLES, PartnerIn.model_validate({
        "name": f"Lieferant Müller & Söhne {i} GmbH", "default_account": "4930", "iban": VENDOR_IBAN,
        "bic": "BYLADEM1001", "address": {"street": f"Domstraße {i}", "postal_code": "50667", "city": "Köln",
                                          "country": "DE"}}))["id"] for i in range(vendors)]
    terms = {"payment_terms": {"skonto_percent": "2", "skonto_days": 10, "net_days": 30}} if skonto else {}
    ids: list[str] = []
    for first in range(0, n, 100):
        batch = [invoices.prepare(ctx, PAYABLES, IncomingInvoiceIn.model_validate({
            "vendor_id": vendor_ids[i % vendors], "invoice_number": f"ER-{i:06d}", "invoice_date": day(-3),
            "due_date": day(due + i // 100), "total_net": "100.00", "total_tax": "19.00", "total_gross": "119.00",
            "lines": [{"net_amount": "100.00", "tax_code": "VSt19"}], **terms}), vendor_ids[i % vendors])
            for i in range(first, min(n, first + 100))]
        invoices.post(ctx, batch)
        ids.extend(p.record["id"] for p in batch)
    return ids


def domain_caller(token: str) -> Any:
    """The caller a token names, as the domain gets it (for the fast paths that skip HTTP)."""
    from ledgerlou.api.auth import AuthContext
    from ledgerlou.domain.admin import api_keys

    caller = api_keys.authenticate(token)
    assert caller is not None
    return AuthContext.of(caller)
