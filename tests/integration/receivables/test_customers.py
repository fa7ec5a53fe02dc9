"""Customers (Debitoren) through the API: validation, numbers, search, deactivation, tenancy, scopes."""

from __future__ import annotations

import threading
from typing import Any

IBAN = "DE89370400440532013000"
VAT_ID = "DE136695976"


def customer(client: Any, **fields: Any) -> dict[str, Any]:
    resp = client.post("/v1/customers", {"name": "Muster Handel GmbH", **fields})
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def test_given_a_full_body_when_creating_a_customer_then_it_is_stored_validated_with_the_first_debitor_number(
        client: Any) -> None:
    created = customer(client, vat_id="de 136 695 976", iban="de89 3704 0044 0532 0130 00", bic="COBADEFFXXX",
                       tax_id="12/345/67890", default_account="8400", notes="Stammkunde",
                       address={"street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin"})
    assert created["number"] == "10000"
    assert created["vat_id"] == VAT_ID and created["iban"] == IBAN
    assert created["address"] == {"street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin",
                                  "country": "DE"}
    assert created["is_active"] is True and created["open_amount"] == 0
    got = client.get(f"/v1/customers/{created['id']}")
    assert got.status == 200 and got.json() == created


def test_given_three_customers_then_debitor_numbers_are_assigned_in_order_even_when_created_concurrently(
        client: Any) -> None:
    numbers: list[str] = []
    lock = threading.Lock()

    def make(i: int) -> None:
        resp = client.post("/v1/customers", {"name": f"Kunde {i}"})
        with lock:
            numbers.append(resp.json()["number"])

    threads = [threading.Thread(target=make, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == [str(n) for n in range(10000, 10006)]


def test_given_an_invalid_vat_id_or_iban_when_creating_then_400_with_its_code_and_nothing_is_stored(
        client: Any) -> None:
    bad_vat = client.post("/v1/customers", {"name": "X", "vat_id": "DE123456789"})
    assert bad_vat.status == 400 and bad_vat.json()["error"]["code"] == "INVALID_VAT_ID"
    assert bad_vat.json()["error"]["details"][0]["field"] == "vat_id"
    bad_iban = client.post("/v1/customers", {"name": "X", "iban": "DE89370400440532013001"})
    assert bad_iban.status == 400 and bad_iban.json()["error"]["code"] == "INVALID_IBAN"
    listed = client.get("/v1/customers")
    assert listed.json() == [] and listed.headers["x-total-count"] == "0"
    assert customer(client)["number"] == "10000"  # refused bodies took no number


def test_given_a_default_account_that_is_missing_or_not_revenue_then_404_account_not_found_or_400(
        client: Any) -> None:
    missing = client.post("/v1/customers", {"name": "X", "default_account": "8999"})
    assert missing.status == 404 and missing.json()["error"]["code"] == "ACCOUNT_NOT_FOUND"
    wrong = client.post("/v1/customers", {"name": "X", "default_account": "4930"})
    assert wrong.status == 400 and wrong.json()["error"]["code"] == "INVALID_INPUT"
    assert "revenue" in wrong.json()["error"]["details"][0]["issue"]


def test_given_customers_when_searching_and_paging_then_matches_and_x_total_count(client: Any) -> None:
    a = customer(client, name="Alpha AG", vat_id=VAT_ID)
    customer(client, name="Beta GmbH", iban=IBAN)
    customer(client, name="Gamma KG")
    assert [c["name"] for c in client.get("/v1/customers?search=alpha").json()] == ["Alpha AG"]
    assert [c["name"] for c in client.get("/v1/customers?search=DE8937").json()] == ["Beta GmbH"]
    assert [c["name"] for c in client.get("/v1/customers?search=136695976").json()] == ["Alpha AG"]
    assert [c["name"] for c in client.get("/v1/customers?search=10002").json()] == ["Gamma KG"]
    page = client.get("/v1/customers?limit=2&offset=1")
    assert [c["name"] for c in page.json()] == ["Beta GmbH", "Gamma KG"] and page.headers["x-total-count"] == "3"
    client.delete(f"/v1/customers/{a['id']}")
    active = client.get("/v1/customers?is_active=true")
    assert [c["name"] for c in active.json()] == ["Beta GmbH", "Gamma KG"]
    assert [c["name"] for c in client.get("/v1/customers?is_active=false").json()] == ["Alpha AG"]


def test_given_a_customer_when_put_then_the_editable_fields_are_replaced(client: Any) -> None:
    created = customer(client, notes="alt", iban=IBAN)
    resp = client.put(f"/v1/customers/{created['id']}", {"name": "Neu GmbH", "address": {"city": "Köln",
                                                                                          "country": "AT"}})
    assert resp.status == 200, resp.body
    body = resp.json()
    assert body["name"] == "Neu GmbH" and body["notes"] is None and body["iban"] is None
    assert body["address"]["country"] == "AT" and body["number"] == created["number"]
    bad = client.put(f"/v1/customers/{created['id']}", {"name": "X", "vat_id": "ATU1"})
    assert bad.status == 400 and bad.json()["error"]["code"] == "INVALID_VAT_ID"
    assert client.get(f"/v1/customers/{created['id']}").json()["name"] == "Neu GmbH"


def test_given_a_customer_when_deleted_then_it_is_deactivated_not_deleted(client: Any) -> None:
    created = customer(client)
    resp = client.delete(f"/v1/customers/{created['id']}")
    assert resp.status == 200 and resp.json()["is_active"] is False
    assert client.get(f"/v1/customers/{created['id']}").json()["is_active"] is False


def test_given_another_tenants_customer_then_every_route_answers_404(client: Any, make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    other = make_client(tenants.create_tenant("Andere GmbH", "skr03").admin_key)
    theirs = customer(other)
    for resp in (client.get(f"/v1/customers/{theirs['id']}"), client.put(f"/v1/customers/{theirs['id']}",
                                                                            {"name": "X"}),
                 client.delete(f"/v1/customers/{theirs['id']}")):
        assert resp.status == 404 and resp.json()["error"]["code"] == "NOT_FOUND"
    assert other.get(f"/v1/customers/{theirs['id']}").json()["is_active"] is True
    assert client.get("/v1/customers").json() == []


def test_given_scopes_then_read_needs_receivables_read_and_write_receivables_write(
        client: Any, make_client: Any) -> None:
    def key(scopes: list[str]) -> Any:
        resp = client.post("/v1/api-keys", {"label": "k", "scopes": scopes})
        assert resp.status == 201, resp.body
        return make_client(resp.json()["key"])

    reader, payables = key(["receivables:read"]), key(["payables:write", "payables:read"])
    assert reader.get("/v1/customers").status == 200
    assert reader.post("/v1/customers", {"name": "X"}).status == 403
    assert payables.get("/v1/customers").status == 403
    assert make_client(None).get("/v1/customers").status == 401


def test_given_an_idempotency_key_when_creating_twice_then_one_customer(client: Any) -> None:
    first = client.post("/v1/customers", {"name": "Once"}, headers={"Idempotency-Key": "k-1"})
    again = client.post("/v1/customers", {"name": "Once"}, headers={"Idempotency-Key": "k-1"})
    assert first.status == again.status == 201 and first.json() == again.json()
    other = client.post("/v1/customers", {"name": "Other"}, headers={"Idempotency-Key": "k-1"})
    assert other.status == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert client.get("/v1/customers").headers["x-total-count"] == "1"


def test_given_malformed_bodies_then_400_invalid_input(client: Any) -> None:
    for body in ({}, {"name": ""}, {"name": "X", "unknown": 1}, {"name": "X", "address": {"country": "Deutschland"}},
                 {"name": "X", "default_account": "84"}):
        resp = client.post("/v1/customers", body)
        assert resp.status == 400, (body, resp.body)
        assert resp.json()["error"]["code"] == "INVALID_INPUT"
    assert client.get("/v1/customers/not-a-uuid").status == 400
