"""Payment terms (Skonto, net days) on incoming and outgoing invoices: stored on the invoice, shown in
its answer, net_days as the default due date, bad terms refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.payables.test_payables import body, create, vendor
from tests.integration.receivables.test_customers import customer
from tests.integration.receivables.test_outgoing_invoices import invoice_body

TERMS = {"skonto_percent": "2", "skonto_days": 10, "net_days": 30, "text": "2 % Skonto bis 10 Tage, 30 Tage netto"}


def test_given_an_incoming_invoice_with_skonto_terms_then_its_answer_shows_them_with_the_skonto_period(
        client: Any) -> None:
    v = vendor(client)
    created = create(client, body(v["id"], payment_terms=TERMS))
    got = client.get(f"/v1/invoices/{created['id']}").json()
    assert got["payment_terms"] == {"skonto_percent": Decimal("2.00"), "skonto_days": 10, "net_days": 30,
                                    "text": TERMS["text"], "skonto_until": "2026-01-30"}
    listed = client.get("/v1/invoices").json()
    assert listed[0]["payment_terms"]["skonto_until"] == "2026-01-30"
    plain = create(client, body(v["id"], "2026-4712"))
    assert client.get(f"/v1/invoices/{plain['id']}").json()["payment_terms"] is None


def test_given_net_days_without_a_due_date_then_the_due_date_is_invoice_date_plus_net_days(client: Any) -> None:
    k = customer(client, default_account="8400")
    data = invoice_body(k["id"], payment_terms={"net_days": 14})
    del data["due_date"]
    resp = client.post("/v1/outgoing-invoices", data)
    assert resp.status == 201, resp.body
    got = client.get(f"/v1/outgoing-invoices/{resp.json()['id']}").json()
    assert got["due_date"] == "2026-01-29"
    assert got["payment_terms"] == {"skonto_percent": None, "skonto_days": None, "net_days": 14, "text": None,
                                    "skonto_until": None}


def test_given_bad_payment_terms_then_400_and_nothing_is_booked(client: Any) -> None:
    v = vendor(client)
    for terms in ({"skonto_percent": "2"}, {"skonto_percent": "0", "skonto_days": 5},
                  {"skonto_percent": "100", "skonto_days": 5}, {"skonto_percent": "2.005", "skonto_days": 5},
                  {"skonto_percent": "2", "skonto_days": 40, "net_days": 30}, {"skonto_days": -1},
                  {"rabatt": 3}):
        resp = client.post("/v1/invoices", body(v["id"], payment_terms=terms))
        assert resp.status == 400, (terms, resp.body)
        assert resp.json()["error"]["code"] == "INVALID_INPUT"
    late = client.post("/v1/invoices", body(v["id"], invoice_date="9999-12-20", due_date=None,
                                            payment_terms={"net_days": 30}))
    assert late.status == 400 and "9999-12-31" in late.json()["error"]["details"][0]["issue"]
    assert client.get("/v1/invoices").json() == []
