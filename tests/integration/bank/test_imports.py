"""Importing bank transactions through the API: JSON rows and statement files (camt.053, MT940, bank CSV)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import samples_dir
from tests.integration.bank.support import (
    HUGE,
    OTHER_IBAN,
    PDF,
    _account_for,
    account,
    all_of_tenant,
    all_transactions,
    create_account,
    row,
    upload,
)
from tests.integration.documents.test_documents import multipart
from tests.unit.formats.test_statement_formats import EXPECTED, Expected


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
    from tests.integration.documents.test_documents import upload as document_upload

    data = samples_dir("bankcsv", "dkb.csv").read_bytes()
    resp = document_upload(client, data, "dkb.csv")
    assert resp.status == 400 and resp.json()["error"]["code"] == "UNSUPPORTED_FILE_TYPE"
