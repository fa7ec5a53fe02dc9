"""Bank accounts, bank transactions and statement imports (camt.053, MT940, bank CSV) through the API,
with the SQS import worker fed by the local poller."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
import zlib
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import samples_dir
from tests.integration.test_documents import multipart
from tests.unit.test_statement_formats import EXPECTED, Expected

IBAN = "DE89370400440532013000"  # the well-known valid German example IBAN
OTHER_IBAN = "DE02120300000000202051"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# ------------------------------------------------------------------------------------- helpers
def create_account(client: Any, **fields: Any) -> dict[str, Any]:
    body = {"name": "Hausbank", "iban": IBAN, **fields}
    resp = client.post("/v1/bank-accounts", {k: v for k, v in body.items() if v is not None})
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def upload(client: Any, data: bytes, account_id: str | None = None, name: str = "auszug.xml",
           fields: dict[str, str] | None = None) -> Any:
    body, headers = multipart(data, name)
    if fields:  # extra plain form fields go before the closing boundary
        boundary = headers["content-type"].split("boundary=")[1]
        extra = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
                         for k, v in fields.items())
        body = extra + body
    url = f"/v1/bank-accounts/{account_id}/upload" if account_id else "/v1/bank-transactions/import-file"
    return client.request("POST", url, body=body, headers=headers)


def all_transactions(client: Any, account_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.get(f"/v1/bank-transactions?bank_account_id={account_id}&limit=500&offset={len(out)}").json()
        out.extend(page["transactions"])
        if len(out) >= page["total"]:
            return out


def account(client: Any, account_id: str) -> dict[str, Any]:
    resp = client.get(f"/v1/bank-accounts/{account_id}")
    assert resp.status == 200, resp.body
    return resp.json()  # type: ignore[no-any-return]


def row(**fields: Any) -> dict[str, Any]:
    return {"booking_date": "2026-01-15", "amount": "119.00", **fields}


@pytest.fixture
def import_worker(gateway: Any, aws: dict[str, str]) -> Any:
    """The SQS poller of the import worker, driven by the test (poll_once(0) drains deterministically)."""
    from local.pollers import SqsPoller

    poller = SqsPoller(gateway, "ImportWorkerFunction", aws["ImportQueue"], 5, threading.Event())
    while poller.poll_once(0):  # nothing left over from another test
        pass
    return poller


def drain(poller: Any) -> int:
    total = 0
    while (n := poller.poll_once(0)):
        total += n
    return total


def limited(client: Any, make_client: Any, scopes: list[str]) -> Any:
    return make_client(client.post("/v1/api-keys", {"label": "x", "scopes": scopes}).json()["key"])


# ------------------------------------------------------------------------------------- bank accounts
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
    assert unknown.status == 400 and unknown.json()["error"]["code"] == "ACCOUNT_NOT_FOUND"
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


def test_given_every_auto_ledger_account_taken_then_409(client: Any) -> None:
    for number in range(7):  # 1200, 1210, 1220, 1230, 1240, 1250, 1290 are the SKR03 bank accounts
        create_account(client, iban=None, account_number=str(number))
    resp = client.post("/v1/bank-accounts", {"name": "one too many", "account_number": "99"})
    assert resp.status == 409 and resp.json()["error"]["code"] == "NO_FREE_LEDGER_ACCOUNT"


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


# ------------------------------------------------------------------------------------- auth and tenancy
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


# ------------------------------------------------------------------------------------- JSON import
def test_given_good_and_bad_rows_when_imported_then_the_good_ones_import_and_the_bad_ones_are_reported(
        client: Any) -> None:
    acc = create_account(client)
    # Given rows of which some are broken
    rows = [row(purpose="RE-1 Müller", counterparty_name="Müller GmbH",
                counterparty_iban="de02 1203 0000 0000 2020 51"),
            row(amount="119.001"), "not an object", row(booking_date="2026-02-30"), {"amount": 5},
            row(amount="-42.50", bank_reference="BANKREF-1", value_date="2026-01-16", currency="USD"),
            row(colour="blue"), row(counterparty_iban="nope"), row(amount="1000000000000.00"),
            row(booking_date=0), row(value_date="2026-01-16T00:00:00")]
    # When they are imported
    resp = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows})
    # Then the two good rows are imported and every bad row is reported with its index and field
    assert resp.status == 201, resp.body
    result = resp.json()
    assert (result["total_rows"], result["imported"], result["skipped_duplicates"]) == (11, 2, 0)
    reasons = {e["index"]: e["reason"] for e in result["errors"]}
    assert sorted(reasons) == [1, 2, 3, 4, 6, 7, 8, 9, 10]
    assert reasons[1].startswith("amount:") and "2 decimals" in reasons[1]
    assert reasons[4].startswith("booking_date:") and reasons[6].startswith("colour:")
    assert reasons[7].startswith("counterparty_iban:")
    # a Unix timestamp or a datetime is not a date (pydantic alone would book 0 as 1970-01-01)
    assert reasons[9] == "booking_date: must be a date written YYYY-MM-DD"
    assert reasons[10] == "value_date: must be a date written YYYY-MM-DD"
    # and the transactions are stored exactly, unreconciled, with the batch id
    txs = {t["amount"]: t for t in all_transactions(client, acc["id"])}
    assert set(txs) == {Decimal("119.00"), Decimal("-42.50")}
    first = txs[Decimal("119.00")]
    assert (first["counterparty_iban"], first["currency"], first["status"], first["batch_id"]) == \
        (OTHER_IBAN, "EUR", "unreconciled", result["batch_id"])
    assert txs[Decimal("-42.50")]["currency"] == "USD" and txs[Decimal("-42.50")]["value_date"] == "2026-01-16"
    assert account(client, acc["id"])["tx_count"] == 2
    # and amounts are JSON numbers with two decimals
    assert b'"amount":119.00' in client.get(f"/v1/bank-transactions/{first['id']}").body


def test_given_an_import_when_repeated_then_nothing_is_imported_twice(client: Any) -> None:
    acc = create_account(client)
    rows = [row(), row(), row(amount="-5.00", bank_reference="R-1"), row(amount="7.00", purpose="Miete")]
    first = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}).json()
    # Two identical rows of one import are two real transactions: both import
    assert (first["imported"], first["skipped_duplicates"]) == (4, 0)
    again = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}).json()
    assert (again["imported"], again["skipped_duplicates"], again["total_rows"]) == (0, 4, 4)
    # An overlapping import adds only what is new (the third identical row of that day)
    more = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"],
                                                 "transactions": [row(), row(), row()]}).json()
    assert (more["imported"], more["skipped_duplicates"]) == (1, 2)
    assert account(client, acc["id"])["tx_count"] == 5 == len(all_transactions(client, acc["id"]))


def test_given_the_same_bank_reference_on_different_amounts_then_both_import(client: Any) -> None:
    # Banks reuse one reference for the parts of a batch booking (VR-Bank, Bundesbank samples)
    acc = create_account(client)
    rows = [row(amount="-3.50", bank_reference="2013122711513230000"),
            row(amount="-2.50", bank_reference="2013122711513230000")]
    assert client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}
                       ).json()["imported"] == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"transactions": []}, "bank_account_id"),
    ({"bank_account_id": "x", "transactions": []}, "bank_account_id"),
    ({"bank_account_id": str(uuid.uuid4()), "transactions": "many"}, "transactions"),
    ({"bank_account_id": str(uuid.uuid4()), "transactions": [{}] * 1001}, "transactions"),
    ({"bank_account_id": str(uuid.uuid4()), "transactions": [], "x": 1}, "x"),
])
def test_given_a_malformed_json_import_then_400(client: Any, body: dict[str, Any], field: str) -> None:
    resp = client.post("/v1/bank-transactions", body)
    assert resp.status == 400, resp.body
    assert field in [d["field"] for d in resp.json()["error"]["details"]]


def test_given_an_unknown_bank_account_when_importing_then_404(client: Any) -> None:
    resp = client.post("/v1/bank-transactions", {"bank_account_id": str(uuid.uuid4()), "transactions": [row()]})
    assert resp.status == 404 and resp.json()["error"]["code"] == "NOT_FOUND"


def test_given_an_idempotency_key_when_the_import_is_retried_then_the_first_result_comes_back(client: Any) -> None:
    acc = create_account(client)
    body = {"bank_account_id": acc["id"], "transactions": [row()]}
    first = client.post("/v1/bank-transactions", body, headers={"Idempotency-Key": "imp-1"})
    again = client.post("/v1/bank-transactions", body, headers={"Idempotency-Key": "imp-1"})
    assert first.json() == again.json() and again.json()["imported"] == 1
    other = client.post("/v1/bank-transactions", {**body, "transactions": [row(), row()]},
                        headers={"Idempotency-Key": "imp-1"})
    assert other.status == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


# ------------------------------------------------------------------------------------- reading transactions
def test_given_transactions_then_they_can_be_filtered_searched_and_paged(client: Any) -> None:
    acc = create_account(client)
    second = create_account(client, iban=OTHER_IBAN, name="Tagesgeld")
    rows = [row(booking_date="2026-01-05", amount="100.00", counterparty_name="Müller GmbH", purpose="RE-100"),
            row(booking_date="2026-01-20", amount="-20.00", purpose="Gebühren Januar"),
            row(booking_date="2026-02-03", amount="-1234.56", counterparty_name="Finanzamt", purpose="USt"),
            row(booking_date="2026-03-01", amount="50.00", purpose="Zinsen")]
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows})
    client.post("/v1/bank-transactions", {"bank_account_id": second["id"], "transactions": [row(amount="9.99")]})

    everything = client.get("/v1/bank-transactions").json()
    assert everything["total"] == 5
    ours = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}").json()
    assert [t["booking_date"] for t in ours["transactions"]] == ["2026-03-01", "2026-02-03", "2026-01-20", "2026-01-05"]
    january = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&start_date=2026-01-06"
                         "&end_date=2026-02-28").json()
    assert [t["amount"] for t in january["transactions"]] == [Decimal("-1234.56"), Decimal("-20.00")]
    assert client.get("/v1/bank-transactions?search=müller").json()["total"] == 1
    assert client.get("/v1/bank-transactions?search=1234,56").json()["transactions"][0]["purpose"] == "USt"
    page = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&limit=2&offset=1").json()
    assert page["total"] == 4 and [t["booking_date"] for t in page["transactions"]] == ["2026-02-03", "2026-01-20"]
    assert client.get("/v1/bank-transactions?status=unreconciled").json()["total"] == 5
    assert client.get("/v1/bank-transactions?status=reconciled").json()["total"] == 0
    assert client.get("/v1/bank-transactions/unreconciled-count").json() == {"count": 5}
    assert client.get(f"/v1/bank-transactions/unreconciled-count?bank_account_id={second['id']}").json() == {
        "count": 1}
    got = client.get(f"/v1/bank-transactions/{ours['transactions'][0]['id']}").json()["transaction"]
    assert got == ours["transactions"][0]
    detail = account(client, acc["id"])
    assert (detail["tx_count"], detail["unreconciled_count"], detail["last_tx_date"]) == (4, 4, "2026-03-01")


def test_given_many_months_and_accounts_then_every_page_is_a_slice_of_the_full_order(client: Any) -> None:
    # Given transactions over three months in two accounts
    acc, second = create_account(client), create_account(client, iban=OTHER_IBAN)
    start = dt.date(2026, 1, 1)
    for target, count, step in ((acc, 30, 3), (second, 12, 7)):
        rows = [row(booking_date=(start + dt.timedelta(days=i * step % 85)).isoformat(), amount=f"{i + 1}.00",
                    purpose=f"{target['id']} {i}") for i in range(count)]
        client.post("/v1/bank-transactions", {"bank_account_id": target["id"], "transactions": rows})
    for query in ("", "&start_date=2026-01-10&end_date=2026-02-20", f"&bank_account_id={second['id']}"):
        # The filtered path reads everything: the reference order
        full = client.get(f"/v1/bank-transactions?status=unreconciled&limit=500{query}").json()
        ids = [t["id"] for t in full["transactions"]]
        dates = [t["booking_date"] for t in full["transactions"]]
        assert dates == sorted(dates, reverse=True)
        # When pages are read without a filter (month counts, partial reads)
        for offset, limit in ((0, 7), (5, 10), (20, 15), (len(ids) - 3, 10), (len(ids) + 5, 5)):
            page = client.get(f"/v1/bank-transactions?limit={limit}&offset={offset}{query}").json()
            # Then each page is exactly that slice, and the total is the same
            assert page["total"] == full["total"] == len(ids)
            assert [t["id"] for t in page["transactions"]] == ids[offset : offset + limit]


@pytest.mark.parametrize("query", ["limit=501", "limit=0", "offset=-1", "status=open", "start_date=2026-13-01",
                                   "bank_account_id=x", "start_date=2026-02-01&end_date=2026-01-01"])
def test_given_bad_list_parameters_then_400(client: Any, query: str) -> None:
    resp = client.get(f"/v1/bank-transactions?{query}")
    assert resp.status == 400, resp.body
    assert resp.json()["error"]["details"]


# ------------------------------------------------------------------------------------- statement files
def _account_for(client: Any, label: str, number: int) -> dict[str, Any]:
    from ledgerlou.domain.bank.accounts import validate_iban
    from ledgerlou.errors import InvalidInput

    ledger = None
    if number >= 7:  # SKR03 has seven bank ledger accounts to pick from: the rest get custom ones
        ledger = str(1251 + number)
        assert client.post("/v1/accounts", {"number": ledger, "name": f"Bank {label}", "type": "asset",
                                            "category": "bank"}).status == 201
    try:
        valid = validate_iban(label) == label
    except InvalidInput:
        valid = False  # anonymised sample IBANs and MT940 BLZ/account numbers: known by the number then
    if valid:
        return create_account(client, iban=label, name=label, ledger_account=ledger)
    return create_account(client, iban=None, account_number=label, name=label, ledger_account=ledger)


def all_of_tenant(client: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.get(f"/v1/bank-transactions?limit=500&offset={len(out)}").json()
        out.extend(page["transactions"])
        if len(out) >= page["total"]:
            return out


@pytest.mark.parametrize("expected", EXPECTED, ids=[e.path for e in EXPECTED])
def test_given_every_sample_statement_when_uploaded_twice_then_all_import_once(client: Any,
                                                                               expected: Expected) -> None:
    from ledgerlou.formats.detect import parse_statement

    # Given a real statement file and its bank account(s): a multi-account MT940 export has several
    data = samples_dir(*expected.path.split("/")).read_bytes()
    labels = list(dict.fromkeys(s.account_iban or s.account_number for s in parse_statement(data).statements))
    accounts = [_account_for(client, label, i) for i, label in enumerate(labels) if label]
    # When it is uploaded to its bank account (a file of several accounts: imported by file, and each
    # statement finds its account)
    target = accounts[0]["id"] if len(accounts) == 1 else None
    resp = upload(client, data, target, expected.path.split("/")[1])
    # Then every transaction the parser reads is imported, with the exact sum
    assert resp.status == 201, resp.body
    result = resp.json()
    assert (result["format"], result["dialect"], len(result["statements"])) == \
        (expected.format, expected.dialect, expected.statements)
    assert sorted(result["bank_account_ids"]) == sorted(a["id"] for a in accounts)
    assert (result["imported"], result["skipped_duplicates"]) == (expected.transactions, 0)
    assert result["total_rows"] == expected.transactions + len(expected.row_errors)
    assert [(e["index"], e["reason"]) for e in result["errors"]] == [(e.index, e.reason) for e in expected.row_errors]
    assert result["balance_mismatches"] == list(expected.balance_problems)
    txs = all_of_tenant(client)
    assert len(txs) == expected.transactions
    assert sum((t["amount"] for t in txs), Decimal(0)) == expected.total
    assert all(t["document_id"] == result["document_id"] for t in txs)
    assert sum(account(client, a["id"])["tx_count"] for a in accounts) == expected.transactions
    # and the file is kept as a document (the Beleg of the bank transactions)
    stored = client.get(f"/v1/documents/{result['document_id']}/file")
    assert stored.status == 200 and stored.body == data
    # When the same file is uploaded again
    again = upload(client, data, target).json()
    # Then nothing is imported twice
    assert (again["imported"], again["skipped_duplicates"]) == (0, expected.transactions)
    assert len(all_of_tenant(client)) == expected.transactions
    assert sum(account(client, a["id"])["tx_count"] for a in accounts) == expected.transactions


def test_given_a_multi_account_export_when_uploaded_to_one_account_then_409(client: Any) -> None:
    data = samples_dir("mt940", "betterplace_de-multi-statement.sta").read_bytes()
    acc = create_account(client, iban=None, account_number="50880050/0194774600888")
    resp = upload(client, data, acc["id"], "export.sta")
    assert resp.status == 409 and resp.json()["error"]["code"] == "STATEMENT_ACCOUNT_MISMATCH"
    # and by file, the statements of accounts that do not exist yet are named in the 404
    resp = upload(client, data, name="export.sta")
    assert resp.status == 404 and "50880050/0194777100888" in resp.json()["error"]["message"]
    assert account(client, acc["id"])["tx_count"] == 0


def test_given_a_statement_when_imported_by_file_without_account_then_the_iban_finds_it(client: Any) -> None:
    data = samples_dir("camt053", "de_vrbank-rottal-inn_camt.053.001.02.xml").read_bytes()
    create_account(client)  # another account
    acc = create_account(client, iban="DE14740618130000033626", name="VR-Bank")
    resp = upload(client, data)
    assert resp.status == 201, resp.body
    assert (resp.json()["bank_account_id"], resp.json()["imported"]) == (acc["id"], 5)
    # and the stated closing balance becomes the account's anchor
    assert (account(client, acc["id"])["stated_balance"], account(client, acc["id"])["stated_balance_date"]) == \
        (Decimal("23.06"), "2013-12-27")


def test_given_an_mt940_file_without_account_then_blz_and_account_number_find_the_account(client: Any) -> None:
    data = samples_dir("mt940", "sparkasse.sta").read_bytes()  # :25:87052000/123456789
    create_account(client)
    acc = create_account(client, iban=None, account_number="123456789")
    resp = upload(client, data, name="sparkasse.sta")
    assert resp.status == 201 and resp.json()["bank_account_id"] == acc["id"] and resp.json()["imported"] == 2
    assert client.get(f"/v1/documents/{resp.json()['document_id']}/file").headers["content-type"] == "text/plain"


def test_given_import_file_with_a_bank_account_id_field_then_that_account_is_used(client: Any) -> None:
    data = samples_dir("bankcsv", "dkb.csv").read_bytes()
    acc = create_account(client, iban="DE42120300001033738756")
    resp = upload(client, data, fields={"bank_account_id": acc["id"]}, name="dkb.csv")
    assert resp.status == 201 and resp.json()["imported"] == 8
    assert upload(client, data, fields={"bank_account_id": "nope"}).status == 400
    assert upload(client, data, fields={"bank_account_id": str(uuid.uuid4())}).status == 404


def test_given_a_statement_of_no_known_account_then_404(client: Any) -> None:
    data = samples_dir("bankcsv", "dkb.csv").read_bytes()
    create_account(client)
    resp = upload(client, data, name="dkb.csv")
    assert resp.status == 404 and resp.json()["error"]["code"] == "NOT_FOUND"


def test_given_a_statement_of_another_account_then_409_and_nothing_is_imported(client: Any) -> None:
    # Given a bank account and the DKB export of another IBAN
    data = samples_dir("bankcsv", "dkb.csv").read_bytes()
    acc = create_account(client)
    # When it is uploaded to the account
    resp = upload(client, data, acc["id"], "dkb.csv")
    # Then 409 and nothing is imported
    assert resp.status == 409 and resp.json()["error"]["code"] == "STATEMENT_ACCOUNT_MISMATCH"
    assert account(client, acc["id"])["tx_count"] == 0


def test_given_an_mt940_statement_of_another_german_account_then_409(client: Any) -> None:
    data = samples_dir("mt940", "sparkasse.sta").read_bytes()  # BLZ 87052000, not the account's 37040044
    acc = create_account(client)
    assert upload(client, data, acc["id"], "sparkasse.sta").json()["error"]["code"] == "STATEMENT_ACCOUNT_MISMATCH"


@pytest.mark.parametrize(("data", "name"), [(PDF, "auszug.pdf"), (b"Datum;Betrag\n01.01.2026;5,00\n", "x.csv"),
                                            (b"<Document><pain/></Document>", "pain.xml"), (b"", "empty.txt")])
def test_given_a_file_that_is_not_a_statement_then_400_unsupported_format(client: Any, data: bytes,
                                                                          name: str) -> None:
    acc = create_account(client)
    resp = upload(client, data, acc["id"], name)
    assert resp.status == 400, resp.body
    assert resp.json()["error"]["code"] == "UNSUPPORTED_FORMAT"
    assert resp.json()["error"]["details"][0]["field"] == "file"
    assert account(client, acc["id"])["tx_count"] == 0


HUGE = "9" * 40  # more digits than Decimal's 28-digit context can quantize to cents


@pytest.mark.parametrize(("name", "data"), [
    ("auszug.sta", (":20:STARTUMSE\r\n:25:37040044/0532013000\r\n:28C:00001/001\r\n"
                    f":60F:C260114EUR{HUGE},00\r\n:61:2601150115CR119,00NTRFNONREF\r\n:86:Miete\r\n"
                    ":62F:C260115EUR219,00\r\n-\r\n").encode()),
    ("auszug.sta", (":20:STARTUMSE\r\n:25:37040044/0532013000\r\n:28C:00001/001\r\n"
                    ":60F:C260114EUR100,00\r\n:61:2601150115CR119,00NTRFNONREF\r\n:86:Miete\r\n"
                    f":61:2601150115CR{HUGE[:14]},NTRFNONREF\r\n:86:Riesig\r\n"
                    ":62F:C260115EUR219,00\r\n-\r\n").encode()),
    ("auszug.csv", ("Buchung;Valuta;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Saldo;Betrag;Währung\n"
                    f"15.01.2026;15.01.2026;Müller;Gutschrift;Miete;{HUGE},00;119,00;EUR\n"
                    "16.01.2026;16.01.2026;Stadtwerke;Lastschrift;Strom;219,00;-20,00;EUR\n").encode()),
])
def test_given_a_statement_stating_an_absurd_amount_then_the_rest_imports_and_no_500(client: Any, name: str,
                                                                                    data: bytes) -> None:
    # Given a bank account and a statement whose balance or one amount has 40 digits (or 14 before
    # the comma: beyond the API's amount range)
    acc = create_account(client, iban=None, account_number="37040044/0532013000")
    # When it is uploaded
    resp = upload(client, data, acc["id"], name)
    # Then it is imported without the absurd figure: a balance is dropped (was 500: quantizing the
    # 40-digit MT940 or CSV balance to cents raised decimal.InvalidOperation), an amount makes its row
    # a row error (as before, now found by the parser)
    assert resp.status == 201, resp.body
    result = resp.json()
    assert result["imported"] >= 1
    assert all(s["opening_balance"] is None or abs(s["opening_balance"]) < 10**12 for s in result["statements"])
    assert all("out of range" in e["reason"] for e in result["errors"])
    assert account(client, acc["id"])["tx_count"] == result["imported"]


def test_given_an_upload_without_multipart_or_file_then_400(client: Any) -> None:
    acc = create_account(client)
    resp = client.request("POST", f"/v1/bank-accounts/{acc['id']}/upload", body=b"{}",
                          headers={"content-type": "application/json"})
    assert resp.status == 400
    body, headers = multipart(b"data", "x.xml", field="other")
    assert client.request("POST", f"/v1/bank-accounts/{acc['id']}/upload", body=body, headers=headers).status == 400
    assert upload(client, PDF, str(uuid.uuid4())).status == 404


def test_given_a_bank_csv_then_the_documents_endpoint_still_refuses_plain_text(client: Any) -> None:
    from tests.integration.test_documents import upload as document_upload

    data = samples_dir("bankcsv", "dkb.csv").read_bytes()
    resp = document_upload(client, data, "dkb.csv")
    assert resp.status == 400 and resp.json()["error"]["code"] == "UNSUPPORTED_FILE_TYPE"


# ------------------------------------------------------------------------------------- the import worker
def _big_camt(entries: int = 600, seed: int = 7, **kw: Any) -> bytes:
    from local.statement_gen import camt053

    return camt053(entries, iban=IBAN, seed=seed, **kw)


def test_given_more_than_500_transactions_then_202_and_the_worker_imports_them(client: Any,
                                                                               import_worker: Any) -> None:
    from ledgerlou.formats.detect import parse_statement

    # Given a bank account and a generated camt.053 with 600 entries
    acc = create_account(client)
    data = _big_camt()
    parsed = [t for s in parse_statement(data).statements for t in s.transactions]
    # When it is uploaded
    resp = upload(client, data, acc["id"])
    # Then the request answers 202 and the batch is queued
    assert resp.status == 202, resp.body
    queued = resp.json()
    assert (queued["status"], queued["total_rows"]) == ("queued", 600)
    assert client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()["status"] == "queued"
    # When the worker has drained the queue
    assert drain(import_worker) == 1
    # Then the batch is complete with exact counts, and every transaction is queryable
    batch = client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()
    assert (batch["status"], batch["imported"], batch["skipped_duplicates"], batch["total_rows"]) == \
        ("completed", 600, 0, 600)
    assert batch["balance_mismatches"] == [] and batch["statements"][0]["transactions"] == 600
    txs = all_transactions(client, acc["id"])
    assert len(txs) == 600 and sum(t["amount"] for t in txs) == sum(t.amount for t in parsed)
    assert account(client, acc["id"])["tx_count"] == 600
    # When the same file is uploaded again
    again = upload(client, data, acc["id"]).json()
    drain(import_worker)
    # Then it imports nothing
    batch = client.get(f"/v1/bank-transactions/import-batches/{again['batch_id']}").json()
    assert (batch["imported"], batch["skipped_duplicates"]) == (0, 600)
    assert account(client, acc["id"])["tx_count"] == 600


def test_given_a_message_delivered_twice_then_nothing_is_imported_twice(client: Any, import_worker: Any,
                                                                       aws: dict[str, str]) -> None:
    import boto3

    acc = create_account(client)
    queued = upload(client, _big_camt(505, seed=8), acc["id"]).json()
    # Given the message twice in the queue (SQS delivers at least once)
    sqs = boto3.client("sqs", region_name="eu-central-1")
    message = {"tenant_id": _tenant_of(client, acc["id"]), "batch_id": queued["batch_id"],
               "document_id": queued["document_id"], "bank_account_id": acc["id"]}
    sqs.send_message(QueueUrl=aws["ImportQueue"], MessageBody=json.dumps(message))
    # When the worker drains both
    assert drain(import_worker) == 2
    # Then the batch is imported once
    batch = client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()
    assert (batch["status"], batch["imported"]) == ("completed", 505)
    assert account(client, acc["id"])["tx_count"] == 505 == len(all_transactions(client, acc["id"]))
    # and a third delivery straight to the handler changes nothing either
    result = client.gateway.invoke("ImportWorkerFunction", _sqs_event(json.dumps(message)))
    assert result == {"batchItemFailures": []}
    assert account(client, acc["id"])["tx_count"] == 505


def test_given_an_import_that_died_halfway_when_retried_then_counts_are_exact(client: Any, import_worker: Any,
                                                                             monkeypatch: Any) -> None:
    from ledgerlou.domain.bank.importing import run as imports
    from ledgerlou.domain.bank.importing import worker

    acc = create_account(client)
    queued = upload(client, _big_camt(503, seed=9), acc["id"]).json()
    tenant_id = _tenant_of(client, acc["id"])
    message = json.dumps({"tenant_id": tenant_id, "batch_id": queued["batch_id"],
                          "document_id": queued["document_id"], "bank_account_id": acc["id"]})
    # Given a first attempt that wrote every transaction and counted them, then crashed
    real_finish = imports._finish

    def crash(*args: Any, **kw: Any) -> None:
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(worker, "_finish", crash)
    with pytest.raises(RuntimeError):
        worker.process_message(message, receive_count=1)
    assert client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()["status"] == "processing"
    # When the message is delivered again
    monkeypatch.setattr(worker, "_finish", real_finish)
    assert worker.process_message(message, receive_count=2) == "completed"
    # Then the batch reports every row as imported, and the account counts each once
    batch = client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()
    assert (batch["status"], batch["imported"], batch["skipped_duplicates"]) == ("completed", 503, 0)
    assert account(client, acc["id"])["tx_count"] == 503 == len(all_transactions(client, acc["id"]))
    drain(import_worker)  # the original message: already completed
    assert account(client, acc["id"])["tx_count"] == 503


def test_given_a_failing_last_attempt_then_the_batch_is_marked_failed(client: Any, import_worker: Any,
                                                                     monkeypatch: Any) -> None:
    from ledgerlou.domain.bank.importing import worker

    acc = create_account(client)
    queued = upload(client, _big_camt(502, seed=10), acc["id"]).json()
    message = json.dumps({"tenant_id": _tenant_of(client, acc["id"]), "batch_id": queued["batch_id"],
                          "document_id": queued["document_id"], "bank_account_id": acc["id"]})

    def broken(*args: Any, **kw: Any) -> None:
        raise ConnectionError("DynamoDB unavailable")

    monkeypatch.setattr(worker, "_run", broken)
    with pytest.raises(ConnectionError):
        worker.process_message(message, receive_count=3)
    batch = client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()
    assert batch["status"] == "failed" and "3 attempts" in batch["failure_reason"]
    monkeypatch.undo()
    drain(import_worker)  # the queued message: a failed batch may be retried and then completes
    assert client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()["imported"] == 502


def test_given_a_malformed_message_then_the_worker_reports_it_as_a_batch_item_failure(client: Any) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    acc = create_account(client)
    done = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [row()]}).json()
    good = json.dumps({"tenant_id": _tenant_of(client, acc["id"]), "batch_id": done["batch_id"], "document_id": "",
                       "bank_account_id": acc["id"]})
    unknown = json.dumps({"tenant_id": "t", "batch_id": str(uuid.uuid4()), "document_id": "d", "bank_account_id": "a"})
    # Given a batch of a malformed, an unknown and a good (already completed) message
    event = _sqs_event("{not json", unknown, good)
    # Then only the two bad ones are reported for retry (and, after 3 receives, the DLQ)
    result = client.gateway.invoke("ImportWorkerFunction", event)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}
    # and a batch of only bad messages fails as a whole
    with pytest.raises(BatchProcessingError):
        client.gateway.invoke("ImportWorkerFunction", _sqs_event("[]"))


def _sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m-{i}", "receiptHandle": "r", "body": body,
                         "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                         "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:ledgerlou-importqueue",
                         "awsRegion": "eu-central-1"} for i, body in enumerate(bodies)]}


def _tenant_of(client: Any, account_id: str) -> str:
    from ledgerlou.domain.admin import api_keys

    return str(api_keys.authenticate(client.token).tenant_id)


# ------------------------------------------------------------------------------------- lease, crashes, overlaps
def _message(client: Any, acc: dict[str, Any], queued: dict[str, Any]) -> str:
    return json.dumps({"tenant_id": _tenant_of(client, acc["id"]), "batch_id": queued["batch_id"],
                       "document_id": queued["document_id"], "bank_account_id": acc["id"]})


def _hold_lease(tenant_id: str, account_id: str, seconds: float, holder: str = "another-import") -> None:
    from ledgerlou.store.bank import accounts as account_store

    assert account_store.acquire_lease(tenant_id, account_id, holder, time.time() + seconds, time.time()) is not None


def _batch(client: Any, batch_id: str) -> dict[str, Any]:
    return client.get(f"/v1/bank-transactions/import-batches/{batch_id}").json()  # type: ignore[no-any-return]


def test_given_another_import_holds_the_lease_then_a_json_import_waits_for_it_and_imports(client: Any) -> None:
    from ledgerlou.store.bank import accounts as account_store

    acc = create_account(client)
    tenant_id = _tenant_of(client, acc["id"])
    # Given another import holding the account's import lease, which it gives back after 0.3 s
    _hold_lease(tenant_id, acc["id"], 60)
    release = threading.Timer(0.3, account_store.release_lease, (tenant_id, acc["id"], "another-import"))
    release.start()
    # When rows are imported meanwhile
    started = time.monotonic()
    resp = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [row(), row()]})
    release.join()
    # Then the import waited for the lease and imported them
    assert resp.status == 201, resp.body
    assert time.monotonic() - started >= 0.25 and resp.json()["imported"] == 2
    assert account(client, acc["id"])["tx_count"] == 2


def test_given_a_lease_held_too_long_then_409_and_once_it_expires_it_is_taken_over(client: Any,
                                                                                   monkeypatch: Any) -> None:
    from ledgerlou.domain.bank.importing import run as imports

    monkeypatch.setitem(imports.LEASE_WAIT_S, "api", 0.2)
    acc = create_account(client)
    # Given a lease whose holder died: it expires in a second
    _hold_lease(_tenant_of(client, acc["id"]), acc["id"], 1.0)
    body = {"bank_account_id": acc["id"], "transactions": [row(), row(amount="-5.00")]}
    # When rows are imported while it is held
    busy = client.post("/v1/bank-transactions", body)
    # Then 409 IMPORT_IN_PROGRESS and nothing is imported
    assert busy.status == 409 and busy.json()["error"]["code"] == "IMPORT_IN_PROGRESS"
    assert account(client, acc["id"])["tx_count"] == 0 and all_transactions(client, acc["id"]) == []
    # When the same rows are imported after the lease expired
    time.sleep(1.1)
    done = client.post("/v1/bank-transactions", body)
    # Then the expired lease is taken over and the rows import once
    assert done.status == 201 and (done.json()["imported"], done.json()["skipped_duplicates"]) == (2, 0)
    assert account(client, acc["id"])["tx_count"] == 2 == len(all_transactions(client, acc["id"]))


def test_given_a_held_lease_then_the_worker_message_is_retried_and_imports_once(client: Any,
                                                                               import_worker: Any) -> None:
    from ledgerlou.domain.bank.importing import run as imports
    from ledgerlou.domain.bank.importing import worker
    from ledgerlou.store.bank import accounts as account_store

    acc = create_account(client)
    queued = upload(client, _big_camt(510, seed=12), acc["id"]).json()
    tenant_id = _tenant_of(client, acc["id"])
    # Given another import holding the account's lease
    _hold_lease(tenant_id, acc["id"], 60)
    # When the worker gets the message with 0.4 s of its invocation left
    started = time.monotonic()
    with pytest.raises(imports.ImportInProgress):
        worker.process_message(_message(client, acc, queued), receive_count=1, remaining_s=0.4)
    # Then it waits at most half of that for the lease and raises (SQS delivers the message again),
    # and the batch is neither failed nor imported
    assert time.monotonic() - started < 1.5
    assert _batch(client, queued["batch_id"])["status"] == "processing"
    assert account(client, acc["id"])["tx_count"] == 0
    # When the lease is given back and the message comes again
    account_store.release_lease(tenant_id, acc["id"], "another-import")
    drain(import_worker)
    # Then the batch imports every row once
    batch = _batch(client, queued["batch_id"])
    assert (batch["status"], batch["imported"], batch["skipped_duplicates"]) == ("completed", 510, 0)
    assert account(client, acc["id"])["tx_count"] == 510 == len(all_transactions(client, acc["id"]))


def test_given_two_imports_of_one_file_at_the_same_time_then_one_imports_and_the_other_skips(client: Any) -> None:
    from ledgerlou.domain.bank.importing import worker

    acc = create_account(client)
    data = _big_camt(520, seed=13)
    # Given the same statement uploaded twice (two queued batches)
    first, second = upload(client, data, acc["id"]).json(), upload(client, data, acc["id"]).json()
    # When two workers import both at the same time
    outcomes: list[Any] = []

    def work(queued: dict[str, Any]) -> None:
        outcomes.append(worker.process_message(_message(client, acc, queued), receive_count=1))

    threads = [threading.Thread(target=work, args=(q,)) for q in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then the lease lets one import at a time: every row is imported once, by one of them
    assert outcomes == ["completed", "completed"]
    counts = sorted((b["imported"], b["skipped_duplicates"]) for b in (_batch(client, first["batch_id"]),
                                                                      _batch(client, second["batch_id"])))
    assert counts == [(0, 520), (520, 0)]
    txs = all_transactions(client, acc["id"])
    assert account(client, acc["id"])["tx_count"] == 520 == len(txs) == len({t["id"] for t in txs})


def _crash_while_writing_pages(monkeypatch: Any) -> None:
    """The next import dies (like a Lambda at its timeout) after writing half of its transaction pages
    (small pages, so that there are several), without giving its lease back."""
    from ledgerlou.store.bank import accounts as account_store
    from ledgerlou.store.bank import pages as page_store

    real_put = page_store.put_pages

    def put(items: list[Any], threads: int = 1, guard: Any = None) -> None:
        assert len(items) >= 2, "the crash should leave some pages written and some not"
        real_put(items[: len(items) // 2], threads, guard)
        raise RuntimeError("Task timed out after 120.00 seconds")

    monkeypatch.setattr(page_store, "PAGE_BYTES", 1500)
    monkeypatch.setattr(page_store, "put_pages", put)
    monkeypatch.setattr(account_store, "release_lease", lambda *args: False)


def _expire_lease(tenant_id: str, account_id: str) -> None:
    from ledgerlou.store.bank import accounts as account_store

    account_store.BankAccountItem(account_store.account_pk(tenant_id), account_id).update(
        actions=[account_store.BankAccountItem.import_lease_until.set(time.time() - 1)])


def test_given_a_worker_that_died_mid_import_then_the_retry_finishes_it_with_exact_counts(client: Any,
                                                                                        monkeypatch: Any) -> None:
    from ledgerlou.domain.bank.importing import run as imports
    from ledgerlou.domain.bank.importing import worker

    monkeypatch.setitem(imports.LEASE_WAIT_S, "worker", 0.2)
    acc = create_account(client)
    queued = upload(client, _big_camt(530, seed=14), acc["id"]).json()
    tenant_id = _tenant_of(client, acc["id"])
    message = _message(client, acc, queued)
    # Given a first attempt that died halfway through writing, still holding the lease
    _crash_while_writing_pages(monkeypatch)
    with pytest.raises(RuntimeError):
        worker.process_message(message, receive_count=1)
    monkeypatch.undo()
    monkeypatch.setitem(imports.LEASE_WAIT_S, "worker", 0.2)
    assert account(client, acc["id"])["tx_count"] == 0
    # When the message comes again before the dead attempt's lease expired: it is retried later
    with pytest.raises(imports.ImportInProgress):
        worker.process_message(message, receive_count=2)
    # When it comes again after the lease expired
    _expire_lease(tenant_id, acc["id"])
    assert worker.process_message(message, receive_count=3) == "completed"
    # Then every row is imported once, counted once and readable by id
    batch = _batch(client, queued["batch_id"])
    assert (batch["status"], batch["imported"], batch["skipped_duplicates"]) == ("completed", 530, 0)
    txs = all_transactions(client, acc["id"])
    assert account(client, acc["id"])["tx_count"] == 530 == len(txs) == len({t["id"] for t in txs})
    for tx in txs[::53]:
        assert client.get(f"/v1/bank-transactions/{tx['id']}").json()["transaction"] == tx


def test_given_an_import_that_died_mid_way_then_a_new_import_of_its_rows_takes_them_over(client: Any,
                                                                                       monkeypatch: Any) -> None:
    acc = create_account(client)
    rows = [row(amount=f"{i}.00", purpose=f"RE-{i}") for i in range(1, 11)]
    # Given a JSON import that died after writing half of its pages
    _crash_while_writing_pages(monkeypatch)
    crashed = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows})
    monkeypatch.undo()
    assert crashed.status == 500 and account(client, acc["id"])["tx_count"] == 0
    _expire_lease(_tenant_of(client, acc["id"]), acc["id"])  # it died without giving it back
    # When the same rows are imported again (a new batch)
    again = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}).json()
    # Then the dead batch's rows are taken over: each imported and counted once, none lost
    assert (again["imported"], again["skipped_duplicates"]) == (10, 0)
    txs = all_transactions(client, acc["id"])
    assert account(client, acc["id"])["tx_count"] == 10 == len(txs)
    assert sorted(t["amount"] for t in txs) == [Decimal(i) for i in range(1, 11)]
    # and a third import finds them all
    third = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}).json()
    assert (third["imported"], third["skipped_duplicates"]) == (0, 10)


def test_given_no_hand_off_from_the_request_then_the_worker_parses_the_stored_file(client: Any,
                                                                                 import_worker: Any) -> None:
    import boto3
    from ledgerlou.api.downloads import exports_bucket
    from ledgerlou.store import blobs

    acc = create_account(client)
    queued = upload(client, _big_camt(515, seed=16), acc["id"]).json()
    # Given a queued batch whose hand-off is gone (not stored, or expired before a late retry)
    boto3.client("s3").delete_object(Bucket=exports_bucket(),
                                     Key=blobs.handoff_key(_tenant_of(client, acc["id"]), queued["batch_id"]))
    # When the worker imports it
    drain(import_worker)
    # Then it parsed the stored document and imported every row once
    batch = _batch(client, queued["batch_id"])
    assert (batch["status"], batch["imported"], batch["total_rows"]) == ("completed", 515, 515)
    assert account(client, acc["id"])["tx_count"] == 515


def test_given_a_file_whose_statements_overlap_then_the_shared_rows_import_once(client: Any) -> None:
    from local.statement_gen import camt053

    # Given a camt.053 file with the same statement twice (banks resend days in a later statement)
    data = camt053(4, iban=IBAN, seed=15).decode()
    statement = data[data.index("<Stmt>"):data.index("</Stmt>") + len("</Stmt>")]
    doubled = data.replace(statement, statement + statement).encode()
    acc = create_account(client)
    # When it is uploaded
    result = upload(client, doubled, acc["id"]).json()
    # Then the rows of the second statement are duplicates of the first
    assert (result["total_rows"], result["imported"], result["skipped_duplicates"]) == (8, 4, 4)
    assert account(client, acc["id"])["tx_count"] == 4 == len(all_transactions(client, acc["id"]))


# ------------------------------------------------------------------------------------- balance history
def test_given_a_statement_with_balances_then_the_history_is_anchored_at_its_closing_balance(client: Any) -> None:
    from ledgerlou.formats.detect import parse_statement

    # Given a statement of the last three weeks: opening 10,000.00, 40 entries
    today = dt.date.today()
    data = _big_camt(40, seed=11, start=today - dt.timedelta(days=20), days=10)
    statement = parse_statement(data).statements[0]
    acc = create_account(client)
    assert upload(client, data, acc["id"]).status == 201
    # When the balance history of 30 days is read
    history = client.get(f"/v1/bank-accounts/balance-history?days=30&bank_account_id={acc['id']}").json()
    # Then it starts at the opening balance and ends at the closing balance, one point per day
    assert len(history["history"]) == 30 and history["history"][-1]["date"] == today.isoformat()
    assert history["startBalance"] == statement.opening_balance
    assert history["currentBalance"] == statement.closing_balance
    # and each day's balance is the opening plus that day's and the earlier transactions
    for point in history["history"]:
        booked = sum((t.amount for t in statement.transactions if t.booking_date.isoformat() <= point["date"]),
                     Decimal(0))
        assert point["balance"] == statement.opening_balance + booked
    # and transactions imported after the statement move the current balance on from the anchor
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"],
                                          "transactions": [row(booking_date=today.isoformat(), amount="-100.00")]})
    after = client.get(f"/v1/bank-accounts/balance-history?days=1&bank_account_id={acc['id']}").json()
    assert after["currentBalance"] == statement.closing_balance - 100


def test_given_no_stated_balance_then_the_history_sums_the_transactions_of_all_accounts(client: Any) -> None:
    today = dt.date.today()
    first, second = create_account(client), create_account(client, iban=OTHER_IBAN)
    usd = create_account(client, iban=None, account_number="777", currency="USD")
    for acc, amount in ((first, "100.00"), (second, "-30.00"), (usd, "5000.00")):
        client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [
            row(booking_date=(today - dt.timedelta(days=3)).isoformat(), amount=amount)]})
    history = client.get("/v1/bank-accounts/balance-history?days=7").json()
    assert (history["startBalance"], history["currentBalance"], history["currency"]) == (0, Decimal("70.00"), "EUR")
    assert [p["balance"] for p in history["history"]] == [0, 0, 0, 70, 70, 70, 70]
    assert client.get("/v1/bank-accounts/balance-history").json()["days"] == 30
    assert client.get("/v1/bank-accounts/balance-history?days=0").status == 400
    assert client.get("/v1/bank-accounts/balance-history?days=367").status == 400
    assert client.get(f"/v1/bank-accounts/balance-history?bank_account_id={uuid.uuid4()}").status == 404


# ------------------------------------------------------------------------------------- packed pages
def _pages(tenant_id: str, account_id: str, month: str) -> list[dict[str, Any]]:
    import boto3
    from ledgerlou import config
    from ledgerlou.store.bank import pages as page_store

    return boto3.client("dynamodb").query(  # type: ignore[no-any-return]
        TableName=config.table_name(), ConsistentRead=True, KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": page_store.tx_pk(tenant_id, account_id, month)}})["Items"]


def test_given_pages_smaller_than_an_import_then_it_splits_them_and_every_row_reads_back(client: Any,
                                                                                        monkeypatch: Any) -> None:
    from ledgerlou.store.bank import pages as page_store

    # Given pages of at most 2,000 bytes (rows of ~250 bytes)
    monkeypatch.setattr(page_store, "PAGE_BYTES", 2000)
    acc = create_account(client)
    rows = [row(amount=f"{i}.00", purpose=f"Rechnung RE-{i:04d} " + "x" * 60,
                booking_date=f"2026-01-{1 + (i * 5) % 28:02d}") for i in range(1, 61)]
    # When 60 rows of one month (on 28 days) are imported
    result = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}).json()
    # Then they fill several pages, none larger than the limit, each written once (version 0)
    pages = _pages(_tenant_of(client, acc["id"]), acc["id"], "2026-01")
    assert result["imported"] == 60 and len(pages) >= 5
    for page in pages:
        assert len(zlib.decompress(page["d"]["B"])) + len(page["k"]["S"]) + len(page["st"]["S"]) <= 2000
        assert page["v"]["N"] == "0" and len(page["st"]["S"]) == int(page["n"]["N"])
    assert sum(int(p["n"]["N"]) for p in pages) == 60
    # and every row is listed once and found by its id, exactly as listed
    txs = all_transactions(client, acc["id"])
    assert sorted(t["amount"] for t in txs) == [Decimal(i) for i in range(1, 61)]
    for tx in txs:
        assert client.get(f"/v1/bank-transactions/{tx['id']}").json()["transaction"] == tx
    # and small pages of the listing (which read only the newest pages) are slices of the whole order
    assert [(t["booking_date"], t["id"]) for t in txs] == sorted(((t["booking_date"], t["id"]) for t in txs),
                                                                 reverse=True)
    for limit, offset in ((1, 0), (7, 0), (7, 7), (5, 23), (13, 50)):
        listed = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&limit={limit}&offset={offset}").json()
        assert listed["transactions"] == txs[offset : offset + limit] and listed["total"] == 60
    ranged = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&start_date=2026-01-05"
                        f"&end_date=2026-01-20&limit=4&offset=2").json()
    inside = [t for t in txs if "2026-01-05" <= t["booking_date"] <= "2026-01-20"]
    assert ranged["transactions"] == inside[2:6] and ranged["total"] == len(inside)
    # and a re-import finds all of them in their pages
    again = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}).json()
    assert (again["imported"], again["skipped_duplicates"]) == (0, 60)


def test_given_a_page_limit_then_a_full_page_stays_far_below_the_dynamodb_item_limit() -> None:
    from ledgerlou.store.bank import pages as page_store
    from ledgerlou.store.bank import txids

    # Given transactions with the longest texts a statement carries (camt Ustrd 140 × 10 and more)
    txs = [{"id": txids.tx_id("acc", "2026-01-15", f"{i:020x}"), "booking_date": "2026-01-15", "value_date": None,
            "amount": Decimal("-1.50"), "currency": "EUR", "purpose": "Ü" * 1500, "counterparty_name": "N" * 140}
           for i in range(400)]
    # When they are packed
    pages = page_store.build_pages("t", "acc", "2026-01", 0, txs, batch_id="b", document_id=None, created_at="now",
                              currency="EUR")
    # Then no page item exceeds PAGE_BYTES of payload, and that is well below 400 KB
    assert len(pages) > 1 and page_store.PAGE_BYTES * 2 < 400_000
    for item, info in pages:
        size = len(zlib.decompress(item["d"]["B"])) + len(item["k"]["S"]) + len(item["st"]["S"])
        assert size <= page_store.PAGE_BYTES
        assert info.rows == len(item["st"]["S"]) and info.total == Decimal("-1.50") * info.rows
    assert [info.number for _, info in pages] == list(range(len(pages)))
    # and a row larger than a page on its own still gets one (no row is ever dropped)
    huge = [{**txs[0], "purpose": "x" * (page_store.PAGE_BYTES + 10)}]
    assert len(page_store.build_pages("t", "acc", "2026-01", 7, huge, batch_id="b", document_id=None, created_at="now",
                                 currency="EUR")) == 1


def test_given_an_import_by_the_worker_then_every_transaction_is_found_by_id_at_once(client: Any,
                                                                                     import_worker: Any,
                                                                                     make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    acc = create_account(client)
    queued = upload(client, _big_camt(505, seed=21), acc["id"]).json()
    # When the worker has imported the file
    drain(import_worker)
    # Then each transaction is found by id right away (strongly consistent reads, no index)
    txs = all_transactions(client, acc["id"])
    assert len(txs) == 505 and all(t["batch_id"] == queued["batch_id"] for t in txs)
    for tx in txs[::25]:
        assert client.get(f"/v1/bank-transactions/{tx['id']}").json()["transaction"] == tx
    # and not by another tenant, nor by an id that names no stored transaction
    other = make_client(tenants.create_tenant("Andere GmbH", "skr03").admin_key)
    assert other.get(f"/v1/bank-transactions/{txs[0]['id']}").status == 404
    unknown = txs[0]["id"][:-4] + ("0000" if not txs[0]["id"].endswith("0000") else "1111")
    assert client.get(f"/v1/bank-transactions/{unknown}").status == 404
    assert client.get(f"/v1/bank-transactions/{uuid.uuid4()}").status == 404


def _account_with_transactions(client: Any, count: int) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """A new bank account with ``count`` imported transactions (1.00, 2.00, …; one page): the account, its
    tenant and the transactions as listed."""
    acc = create_account(client)
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [
        row(amount=f"{i}.00") for i in range(1, count + 1)]})
    return acc, _tenant_of(client, acc["id"]), all_transactions(client, acc["id"])


def test_given_a_packed_transaction_then_its_status_changes_alone_and_the_counter_follows(client: Any) -> None:
    from ledgerlou.domain.bank import accounts as bank
    from ledgerlou.errors import Conflict

    acc, tenant_id, txs = _account_with_transactions(client, 3)
    assert len(_pages(tenant_id, acc["id"], "2026-01")) == 1  # all three in one page
    # When one of them is reconciled
    changed = bank.set_transaction_status(tenant_id, txs[1]["id"], "reconciled", expected="unreconciled")
    # Then only it changed, in place (version + 1), and the account counts one unreconciled less
    assert changed == {**txs[1], "status": "reconciled"}
    assert [t["status"] for t in all_transactions(client, acc["id"])] == ["unreconciled", "reconciled", "unreconciled"]
    assert _pages(tenant_id, acc["id"], "2026-01")[0]["v"]["N"] == "1"
    assert (account(client, acc["id"])["unreconciled_count"], account(client, acc["id"])["tx_count"]) == (2, 3)
    listed = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&status=reconciled").json()
    assert [t["id"] for t in listed["transactions"]] == [txs[1]["id"]] and listed["total"] == 1
    # and a change that expects the old status is refused (409), the transaction left as it is
    with pytest.raises(Conflict):
        bank.set_transaction_status(tenant_id, txs[1]["id"], "dismissed", expected="unreconciled")
    assert client.get(f"/v1/bank-transactions/{txs[1]['id']}").json()["transaction"]["status"] == "reconciled"
    # and back to unreconciled counts it again
    bank.set_transaction_status(tenant_id, txs[1]["id"], "unreconciled")
    assert account(client, acc["id"])["unreconciled_count"] == 3


def test_given_concurrent_status_changes_of_one_page_then_every_one_lands(client: Any) -> None:
    from ledgerlou.domain.bank import accounts as bank

    acc, tenant_id, txs = _account_with_transactions(client, 8)
    # When 8 threads each reconcile another transaction of the same page at the same time
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def reconcile(tx_id: str) -> None:
        barrier.wait()
        try:
            bank.set_transaction_status(tenant_id, tx_id, "reconciled", expected="unreconciled")
        except BaseException as ex:  # noqa: BLE001 - reported below
            errors.append(ex)

    threads = [threading.Thread(target=reconcile, args=(t["id"],)) for t in txs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then the version conditions serialised them: none is lost, the counter is exact
    assert errors == []
    assert {t["status"] for t in all_transactions(client, acc["id"])} == {"reconciled"}
    assert int(_pages(tenant_id, acc["id"], "2026-01")[0]["v"]["N"]) == 8
    assert account(client, acc["id"])["unreconciled_count"] == 0


def test_given_an_import_while_transactions_are_reconciled_then_neither_undoes_the_other(client: Any) -> None:
    from ledgerlou.domain.bank import accounts as bank

    acc = create_account(client)
    tenant_id = _tenant_of(client, acc["id"])
    first = [row(amount=f"{i}.00") for i in range(1, 21)]
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": first})
    txs = all_transactions(client, acc["id"])
    # When an overlapping import (the same 20 rows and 20 new ones of the same month) runs while the
    # first 20 are being reconciled
    overlapping = first + [row(amount=f"{i}.00", purpose="neu") for i in range(1, 21)]
    results: list[Any] = []
    importer = threading.Thread(target=lambda: results.append(client.post(
        "/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": overlapping}).json()))
    importer.start()
    for tx in txs:
        bank.set_transaction_status(tenant_id, tx["id"], "reconciled")
    importer.join()
    # Then the import wrote only new pages (the reconciled ones keep their status) and counts exactly
    assert (results[0]["imported"], results[0]["skipped_duplicates"]) == (20, 20)
    after = all_transactions(client, acc["id"])
    assert len(after) == 40 == account(client, acc["id"])["tx_count"]
    assert sum(t["status"] == "reconciled" for t in after) == 20
    assert account(client, acc["id"])["unreconciled_count"] == 20


def test_given_a_page_exists_then_no_import_can_overwrite_it(client: Any) -> None:
    import botocore.exceptions
    from ledgerlou.store.bank import pages as page_store

    acc = create_account(client)
    tenant_id = _tenant_of(client, acc["id"])
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [row()]})
    existing = _pages(tenant_id, acc["id"], "2026-01")[0]
    # When an import that lost its lease (a stale holder) writes a page under the same key
    stale = {**existing, "st": {"S": "u"}, "b": {"S": "stale-batch"}}
    # Then the conditional put refuses it and the page stays as it was
    with pytest.raises(botocore.exceptions.ClientError, match="ConditionalCheckFailed"):
        page_store.put_pages([stale])
    assert _pages(tenant_id, acc["id"], "2026-01") == [existing]
