"""Bank import logic without AWS: duplicate keys, which account a statement belongs to, row
validation, statement rows and stated balances, the document type check for text statements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from ledgerlou.domain.bank.accounts import statement_is_account
from ledgerlou.domain.bank.importing import handoff
from ledgerlou.domain.bank.importing import keys as import_keys
from ledgerlou.domain.bank.importing import run as imports
from ledgerlou.domain.bank.importing import sources as import_sources
from ledgerlou.store.bank.accounts import BankAccountItem

from tests.conftest import samples_dir

IBAN = "DE89370400440532013000"


def _account(currency: str = "EUR", account_id: str = "acc-1") -> BankAccountItem:
    return BankAccountItem(account_id=account_id, name="Hausbank", iban=IBAN, currency=currency,
                           ledger_account="1200", created_at="", created_by="", updated_at="")


def _rows(*txs: dict[str, Any]) -> list[import_keys.Row]:
    base = {"booking_date": "2026-01-15", "amount": Decimal("119.00"), "currency": "EUR"}
    rows = [import_keys.Row({**base, **t}) for t in txs]
    import_keys.assign_keys(rows)
    return rows


# ------------------------------------------------------------------------------------- duplicate keys
def test_given_two_identical_rows_then_both_get_their_own_key_and_a_reimport_the_same_keys() -> None:
    first = _rows({"purpose": "Miete"}, {"purpose": "Miete"}, {"purpose": "Strom"})
    again = _rows({"purpose": "Miete"}, {"purpose": "Miete"}, {"purpose": "Strom"})
    assert len({r.key for r in first}) == 3
    assert [r.key for r in first] == [r.key for r in again]
    # an overlapping statement with one of the identical rows claims only the first occurrence
    assert _rows({"purpose": "Miete"})[0].key == first[0].key


def test_given_the_fingerprint_then_case_and_whitespace_of_texts_do_not_matter_but_amounts_do() -> None:
    a = _rows({"purpose": "RE 4711  Müller", "counterparty_name": "MÜLLER GmbH"})[0].key
    b = _rows({"purpose": "re 4711 müller", "counterparty_name": "Müller  GmbH"})[0].key
    c = _rows({"purpose": "RE 4711 Müller", "counterparty_name": "Müller GmbH", "amount": Decimal("119.01")})[0].key
    assert a == b != c and a.startswith("F#")


def test_given_a_bank_reference_then_it_keys_the_row_with_date_and_amount() -> None:
    # the same reference with other texts is the same booking (a CSV and a camt file of one day) ...
    same = _rows({"bank_reference": "REF1", "purpose": "x"})[0].key
    assert _rows({"bank_reference": "REF1", "purpose": "y"})[0].key == same and same.startswith("R#")
    # ... but banks reuse a reference for the parts of a batch booking and the legs of a transfer
    parts = _rows({"bank_reference": "REF1", "amount": Decimal("-3.50")}, {"bank_reference": "REF1",
                                                                          "amount": Decimal("-2.50")})
    assert parts[0].key != parts[1].key
    legs = _rows({"bank_reference": "REF1", "amount": Decimal("5.00")}, {"bank_reference": "REF1",
                                                                        "amount": Decimal("-5.00")})
    assert legs[0].key != legs[1].key


def test_given_a_key_then_the_transaction_id_is_stable_per_tenant_and_account_and_names_where_it_is() -> None:
    from ledgerlou.store.bank import txids

    key = _rows({})[0].key
    tx_id = import_keys.tx_id_for("t1", "a1", key, "2026-03-05")
    assert tx_id == import_keys.tx_id_for("t1", "a1", key, "2026-03-05") != import_keys.tx_id_for("t2", "a1", key,
                                                                                                   "2026-03-05")
    assert len(tx_id) == 36 and tx_id != import_keys.tx_id_for("t1", "a2", key, "2026-03-05")
    # and the id says which account (by its tag) and month it is stored in, and its duplicate hash
    assert txids.parse_tx_id(tx_id) == (txids.account_tag("a1"), "2026-03", txids.dedup_hash(tx_id))
    assert txids.parse_tx_id("not-an-id") is None


# ------------------------------------------------------------------------------------- which account
@pytest.mark.parametrize(("account", "statement", "expected"), [
    ((IBAN, None), ("DE89 3704 0044 0532 0130 00", None), True),
    ((IBAN, None), ("DE02120300000000202051", None), False),
    ((IBAN, None), (None, "37040044/532013000"), True),  # MT940 BLZ/Kontonummer inside the IBAN
    ((IBAN, None), (None, "87052000/123456789"), False),
    ((None, "123456789"), (None, "87052000/0123456789"), True),
    ((None, "123456789"), (None, "87052000/987654321"), False),
    ((None, "532013000"), (IBAN, None), True),  # a German account number is part of its IBAN
    ((None, "999"), (IBAN, None), False),
    ((None, "NL26VAYB8060476890"), (None, "NL26VAYB8060476890"), True),
    ((None, "Kasse 1"), ("CH0309000000250090342", None), None),  # nothing comparable: the caller decides
    (("CH0309000000250090342", None), (None, "0001234567"), None),
    ((IBAN, None), (None, None), None),
])
def test_given_an_account_and_a_statement_then_whether_they_match(account: tuple[str | None, str | None],
                                                                  statement: tuple[str | None, str | None],
                                                                  expected: bool | None) -> None:
    assert statement_is_account(*account, *statement) is expected


# ------------------------------------------------------------------------------------- sources
def test_given_json_rows_then_good_rows_become_transactions_and_bad_rows_errors() -> None:
    prepared = import_sources.from_json(_account("USD"), [
        {"booking_date": "2026-01-15", "amount": "1.5", "counterparty_iban": "de02 1203 0000 0000 2020 51"},
        {"booking_date": "2026-01-15", "amount": 1.005},
        {"booking_date": "15.01.2026", "amount": "1"},
        None,
        {"booking_date": "2026-01-16", "amount": "-2", "currency": "EUR", "purpose": "  "},
    ])
    assert [r.tx["amount"] for r in prepared.rows] == [Decimal("1.50"), Decimal("-2.00")]
    assert [r.tx["currency"] for r in prepared.rows] == ["USD", "EUR"]
    assert prepared.rows[0].tx["counterparty_iban"] == "DE02120300000000202051"
    assert prepared.rows[1].tx["purpose"] is None
    assert [e["index"] for e in prepared.errors] == [1, 2, 3]
    assert prepared.total_rows == 5 and prepared.account_ids == ["acc-1"]


def test_given_a_parsed_statement_then_rows_errors_summaries_and_the_stated_balance() -> None:
    from ledgerlou.formats.detect import parse_statement

    parsed = parse_statement(samples_dir("camt053", "de_vrbank-rottal-inn_camt.053.001.02.xml").read_bytes())
    prepared = import_sources.from_statements([_account()], parsed)
    assert len(prepared.rows) == 5 and len({r.key for r in prepared.rows}) == 5
    assert prepared.stated == {"acc-1": ("2013-12-27", Decimal("23.06"))}
    summary = prepared.statements[0]
    assert (summary["opening_balance"], summary["closing_balance"], summary["transactions"]) == \
        (Decimal("33.06"), Decimal("23.06"), 5)
    assert (prepared.format, prepared.dialect) == ("camt053", "camt.053.001.02")


def test_given_a_statement_in_another_currency_then_its_balance_is_no_anchor() -> None:
    from ledgerlou.formats.detect import parse_statement

    from local.statement_gen import camt053

    parsed = parse_statement(camt053(3, start=dt.date(2026, 1, 1), days=3))
    assert import_sources.from_statements([_account("CHF")], parsed).stated == {}
    assert import_sources.from_statements([_account("EUR")], parsed).stated["acc-1"][0] == "2026-01-03"


def test_given_the_generator_then_its_statements_are_consistent_and_deterministic() -> None:
    from ledgerlou.formats.detect import parse_statement

    from local.statement_gen import camt053

    data = camt053(250, seed=3)
    assert data == camt053(250, seed=3) != camt053(250, seed=4)
    parsed = parse_statement(data)
    assert len(parsed.statements[0].transactions) == 250 and parsed.balance_check() == []


def test_given_a_parsed_file_then_the_worker_hand_off_gives_back_exactly_what_the_request_prepared() -> None:
    from ledgerlou.formats.detect import parse_statement

    # Given a multi-statement file with a row error (a damaged amount in the second statement)
    parsed = parse_statement(samples_dir("mt940", "betterplace_de-multi-statement.sta").read_bytes())
    prepared = import_sources.from_statements([_account()] * len(parsed.statements), parsed)
    prepared.errors.append({"index": 3, "reason": "amount: bad", "statement": 1})
    # When it is encoded for the worker and decoded there
    back = handoff.decode_handoff("b-1", handoff.encode_handoff("b-1", prepared))
    # Then rows, keys, errors, statements and stated balances are the same, Decimals included
    assert back is not None and [(r.key, r.tx) for r in back.rows] == [(r.key, r.tx) for r in prepared.rows]
    assert (back.errors, back.statements, back.stated, back.balance_mismatches, back.format, back.dialect) == (
        prepared.errors, prepared.statements, prepared.stated, prepared.balance_mismatches, prepared.format,
        prepared.dialect)
    assert all(isinstance(r.tx["amount"], Decimal) for r in back.rows) and len(back.rows) > 1
    # and another batch's hand-off is refused
    assert handoff.decode_handoff("b-2", handoff.encode_handoff("b-1", prepared)) is None


def test_given_the_environment_then_writes_are_parallel_only_against_dynamodb(monkeypatch: Any) -> None:
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.delenv("IMPORT_WRITE_THREADS", raising=False)
    assert imports._write_threads() == 1
    monkeypatch.setenv("STAGE", "prod")
    assert imports._write_threads() == 8
    monkeypatch.setenv("IMPORT_WRITE_THREADS", "100")
    assert imports._write_threads() == 32


# ------------------------------------------------------------------------------------- document types
def test_given_text_files_then_only_the_bank_import_accepts_those_that_are_statements() -> None:
    from ledgerlou.domain.documents.archive import sniff

    csv = samples_dir("bankcsv", "dkb.csv").read_bytes()
    mt940 = samples_dir("mt940", "sparkasse.sta").read_bytes()
    assert sniff(csv) is None and sniff(mt940) is None  # the documents endpoint: unchanged
    assert sniff(csv, statement_format="bankcsv") == "text/csv"
    assert sniff(mt940, statement_format="mt940") == "text/plain"
    assert sniff(b"%PDF-1.4", statement_format="mt940") == "application/pdf"
