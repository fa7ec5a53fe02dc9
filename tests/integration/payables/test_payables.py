"""Vendors and incoming invoices through the API: Kreditor numbers, expense and input VAT against the
payable, reverse charge, numbers unique per vendor, credit notes, open items, settlements, scopes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.receivables.test_outgoing_invoices import entries, head


def vendor(client: Any, **fields: Any) -> dict[str, Any]:
    resp = client.post("/v1/vendors", {"name": "Bürobedarf Müller KG", "default_account": "4930",
                                       "iban": "DE89370400440532013000",
                                       "address": {"city": "Hamburg", "country": "DE"}, **fields})
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def body(vendor_id: str, number: str = "2026-4711", **fields: Any) -> dict[str, Any]:
    return {"vendor_id": vendor_id, "invoice_number": number, "invoice_date": "2026-01-20", "due_date": "2026-02-19",
            "total_net": "100.00", "total_tax": "19.00", "total_gross": "119.00",
            "lines": [{"description": "Papier", "net_amount": "100.00", "tax_code": "VSt19"}], **fields}


def create(client: Any, data: dict[str, Any]) -> dict[str, Any]:
    resp = client.post("/v1/invoices", data)
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


@pytest.fixture
def lieferant(client: Any) -> dict[str, Any]:
    return vendor(client)


def test_given_vendors_then_kreditor_numbers_start_at_70000_and_the_default_account_must_be_expense(
        client: Any, lieferant: dict[str, Any]) -> None:
    assert lieferant["number"] == "70000" and vendor(client, name="Zwei")["number"] == "70001"
    wrong = client.post("/v1/vendors", {"name": "X", "default_account": "8400"})
    assert wrong.status == 400 and "expense" in wrong.json()["error"]["details"][0]["issue"]
    assert [v["name"] for v in client.get("/v1/vendors?search=müller").json()] == ["Bürobedarf Müller KG"]
    assert client.get("/v1/vendors").headers["x-total-count"] == "2"
    assert client.get("/v1/customers").json() == []  # customers and vendors are apart
    upd = client.put(f"/v1/vendors/{lieferant['id']}", {"name": "Müller Neu", "vat_id": "ATU13585627"})
    assert upd.status == 200 and upd.json()["vat_id"] == "ATU13585627"
    gone = client.delete(f"/v1/vendors/{lieferant['id']}")
    assert gone.status == 200 and gone.json()["is_active"] is False
    refused = client.post("/v1/invoices", body(lieferant["id"]))
    assert refused.status == 409 and refused.json()["error"]["code"] == "PARTNER_INACTIVE"


def test_given_an_incoming_invoice_then_it_books_expense_and_input_vat_against_the_payable(
        client: Any, lieferant: dict[str, Any]) -> None:
    created = create(client, body(lieferant["id"]))
    assert entries(client, created["intent_id"]) == [("1576", "1600", Decimal("19.00")),
                                                      ("4930", "1600", Decimal("100.00"))]
    got = client.get(f"/v1/invoices/{created['id']}").json()
    assert got["status"] == "open" and got["open_item_account"] == "1600" and got["partner_number"] == "70000"
    assert client.get(f"/v1/vendors/{lieferant['id']}").json()["open_amount"] == Decimal("119.00")
    items = client.get("/v1/invoices/open-items")
    assert [r["invoice_id"] for r in items.json()] == [created["id"]] and items.headers["x-total-count"] == "1"
    assert client.get("/v1/outgoing-invoices/open-items").json() == []


def test_given_a_reverse_charge_invoice_then_no_vat_is_invoiced_and_the_tax_is_self_assessed(
        client: Any, lieferant: dict[str, Any]) -> None:
    created = create(client, body(lieferant["id"], total_tax="0.00", total_gross="100.00",
                                  lines=[{"net_amount": "100.00", "tax_code": "RC19", "account": "4930"}]))
    assert entries(client, created["intent_id"]) == [("1577", "1787", Decimal("19.00")),
                                                      ("4930", "1600", Decimal("100.00"))]
    wrong = client.post("/v1/invoices", body(lieferant["id"], "RC-2",
                                             lines=[{"net_amount": "100.00", "tax_code": "RC19"}]))
    assert wrong.status == 400 and wrong.json()["error"]["code"] == "TOTALS_MISMATCH"


def test_given_an_invoice_number_then_it_is_unique_per_vendor_only(client: Any, lieferant: dict[str, Any]) -> None:
    create(client, body(lieferant["id"]))
    before = head(client)
    dup = client.post("/v1/invoices", body(lieferant["id"]))
    assert dup.status == 409 and dup.json()["error"]["code"] == "DUPLICATE_INVOICE"
    assert head(client) == before
    other = vendor(client, name="Anderer Lieferant")
    create(client, body(other["id"]))  # the same number from another vendor is another invoice
    assert client.get("/v1/invoices").headers["x-total-count"] == "2"
    assert [r["partner_id"] for r in client.get(f"/v1/invoices?vendor_id={other['id']}").json()] == [other["id"]]


def test_given_a_vendor_credit_note_then_it_debits_the_payable(client: Any, lieferant: dict[str, Any]) -> None:
    note = create(client, body(lieferant["id"], "GS-1", type="credit_note"))
    assert entries(client, note["intent_id"]) == [("1600", "1576", Decimal("19.00")),
                                                   ("1600", "4930", Decimal("100.00"))]
    got = client.get(f"/v1/invoices/{note['id']}").json()
    assert got["remaining_amount"] == Decimal("-119.00")
    assert client.get(f"/v1/vendors/{lieferant['id']}").json()["open_amount"] == Decimal("-119.00")


def test_given_an_incoming_invoice_when_paid_then_paid_and_reopened_by_a_storno(
        client: Any, tenant: Any, lieferant: dict[str, Any]) -> None:
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.domain.journal import projector
    from ledgerlou.domain.receivables import settlements
    from ledgerlou.models.journal import BookingRequest

    ctx = api_keys.authenticate(tenant.admin_key)
    created = create(client, body(lieferant["id"]))
    pay = BookingRequest.model_validate({"booking_date": "2026-02-10", "description": "Überweisung 2026-4711",
                                         "lines": [{"account_debit": "1600", "account_credit": "1200",
                                                    "amount": "119.00"}]})
    intent = settlements.settle(ctx, [settlements.OpenItemAmount("AP", created["id"], Decimal("119.00"))], pay)
    projector.project_through(ctx.tenant_id)
    assert client.get(f"/v1/invoices/{created['id']}").json()["status"] == "paid"
    assert client.get("/v1/invoices/open-items").json() == []
    assert client.get(f"/v1/vendors/{lieferant['id']}").json()["open_amount"] == 0
    assert client.post("/v1/journal/reverse", {"intent_id": intent, "reason": "Rückläufer",
                                               "posting_mode": "current_date"}).status == 201
    assert client.get(f"/v1/invoices/{created['id']}").json()["status"] == "open"


def test_given_a_booking_on_the_payable_then_an_incoming_invoice_links_it(client: Any,
                                                                           lieferant: dict[str, Any]) -> None:
    booked = client.post("/v1/bookings", {"booking_date": "2026-01-20", "description": "ER 99",
                                          "lines": [{"account_debit": "4930", "account_credit": "1600",
                                                     "amount": "119.00", "tax_code": "VSt19"}]}).json()
    created = create(client, body(lieferant["id"], "99", intent_id=booked["intent_id"]))
    assert client.get(f"/v1/invoices/{created['id']}").json()["intent_id"] == booked["intent_id"]
    wrong = client.post("/v1/bookings", {"booking_date": "2026-01-20", "description": "Bank",
                                         "lines": [{"account_debit": "4930", "account_credit": "1200",
                                                    "amount": "119.00"}]}).json()
    mismatch = client.post("/v1/invoices", body(lieferant["id"], "100", intent_id=wrong["intent_id"]))
    assert mismatch.status == 409 and mismatch.json()["error"]["code"] == "INTENT_MISMATCH"


def test_given_payables_scopes_then_receivables_keys_are_refused(client: Any, make_client: Any,
                                                                  lieferant: dict[str, Any]) -> None:
    key = client.post("/v1/api-keys", {"label": "ar", "scopes": ["receivables:read", "receivables:write"]}).json()
    ar = make_client(key["key"])
    assert ar.get("/v1/vendors").status == 403 and ar.get("/v1/invoices").status == 403
    assert ar.post("/v1/invoices", body(lieferant["id"])).status == 403
    reader = make_client(client.post("/v1/api-keys", {"label": "ap", "scopes": ["payables:read"]}).json()["key"])
    assert reader.get(f"/v1/vendors/{lieferant['id']}").status == 200
    assert reader.patch("/v1/invoices/00000000-0000-4000-8000-000000000000", {"notes": "x"}).status == 403


def test_given_another_tenants_vendor_then_404(client: Any, make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    other = make_client(tenants.create_tenant("Andere GmbH", "skr04").admin_key)
    theirs = vendor(other, default_account="6815")
    inv = create(other, body(theirs["id"], lines=[{"net_amount": "100.00", "tax_code": "VSt19"}]))
    assert entries(other, inv["intent_id"]) == [("1406", "3300", Decimal("19.00")),
                                                 ("6815", "3300", Decimal("100.00"))]
    assert client.get(f"/v1/vendors/{theirs['id']}").status == 404
    assert client.get(f"/v1/invoices/{inv['id']}").status == 404
    assert client.post("/v1/invoices", body(theirs["id"])).status == 404
