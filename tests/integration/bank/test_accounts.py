"""Bank accounts through the API: creation, ledger-account links, validation, renaming, auth and tenancy."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.bank.support import (
    IBAN,
    OTHER_IBAN,
    account,
    create_account,
    limited,
    row,
    upload,
)


def test_given_an_iban_with_spaces_when_creating_then_it_is_stored_compact_and_linked_to_1200(client: Any) -> None:
    # When a bank account is created with a formatted IBAN and a BIC
    acc = create_account(client, iban="de89 3704 0044 0532 0130 00", bic="cobadeffxxx")
    # Then it is stored compact, in the base currency, linked to the first free bank ledger account
    assert (acc["iban"], acc["bic"], acc["currency"], acc["ledger_account"]) == (IBAN, "COBADEFFXXX", "EUR", "1200")
    assert (acc["tx_count"], acc["unreconciled_count"], acc["last_tx_date"]) == (0, 0, None)
    # and it is listed and readable
    assert [a["id"] for a in client.get("/v1/bank-accounts").json()] == [acc["id"]]
    assert account(client, acc["id"])["name"] == "Hausbank"


def test_given_bank_accounts_then_each_gets_the_next_free_ledger_account_or_the_given_one(client: Any) -> None:
    first = create_account(client)
    second = create_account(client, iban=None, account_number="123456789", currency="USD")
    explicit = create_account(client, iban=None, account_number="42", ledger_account="1240")
    third = create_account(client, iban=None, account_number="43")
    assert [first["ledger_account"], second["ledger_account"], explicit["ledger_account"], third["ledger_account"]] \
        == ["1200", "1210", "1240", "1220"]
    assert second["currency"] == "USD"


def test_given_a_ledger_account_that_is_not_a_bank_account_or_unknown_or_taken_then_rejected(client: Any) -> None:
    create_account(client)
    not_bank = client.post("/v1/bank-accounts", {"name": "x", "account_number": "1", "ledger_account": "4930"})
    assert not_bank.status == 400 and not_bank.json()["error"]["details"][0]["field"] == "ledger_account"
    unknown = client.post("/v1/bank-accounts", {"name": "x", "account_number": "1", "ledger_account": "1299"})
    assert unknown.status == 404 and unknown.json()["error"]["code"] == "ACCOUNT_NOT_FOUND"
    taken = client.post("/v1/bank-accounts", {"name": "x", "account_number": "1", "ledger_account": "1200"})
    assert taken.status == 409 and taken.json()["error"]["code"] == "LEDGER_ACCOUNT_IN_USE"


def test_given_a_custom_account_of_category_bank_then_it_can_be_linked(client: Any) -> None:
    assert client.post("/v1/accounts", {"number": "1260", "name": "Tagesgeld", "type": "asset",
                                        "category": "bank"}).status == 201
    assert create_account(client, ledger_account="1260")["ledger_account"] == "1260"


def test_given_an_skr04_tenant_then_the_first_bank_account_is_linked_to_1800(make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    skr04 = make_client(tenants.create_tenant("SKR04 GmbH", "skr04").admin_key)
    assert create_account(skr04)["ledger_account"] == "1800"
    assert create_account(skr04, iban=OTHER_IBAN)["ledger_account"] == "1810"


def test_given_every_bank_account_of_the_chart_linked_when_an_eighth_is_created_then_1201_is_created_for_it(
        client: Any) -> None:
    # Given the seven SKR03 bank accounts 1200, 1210, 1220, 1230, 1240, 1250, 1290 linked
    for number in range(7):
        create_account(client, iban=None, account_number=str(number))
    # When an eighth and a ninth bank account are created
    eighth = create_account(client, name="Sparkasse Tagesgeld", iban=None, account_number="99")
    ninth = create_account(client, name="Volksbank", iban=None, account_number="98")
    # Then each gets the next free number of the bank range, created as a bank account named after it
    assert (eighth["ledger_account"], ninth["ledger_account"]) == ("1201", "1202")
    chart = {a["number"]: a for a in client.get("/v1/accounts/search?q=120").json()["accounts"]}
    assert (chart["1201"]["name"], chart["1201"]["type"], chart["1201"]["category"]) == \
        ("Sparkasse Tagesgeld", "asset", "bank")
    assert chart["1202"]["name"] == "Volksbank"


def test_given_a_custom_account_in_the_bank_range_then_the_numbering_skips_it(client: Any) -> None:
    # Given 1201 taken by a custom account of the tenant (not a bank account) and the chart's seven linked
    assert client.post("/v1/accounts", {"number": "1201", "name": "Schecks", "type": "asset"}).status == 201
    for number in range(7):
        create_account(client, iban=None, account_number=str(number))
    # When another bank account is created, then it gets 1202
    assert create_account(client, iban=None, account_number="99")["ledger_account"] == "1202"


def test_given_two_bank_accounts_created_at_once_beyond_the_chart_then_each_gets_its_own_number(
        client: Any) -> None:
    import threading

    for number in range(7):
        create_account(client, iban=None, account_number=str(number))
    results: list[Any] = []

    def create(n: int) -> None:
        results.append(client.post("/v1/bank-accounts", {"name": f"Konto {n}", "account_number": f"9{n}"}))

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == [201] * 4
    assert sorted(r.json()["ledger_account"] for r in results) == ["1201", "1202", "1203", "1204"]


def test_given_the_whole_bank_range_used_then_409_no_free_ledger_account(client: Any) -> None:
    # Given every number 1200–1299 an account: the chart's seven and 93 custom ones
    system = {1200, 1210, 1220, 1230, 1240, 1250, 1290}
    for number in set(range(1200, 1300)) - system:
        assert client.post("/v1/accounts", {"number": str(number), "name": f"Konto {number}",
                                            "type": "asset"}).status == 201
    for number in range(7):
        create_account(client, iban=None, account_number=str(number))
    # Then the eighth bank account is refused
    resp = client.post("/v1/bank-accounts", {"name": "one too many", "account_number": "99"})
    assert resp.status == 409 and resp.json()["error"]["code"] == "NO_FREE_LEDGER_ACCOUNT"
    assert "1200–1299" in resp.json()["error"]["message"]


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "iban": "DE89370400440532013001"}, "iban"),  # checksum
    ({"name": "x", "iban": "DE8937040044053201300"}, "iban"),  # length
    ({"name": "x", "iban": "XX89370400440532013000"}, "iban"),  # country
    ({"name": "x", "iban": IBAN, "bic": "COBADE"}, "bic"),
    ({"name": "x", "iban": IBAN, "bic": "COBAXXFFXXX"}, "bic"),  # no country XX
    ({"name": "x"}, "iban"),  # neither iban nor account_number
    ({"iban": IBAN}, "name"),
    ({"name": "x", "iban": IBAN, "currency": "euro"}, "currency"),
    ({"name": "x", "iban": IBAN, "colour": "blue"}, "colour"),
])
def test_given_an_invalid_bank_account_then_400_names_the_field(client: Any, body: dict[str, Any], field: str) -> None:
    resp = client.post("/v1/bank-accounts", body)
    assert resp.status == 400, resp.body
    assert resp.json()["error"]["code"] == "INVALID_INPUT"
    assert field in [d["field"] for d in resp.json()["error"]["details"]]
    assert client.get("/v1/bank-accounts").json() == []


def test_given_an_iban_in_use_then_409_bank_account_exists(client: Any) -> None:
    create_account(client)
    resp = client.post("/v1/bank-accounts", {"name": "again", "iban": "DE89 3704 0044 0532 0130 00"})
    assert resp.status == 409 and resp.json()["error"]["code"] == "BANK_ACCOUNT_EXISTS"
    assert len(client.get("/v1/bank-accounts").json()) == 1


def test_given_a_bank_account_when_renamed_then_only_the_name_changes(client: Any) -> None:
    acc = create_account(client)
    resp = client.put(f"/v1/bank-accounts/{acc['id']}", {"name": "Geschäftskonto"})
    assert resp.status == 200 and resp.json()["name"] == "Geschäftskonto" and resp.json()["iban"] == IBAN
    assert client.put(f"/v1/bank-accounts/{acc['id']}", {"name": "x", "iban": OTHER_IBAN}).status == 400
    assert client.put(f"/v1/bank-accounts/{acc['id']}", {"name": ""}).status == 400
    assert client.put(f"/v1/bank-accounts/{uuid.uuid4()}", {"name": "x"}).status == 404


def test_given_unknown_or_malformed_ids_then_404_or_400(client: Any) -> None:
    assert client.get(f"/v1/bank-accounts/{uuid.uuid4()}").json()["error"]["code"] == "NOT_FOUND"
    assert client.get("/v1/bank-accounts/not-an-id").status == 400
    assert client.get(f"/v1/bank-transactions/{uuid.uuid4()}").status == 404
    assert client.get(f"/v1/bank-transactions/import-batches/{uuid.uuid4()}").status == 404


def test_given_the_same_idempotency_key_then_the_bank_account_is_created_once(client: Any) -> None:
    headers = {"Idempotency-Key": "create-hausbank"}
    first = client.post("/v1/bank-accounts", {"name": "Hausbank", "iban": IBAN}, headers=headers)
    again = client.post("/v1/bank-accounts", {"name": "Hausbank", "iban": IBAN}, headers=headers)
    assert first.status == again.status == 201 and first.json() == again.json()
    assert again.headers.get("idempotent-replayed") == "true"


def test_given_no_token_then_401(client: Any) -> None:
    assert client.get("/v1/bank-accounts", token=None).status == 401
    assert client.post("/v1/bank-transactions", {"bank_account_id": str(uuid.uuid4()), "transactions": []},
                       token=None).status == 401


def test_given_a_key_without_bank_scopes_then_403(client: Any, make_client: Any) -> None:
    acc = create_account(client)
    journal_only = limited(client, make_client, ["journal:read"])
    for resp in (journal_only.get("/v1/bank-accounts"), journal_only.get(f"/v1/bank-accounts/{acc['id']}"),
                 journal_only.get("/v1/bank-transactions"),
                 journal_only.get("/v1/bank-transactions/unreconciled-count"),
                 journal_only.get("/v1/bank-accounts/balance-history"),
                 journal_only.post("/v1/bank-accounts", {"name": "x", "iban": OTHER_IBAN}),
                 journal_only.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [row()]}),
                 upload(journal_only, b"x", acc["id"])):
        assert resp.status == 403 and resp.json()["error"]["code"] == "FORBIDDEN"


def test_given_a_read_only_bank_key_then_reads_work_and_writes_are_403(client: Any, make_client: Any) -> None:
    acc = create_account(client)
    reader = limited(client, make_client, ["bank:read"])
    assert reader.get(f"/v1/bank-accounts/{acc['id']}").status == 200
    assert reader.get("/v1/bank-transactions").status == 200
    assert reader.put(f"/v1/bank-accounts/{acc['id']}", {"name": "x"}).status == 403
    assert reader.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": []}).status == 403
    writer = limited(client, make_client, ["bank:write"])
    assert writer.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [row()]}).status == 201
    assert writer.get("/v1/bank-accounts").status == 403


def test_given_another_tenants_ids_then_404_like_unknown_ids(client: Any, make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    acc = create_account(client)
    imported = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [row()]}).json()
    tx = client.get("/v1/bank-transactions").json()["transactions"][0]
    other = make_client(tenants.create_tenant("Fremd GmbH").admin_key)
    assert other.get(f"/v1/bank-accounts/{acc['id']}").json()["error"]["code"] == "NOT_FOUND"
    assert other.put(f"/v1/bank-accounts/{acc['id']}", {"name": "mine"}).status == 404
    assert other.get(f"/v1/bank-transactions/{tx['id']}").status == 404
    assert other.get(f"/v1/bank-transactions/import-batches/{imported['batch_id']}").status == 404
    assert other.get(f"/v1/bank-transactions?bank_account_id={acc['id']}").status == 404
    assert other.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [row()]}).status == 404
    assert upload(other, b"<Document/>", acc["id"]).status == 404
    # and the other tenant sees nothing of ours, and may use the same IBAN for its own account
    assert other.get("/v1/bank-accounts").json() == []
    assert other.get("/v1/bank-transactions").json() == {"transactions": [], "total": 0}
    assert create_account(other)["iban"] == IBAN
    assert account(client, acc["id"])["tx_count"] == 1
