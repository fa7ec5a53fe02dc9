"""Foundation: authorizer, errors, API keys, accounts, tax codes — through the gateway under moto."""

from __future__ import annotations

from typing import Any

import pytest

BAD_TOKEN = "ll_" + "x" * 40


# ----------------------------------------------------------------- authentication and errors
def test_given_no_token_when_listing_accounts_then_401(client: Any) -> None:
    resp = client.get("/v1/accounts", token=None)
    assert resp.status == 401
    assert resp.json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("token", [BAD_TOKEN, "not-a-key", "ll_short"])
def test_given_an_unknown_or_malformed_token_when_calling_then_401(client: Any, token: str) -> None:
    resp = client.get("/v1/accounts", token=token)
    assert resp.status == 401
    assert resp.json()["error"]["code"] == "UNAUTHENTICATED"


def test_given_a_key_without_scope_when_calling_then_403(client: Any, make_client: Any) -> None:
    created = client.post("/v1/api-keys", {"label": "bank only", "scopes": ["bank:read"]}).json()
    limited = make_client(created["key"])
    resp = limited.get("/v1/accounts")
    assert resp.status == 403
    assert resp.json()["error"]["code"] == "FORBIDDEN"
    assert limited.get("/v1/tax-codes").status == 403
    assert limited.get("/v1/api-keys").status == 403


def test_given_a_read_key_when_writing_then_403_and_nothing_written(client: Any, make_client: Any) -> None:
    created = client.post("/v1/api-keys", {"label": "reader", "scopes": ["journal:read"]}).json()
    reader = make_client(created["key"])
    assert reader.get("/v1/accounts").status == 200
    resp = reader.post("/v1/accounts", {"number": "4999", "name": "X", "type": "expense"})
    assert resp.status == 403
    assert client.get("/v1/accounts/search?q=4999").json()["accounts"] == []


def test_given_an_unknown_route_when_calling_then_404_json(client: Any) -> None:
    resp = client.get("/v1/nothing-here")
    assert resp.status == 404
    assert resp.json()["error"]["code"] == "NOT_FOUND"


def test_given_malformed_json_when_posting_then_400_invalid_json(client: Any) -> None:
    resp = client.request("POST", "/v1/accounts", body='{"number": "4999",', headers={"content-type":
                                                                                     "application/json"})
    assert resp.status == 400
    assert resp.json()["error"]["code"] == "INVALID_JSON"


def test_given_a_missing_body_when_posting_then_400(client: Any) -> None:
    resp = client.request("POST", "/v1/accounts")
    assert resp.status == 400
    assert resp.json()["error"]["code"] == "INVALID_INPUT"


def test_given_invalid_fields_when_posting_then_400_with_field_details(client: Any) -> None:
    resp = client.post("/v1/accounts", {"number": "49x", "name": "", "type": "magic", "extra": 1})
    assert resp.status == 400
    body = resp.json()["error"]
    assert body["code"] == "INVALID_INPUT"
    fields = {d["field"] for d in body["details"]}
    assert {"number", "name", "type", "extra"} <= fields
    assert "Traceback" not in resp.body.decode()


# ----------------------------------------------------------------- accounts
def test_given_an_skr03_tenant_when_listing_accounts_then_the_chart_is_paged(client: Any) -> None:
    first = client.get("/v1/accounts?limit=500").json()
    assert first["total"] >= 300 and first["offset"] == 0 and first["limit"] == 500
    numbers = [a["number"] for a in first["accounts"]]
    assert numbers == sorted(numbers)
    assert {"1000", "1200", "1400", "1600", "1576", "1776", "9000"} <= set(numbers)
    bank = next(a for a in first["accounts"] if a["number"] == "1200")
    assert bank["is_system"] is True and bank["type"] == "asset"
    second = client.get("/v1/accounts?limit=2&offset=2").json()
    assert [a["number"] for a in second["accounts"]] == numbers[2:4]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "offset=-1", "limit=abc"])
def test_given_bad_paging_when_listing_then_400(client: Any, query: str) -> None:
    resp = client.get(f"/v1/accounts?{query}")
    assert resp.status == 400
    assert resp.json()["error"]["details"][0]["field"] in ("limit", "offset")


def test_given_a_custom_account_when_created_then_listed_and_searchable(client: Any) -> None:
    resp = client.post("/v1/accounts", {"number": "4999", "name": "Sonstige Kosten Projekt X",
                                        "type": "expense", "category": "other_expense",
                                        "report_group": "pl_other_expenses"})
    assert resp.status == 201
    assert resp.json() == {"number": "4999", "name": "Sonstige Kosten Projekt X", "type": "expense",
                           "category": "other_expense", "report_group": "pl_other_expenses",
                           "is_system": False, "is_active": True}
    found = client.get("/v1/accounts/search?q=projekt").json()["accounts"]
    assert [a["number"] for a in found] == ["4999"]
    by_type = client.get("/v1/accounts/search?q=49&type=expense").json()["accounts"]
    assert all(a["type"] == "expense" and a["number"].startswith("49") for a in by_type)


def test_given_an_existing_number_when_creating_then_409(client: Any) -> None:
    assert client.post("/v1/accounts", {"number": "1200", "name": "Bank", "type": "asset"}).status == 409
    assert client.post("/v1/accounts", {"number": "4998", "name": "A", "type": "expense"}).status == 201
    resp = client.post("/v1/accounts", {"number": "4998", "name": "B", "type": "expense"})
    assert resp.status == 409 and resp.json()["error"]["code"] == "ACCOUNT_EXISTS"


def test_given_a_wrong_length_or_group_when_creating_then_400(client: Any) -> None:
    assert client.post("/v1/accounts", {"number": "49999", "name": "A", "type": "expense"}).status == 400
    resp = client.post("/v1/accounts", {"number": "4997", "name": "A", "type": "expense",
                                        "report_group": "bs_b_cash"})
    assert resp.status == 400 and resp.json()["error"]["details"][0]["field"] == "report_group"


def test_given_an_idempotency_key_when_posting_twice_then_the_first_response_is_replayed(client: Any) -> None:
    body = {"number": "4996", "name": "Idem", "type": "expense"}
    first = client.post("/v1/accounts", body, headers={"Idempotency-Key": "k-1"})
    again = client.post("/v1/accounts", body, headers={"Idempotency-Key": "k-1"})
    assert first.status == again.status == 201 and first.json() == again.json()
    other = client.post("/v1/accounts", {**body, "name": "Other"}, headers={"Idempotency-Key": "k-1"})
    assert other.status == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


# ----------------------------------------------------------------- tax codes
def test_given_a_new_tenant_when_listing_tax_codes_then_the_system_codes_of_api_md(client: Any) -> None:
    codes = {c["code"]: c for c in client.get("/v1/tax-codes").json()["tax_codes"]}
    assert set(codes) == {"USt19", "USt7", "VSt19", "VSt7", "RC19", "IGE19"}
    assert codes["USt19"]["vat_account"] == "1776" and codes["USt19"]["rate"] == 19
    assert codes["RC19"]["vat_account"] == "1577" and codes["RC19"]["self_assess_account"] == "1787"
    assert codes["IGE19"]["self_assess_account"] == "1774"
    assert all(c["is_system"] and c["is_active"] for c in codes.values())


def test_given_skr04_when_listing_tax_codes_then_skr04_accounts(gateway: Any, make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    t = tenants.create_tenant("SKR04 GmbH", "skr04")
    codes = {c["code"]: c for c in make_client(t.admin_key).get("/v1/tax-codes").json()["tax_codes"]}
    assert codes["USt19"]["vat_account"] == "3806" and codes["VSt7"]["vat_account"] == "1401"
    assert codes["RC19"]["self_assess_account"] == "3837"


def test_given_a_custom_code_when_created_patched_and_deleted_then_it_is_deactivated(client: Any) -> None:
    resp = client.post("/v1/tax-codes", {"code": "USt16", "label": "USt 16 % (2020)", "rate": 16,
                                         "vat_account": "1770"})
    assert resp.status == 201, resp.body
    assert resp.json()["rate"] == 16 and resp.json()["is_system"] is False
    patched = client.patch("/v1/tax-codes/USt16", {"label": "Umsatzsteuer 16 %"})
    assert patched.json() == {"code": "USt16", "label": "Umsatzsteuer 16 %", "is_active": True}
    # is_active is a JSON boolean: 0 does not deactivate (pydantic alone would read it as false)
    refused = client.patch("/v1/tax-codes/USt16", {"is_active": 0})
    assert refused.status == 400 and refused.json()["error"]["details"][0]["field"] == "is_active"
    deleted = client.delete("/v1/tax-codes/USt16")
    assert deleted.json() == {"code": "USt16", "is_active": False}
    assert "USt16" not in {c["code"] for c in client.get("/v1/tax-codes").json()["tax_codes"]}
    inactive = client.get("/v1/tax-codes?include_inactive=true").json()["tax_codes"]
    assert any(c["code"] == "USt16" and c["is_active"] is False for c in inactive)


def test_given_a_system_code_when_changing_its_rate_then_409(client: Any) -> None:
    resp = client.patch("/v1/tax-codes/USt19", {"rate": 16})
    assert resp.status == 409 and resp.json()["error"]["code"] == "SYSTEM_TAX_CODE_IMMUTABLE"
    assert client.patch("/v1/tax-codes/USt19", {"label": "USt 19"}).status == 200


def test_given_bad_tax_code_input_then_4xx(client: Any) -> None:
    assert client.post("/v1/tax-codes", {"code": "X", "label": "X", "rate": 101, "vat_account": "1776"}).status == 400
    assert client.post("/v1/tax-codes", {"code": "X", "label": "X", "rate": "7.125",
                                         "vat_account": "1776"}).status == 400
    resp = client.post("/v1/tax-codes", {"code": "X", "label": "X", "rate": 7, "vat_account": "1234"})
    assert resp.status == 404
    assert client.post("/v1/tax-codes", {"code": "USt19", "label": "X", "rate": 19,
                                         "vat_account": "1776"}).status == 409
    assert client.patch("/v1/tax-codes/NOPE", {"label": "x"}).status == 404
    assert client.delete("/v1/tax-codes/NOPE").status == 404


# ----------------------------------------------------------------- API keys
def test_given_an_admin_when_creating_a_key_then_it_is_shown_once_and_works(client: Any, make_client: Any) -> None:
    resp = client.post("/v1/api-keys", {"label": "Buchhaltung", "scopes": ["journal:read", "journal:write"]})
    assert resp.status == 201
    created = resp.json()
    assert created["key"].startswith("ll_") and len(created["key"]) >= 35
    assert created["prefix"] == created["key"][:11]
    listed = client.get("/v1/api-keys").json()["api_keys"]
    assert all("key" not in k for k in listed)
    assert any(k["id"] == created["id"] and k["scopes"] == ["journal:read", "journal:write"] for k in listed)
    assert make_client(created["key"]).get("/v1/accounts").status == 200


def test_given_a_revoked_key_when_used_then_401(client: Any, make_client: Any) -> None:
    created = client.post("/v1/api-keys", {"label": "temp", "scopes": ["journal:read"]}).json()
    assert make_client(created["key"]).get("/v1/accounts").status == 200
    revoked = client.delete(f"/v1/api-keys/{created['id']}")
    assert revoked.status == 200 and revoked.json()["revoked_at"]
    assert make_client(created["key"]).get("/v1/accounts").status == 401
    assert client.delete(f"/v1/api-keys/{created['id']}").status == 409


def test_given_unknown_scopes_or_key_ids_then_4xx(client: Any) -> None:
    resp = client.post("/v1/api-keys", {"label": "x", "scopes": ["everything"]})
    assert resp.status == 400 and resp.json()["error"]["details"][0]["field"] == "scopes"
    assert client.delete("/v1/api-keys/00000000-0000-0000-0000-000000000000").status == 404
    assert client.delete("/v1/api-keys/not-a-uuid").status == 400


# ----------------------------------------------------------------- tenant isolation
def test_given_two_tenants_then_neither_sees_the_others_accounts_codes_or_keys(
        client: Any, make_client: Any, tenant: Any) -> None:
    from ledgerlou.domain.admin import tenants

    client.post("/v1/accounts", {"number": "4995", "name": "Nur Tenant A", "type": "expense"})
    client.post("/v1/tax-codes", {"code": "A16", "label": "A", "rate": 16, "vat_account": "1770"})
    key_a = client.post("/v1/api-keys", {"label": "a-key", "scopes": ["journal:read"]}).json()
    other = make_client(tenants.create_tenant("Andere GmbH", "skr03").admin_key)
    assert other.get("/v1/accounts/search?q=4995").json()["accounts"] == []
    assert "A16" not in {c["code"] for c in other.get("/v1/tax-codes?include_inactive=true").json()["tax_codes"]}
    assert key_a["id"] not in {k["id"] for k in other.get("/v1/api-keys").json()["api_keys"]}
    # another tenant's id is answered like an id that does not exist
    assert other.delete(f"/v1/api-keys/{key_a['id']}").status == 404
    assert other.patch("/v1/tax-codes/A16", {"label": "hijack"}).status == 404
    # and tenant A's key still works on tenant A only
    assert client.patch("/v1/tax-codes/A16", {"label": "mine"}).status == 200


def test_given_a_non_admin_key_when_minting_more_rights_then_403(client: Any, make_client: Any) -> None:
    # only admin may manage keys at all, so a journal key cannot mint anything
    created = client.post("/v1/api-keys", {"label": "j", "scopes": ["journal:write", "journal:read"]}).json()
    resp = make_client(created["key"]).post("/v1/api-keys", {"label": "x", "scopes": ["admin"]})
    assert resp.status == 403


def test_given_the_openapi_route_then_no_auth_is_needed(client: Any) -> None:
    resp = client.get("/v1/openapi.json", token=None)
    assert resp.status == 200
    doc = resp.json()
    assert doc["openapi"].startswith("3.")
    assert "/v1/accounts" in doc["paths"]
