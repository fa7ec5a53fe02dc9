"""Semantically odd input to the bank, periods/reports and settings/admin endpoints: always a 4xx with a
stable code, never a 5xx or a traceback, and a refused request changes nothing (API.md "Errors").

Valid bodies (as in test_bank, test_closing and test_foundation) are mutated by the seeded mutator of
test_journal_malformed (fields dropped, odd values, extreme numbers and strings, nested lists); GET
endpoints get odd but well-typed query values (months 0000-01 and 9999-12, reversed or absurd date
ranges, limit/offset extremes); statement files get byte- and line-level mutations.
FUZZ_SEED=<any> and FUZZ_CASES=<n> in the environment run other or more cases (exploration)."""

from __future__ import annotations

import json
import os
import random
import urllib.parse
from typing import Any

import pytest

from tests.conftest import samples_dir
from tests.integration.documents.test_documents import multipart
from tests.integration.journal.test_journal_malformed import ODD_VALUES, _assert_client_error, _mutate

IBAN = "DE89370400440532013000"
SEED = os.environ.get("FUZZ_SEED", "")


def _cases(default: int) -> int:
    return int(os.environ.get("FUZZ_CASES", str(default)))


def _assert_handled(response: Any, what: str) -> None:
    assert response.status < 500, (what, response.status, response.body[:500])
    assert b"Traceback" not in response.body, what
    if response.status >= 400:
        _assert_client_error(response, what)


def _bank_account(client: Any, **fields: Any) -> dict[str, Any]:
    resp = client.post("/v1/bank-accounts", {"name": "Hausbank", "iban": IBAN, **fields})
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def _state(client: Any, path: str) -> Any:
    """What a refused write to ``path`` must not change (one read: the committed run stays fast)."""
    if "/bank-" in path:
        return sorted((a["id"], a["name"], a["iban"], a["tx_count"]) for a in client.get("/v1/bank-accounts").json())
    if "/tax-codes" in path:
        return client.get("/v1/tax-codes?include_inactive=true").body
    return client.get("/v1/api-keys").body


# ------------------------------------------------------------------------------------- mutated bodies
VALID_ROW = {"booking_date": "2026-01-15", "value_date": "2026-01-16", "amount": "-119.00", "currency": "EUR",
             "counterparty_name": "Müller GmbH", "counterparty_iban": "DE02 1203 0000 0000 2020 51",
             "counterparty_bic": "BYLADEM1001", "purpose": "RE-1 Müller", "end_to_end_id": "E2E-1",
             "mandate_id": "M-1", "creditor_id": "DE98ZZZ09999999999", "bank_reference": "REF-1"}

WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/bank-accounts", {"name": "Zweitbank", "iban": "DE02120300000000202051", "bic": "BYLADEM1001",
                                   "currency": "EUR", "ledger_account": "1210"}),
    ("POST", "/v1/bank-accounts", {"name": "Kasse Bank", "account_number": "12345678", "currency": "EUR"}),
    ("PUT", "/v1/bank-accounts/{account_id}", {"name": "Geschäftskonto"}),
    ("POST", "/v1/bank-transactions", {"bank_account_id": "{account_id}", "transactions": [VALID_ROW]}),
    ("POST", "/v1/tax-codes", {"code": "USt16", "label": "USt 16 % (2020)", "description": "alt", "rate": 16,
                               "vat_account": "1770", "direction": "output"}),
    ("POST", "/v1/tax-codes", {"code": "RC7", "label": "RC 7", "rate": "7.00", "vat_account": "1577",
                               "self_assess_account": "1787"}),
    ("PATCH", "/v1/tax-codes/{custom_code}", {"label": "Umsatzsteuer 5 %", "description": "neu", "rate": 5,
                                              "vat_account": "1770", "is_active": True}),
    ("PATCH", "/v1/tax-codes/USt19", {"label": "USt 19"}),
    ("POST", "/v1/api-keys", {"label": "Buchhaltung", "scopes": ["journal:read", "bank:write"]}),
]


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


@pytest.mark.parametrize("method,path,valid", WRITES, ids=[f"{m} {p} {i}" for i, (m, p, _) in enumerate(WRITES)])
def test_given_mutated_bodies_when_writing_then_4xx_with_a_code_and_nothing_changed(
        client: Any, method: str, path: str, valid: dict[str, Any]) -> None:
    acc = _bank_account(client)
    assert client.post("/v1/tax-codes", {"code": "USt5", "label": "USt 5 %", "rate": 5,
                                         "vat_account": "1770"}).status == 201
    names = {"account_id": acc["id"], "custom_code": "USt5"}
    url, valid = path.format(**names), _fill(valid, names)
    # Given a valid body that is accepted
    first = client.request(method, url, json=valid)
    assert first.status in (200, 201), (url, first.body[:500])
    rng = random.Random(f"{method} {path} {json.dumps(valid)}{SEED}")
    before = _state(client, path)
    for case in range(_cases(15)):
        # When it is mutated
        body = _mutate(rng, valid)
        for _ in range(rng.randrange(3)):
            body = _mutate(rng, body)
        response = client.request(method, url, json=body)
        # Then it is accepted (a mutation can stay valid) or refused with a 4xx, a code and no change
        what = f"case {case}: {method} {url} {json.dumps(body)[:300]}"
        _assert_handled(response, what)
        if response.status >= 400:
            assert _state(client, path) == before, what
        else:
            before = _state(client, path)


# ------------------------------------------------------------------------------------- periods (path values)
PERIODS = ["2026-01", "0000-01", "0001-01", "9999-12", "2026-00", "2026-13", "2026-1", "202601", "９９９９-12",
           "2026-01%00", "x" * 300]


def test_given_odd_periods_when_locking_reopening_or_asking_then_never_a_server_error(
        client: Any, make_client: Any) -> None:
    approver = make_client(client.post("/v1/api-keys", {"label": "Steuerberaterin", "scopes": [
        "periods:approve", "periods:read"]}).json()["key"])
    for period in PERIODS:
        quoted = urllib.parse.quote(period, safe="-%")
        for action in ("soft-lock", "reopen", "lock/status", "lock"):
            method = "GET" if action == "lock/status" else "POST"
            _assert_handled(client.request(method, f"/v1/periods/{quoted}/{action}"), f"{action} {period}")
        request = client.get(f"/v1/periods/{quoted}/lock/status")
        request_id = request.json().get("request_id") if request.status == 200 else None
        for rid in [request_id, "00000000-0000-0000-0000-000000000000", "x"]:
            if rid is None:
                continue
            _assert_handled(approver.post(f"/v1/periods/{quoted}/lock/{rid}/approve"), f"approve {period} {rid}")
            _assert_handled(client.post(f"/v1/periods/{quoted}/lock/{rid}/cancel"), f"cancel {period} {rid}")
    listed = client.get("/v1/periods")
    _assert_handled(listed, "list periods")


# ------------------------------------------------------------------------------------- query values
DATES = ["2026-01-01", "2026-01-31", "2026-02-28", "2026-12-31", "0001-01-01", "0001-01-31", "1900-01-01",
         "9999-12-01", "9999-12-31", "2026-02-30", "2026-13-01", "0000-01-01", "2026-1-1", "20260101",
         "2026-01-01T00:00:00", "", "x", "-1", "99999-01-01"]
INTS = ["0", "1", "-1", "366", "367", "500", "501", "2147483648", "9" * 40, "1e3", "1.5", "", "x", "NaN"]
UUIDS = ["00000000-0000-0000-0000-000000000000", "{account_id}", "{ACCOUNT_ID}", "-" * 36, "x", ""]
QUERIES: list[tuple[str, dict[str, list[str]]]] = [
    ("/v1/bank-transactions", {"bank_account_id": UUIDS, "start_date": DATES, "end_date": DATES,
                               "search": ["müller", "%", "*", "\\", "x" * 100, "x" * 101, "' OR 1=1 --", "😀", ""],
                               "status": ["unreconciled", "reconciled", "dismissed", "open", ""],
                               "limit": INTS, "offset": INTS}),
    ("/v1/bank-accounts/balance-history", {"days": INTS, "bank_account_id": UUIDS}),
    ("/v1/bank-transactions/unreconciled-count", {"bank_account_id": UUIDS}),
    ("/v1/reports", {"type": ["trial_balance", "profit_and_loss", "balance_sheet", "vat_return", "x", ""],
                     "startDate": DATES, "endDate": DATES}),
    ("/v1/reports/monthly-revenue-expenses", {"startDate": DATES, "endDate": DATES}),
    ("/v1/reports/datev-export", {"startDate": DATES, "endDate": DATES}),
    ("/v1/tax-codes", {"include_inactive": ["true", "false", "1", "0", "yes", "", "x", "null"]}),
    ("/v1/periods", {"year": ["2026", "0", "9999"], "limit": INTS}),
    ("/v1/api-keys", {"limit": INTS}),
]


@pytest.mark.parametrize("path,names", QUERIES, ids=[q[0] for q in QUERIES])
def test_given_odd_query_values_when_reading_then_never_a_server_error(
        client: Any, path: str, names: dict[str, list[str]]) -> None:
    acc = _bank_account(client)
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [VALID_ROW]})
    client.post("/v1/bookings", {"booking_date": "2026-01-15", "description": "Büromaterial", "lines": [
        {"account_debit": "4930", "account_credit": "1200", "amount": "119.00", "tax_code": "VSt19"}]})
    fill = {"account_id": acc["id"], "ACCOUNT_ID": acc["id"].upper()}
    rng = random.Random(f"{path}-query{SEED}")
    for case in range(_cases(25)):
        chosen = rng.sample(sorted(names), rng.randrange(1, len(names) + 1))
        params = {n: rng.choice(names[n]).format(**fill) for n in chosen}
        if rng.random() < 0.1:  # an odd value of the journal fuzzer instead
            params[rng.choice(chosen)] = str(rng.choice(ODD_VALUES))
        url = f"{path}?{urllib.parse.urlencode(params)}"
        _assert_handled(client.get(url), f"case {case}: {url}")


# ------------------------------------------------------------------------------------- statement files
def _mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randrange(1, 4)):
        action = rng.random()
        i = rng.randrange(len(lines))
        if action < 0.25:
            del lines[i]
            if not lines:
                lines = [b""]
        elif action < 0.45:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif action < 0.75 and lines[i]:
            # replace a token in the line: a number, date, amount or tag content
            cut = rng.randrange(len(lines[i]))
            odd = rng.choice([b"", b"9" * 40, b"-", b"0", b"99991231", b"20260230", b"991399", b"1,5,5", b";",
                              b"\"", b"<", b"&x;", b"\xff", b"NaN", b"1e400", b"x" * 500])
            lines[i] = lines[i][:cut] + odd + lines[i][cut + rng.randrange(0, 12):]
        else:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    return b"\n".join(lines)


STATEMENTS = [("camt053", "de_vrbank-rottal-inn_camt.053.001.02.xml"), ("camt053", "genkgo_camt.053.001.08.xml"),
              ("mt940", "sparkasse.sta"), ("mt940", "deutschebank.sta"), ("bankcsv", "dkb.csv"),
              ("bankcsv", "sparkasse-lzo-camt-v8.csv"), ("bankcsv", "ing.csv")]


@pytest.mark.parametrize("folder,name", STATEMENTS, ids=[f"{f}/{n}" for f, n in STATEMENTS])
def test_given_mutated_statement_files_when_imported_then_never_a_server_error(
        client: Any, folder: str, name: str) -> None:
    from ledgerlou.formats.detect import parse_statement

    from tests.integration.bank.support import _account_for

    path = samples_dir(folder, name)
    data = path.read_bytes()
    # Given the statement's bank account(s), so that mutations reach the import and not only the lookup
    labels = list(dict.fromkeys(s.account_iban or s.account_number for s in parse_statement(data).statements))
    for i, label in enumerate(label for label in labels if label):
        _account_for(client, label, i)
    rng = random.Random(f"{path.name}{SEED}")
    for case in range(_cases(10)):
        mutated = _mutate_bytes(rng, data)
        body, headers = multipart(mutated, path.name)
        response = client.request("POST", "/v1/bank-transactions/import-file", body=body, headers=headers)
        _assert_handled(response, f"case {case}: {path.name} {mutated[:200]!r}")
