"""Responses keep to their models: what the audit view, the reports and the period answers really send
validates against the response models of api/schemas (``extra="forbid"``: a key the domain adds
without documenting it fails here), and every amount of every JSON answer is written with exactly
two decimals (docs/api-contract.md "Values"), zeros included."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ledgerlou.api.schemas.journal import AccountEntries, JournalEntryOut, OpeningBalancesCreated
from ledgerlou.models.audit import IntentView
from ledgerlou.models.periods import (
    LockCancelled,
    Locked,
    LockRequested,
    LockStatus,
    PeriodOut,
    PeriodReopened,
    PeriodState,
)
from ledgerlou.models.reports import BalanceSheetRow, MonthlyRow, ProfitAndLossRow, TrialBalanceRow, VatReturnRow
from pydantic import BaseModel, TypeAdapter

from tests.integration.bank.support import create_account, row
from tests.integration.persons import person

# Every key whose value is money, wherever it occurs in a JSON answer (FX and tax rates are not money).
MONEY_KEYS = ("amount", "opening_balance", "closing_balance", "debit", "credit", "balance", "running_balance",
              "total_amount", "fx_amount", "total_debit", "total_credit", "revenue", "expenses", "result", "base",
              "tax", "startBalance", "currentBalance", "stated_balance")
MONEY_VALUE = re.compile(r'"(' + "|".join(MONEY_KEYS) + r')":(null|"[^"]*"|[-0-9.eE+]+)')
TWO_DECIMALS = re.compile(r"-?[0-9]+\.[0-9]{2}")


def money_values(body: bytes) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in MONEY_VALUE.finditer(body.decode("utf-8"))]


def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, resp.body
    return resp


def validate(model: Any, resp: Any) -> Any:
    """The answer as the model reads it; TypeAdapter for the list answers."""
    adapter = TypeAdapter(model) if not (isinstance(model, type) and issubclass(model, BaseModel)) else None
    return adapter.validate_python(resp.json()) if adapter else model.model_validate(resp.json())


@pytest.fixture
def approver(client: Any, make_client: Any) -> Any:
    session, _actor = person(client, make_client, ["periods:approve", "periods:read"], name="Steuerberaterin")
    return session


@pytest.fixture
def books(client: Any) -> dict[str, str]:
    """January 2026 booked from every path that writes the journal; February empty but for a soft-lock."""
    def post(url: str, body: dict[str, Any]) -> str:
        return str(ok(client.post(url, body), 201).json().get("intent_id"))

    def line(debit: str, credit: str, amount: str, **more: Any) -> dict[str, Any]:
        return {"account_debit": debit, "account_credit": credit, "amount": amount, **more}

    opening = client.post("/v1/bookings/opening-balances", {"booking_date": "2025-12-31", "balances": [
        {"account": "1200", "amount": "5000", "side": "debit"}]})  # no credit side: a zero total
    ids = {"opening": str(ok(opening, 201).json()["intent_id"])}
    ids["vst"] = post("/v1/bookings", {"booking_date": "2026-01-15", "description": "Büromaterial",
                                       "lines": [line("4930", "1200", "119", tax_code="VSt19")]})
    ids["ust"] = post("/v1/bookings", {"booking_date": "2026-01-20", "description": "Erlös",
                                       "lines": [line("1400", "8400", "238.00", tax_code="USt19"),
                                                 line("1400", "8300", "10.7", tax_code="USt7")]})
    ids["rc"] = post("/v1/bookings", {"booking_date": "2026-01-21", "description": "Beratung EU",
                                      "lines": [line("4900", "1600", "1000", tax_code="RC19")]})
    ids["fx"] = post("/v1/bookings", {"booking_date": "2026-01-22", "description": "US-Software",
                                      "lines": [line("4930", "1600", "108.56")],
                                      "fx": {"currency": "USD", "rate": "1.0856"}})
    reversal = ok(client.post("/v1/journal/reverse", {"intent_id": ids["vst"], "reason": "Falscher Betrag"}), 201)
    ids["reversal"] = str(reversal.json()["reversal_intent_id"])
    return ids


def test_given_bookings_of_every_kind_then_the_audit_view_validates_against_its_model(
        client: Any, books: dict[str, str]) -> None:
    # Given an opening balance, tax-split, reverse-charge, foreign-currency bookings and a reversal
    for kind, intent_id in books.items():
        # When the audit view of each is read
        view = validate(IntentView, ok(client.get(f"/v1/journal/{intent_id}")))
        # Then it is the model (no key more, none missing) and says what was booked
        assert view.intent_id == intent_id, kind
        assert all(e.intent_id == intent_id for e in view.entries)
    assert validate(IntentView, client.get(f"/v1/journal/{books['vst']}")).summary.reversed_by_intent_id == \
        books["reversal"]
    reversal = validate(IntentView, client.get(f"/v1/journal/{books['reversal']}"))
    assert reversal.summary.kind == "reversal" and reversal.metadata.reversal is not None
    fx = validate(IntentView, client.get(f"/v1/journal/{books['fx']}"))
    assert fx.summary.fx is not None and fx.summary.fx.rate == "1.0856"


def test_given_the_journal_list_then_its_entries_have_exactly_the_documented_keys(
        client: Any, books: dict[str, str]) -> None:
    # Given JournalEntryOut, an older OutModel that only documents the answer (extra keys would pass it)
    entries = ok(client.get("/v1/journal")).json()["entries"]
    # Then every entry has the keys it names, no more and no fewer
    assert entries and all(set(e) == set(JournalEntryOut.model_fields) for e in entries)


def test_given_a_new_key_in_the_audit_view_then_the_model_refuses_it(client: Any, books: dict[str, str]) -> None:
    # Given a real audit view with one key the model does not name
    body = client.get(f"/v1/journal/{books['fx']}").json()
    body["summary"]["undocumented"] = 1
    # Then validating it fails: a new key cannot reach clients undocumented
    with pytest.raises(ValueError, match="undocumented"):
        IntentView.model_validate(body)


def test_given_booked_months_then_every_report_validates_against_its_rows_model(
        client: Any, books: dict[str, str]) -> None:
    span = "startDate=2026-01-01&endDate=2026-03-31"
    # When each report type is read, Then its rows are the rows of that type's model
    for kind, model in (("trial_balance", TrialBalanceRow), ("profit_and_loss", ProfitAndLossRow),
                        ("balance_sheet", BalanceSheetRow), ("vat_return", VatReturnRow)):
        rows = validate(list[model], ok(client.get(f"/v1/reports?type={kind}&{span}")))  # type: ignore[valid-type]
        assert rows, kind
    months = validate(list[MonthlyRow], ok(client.get(f"/v1/reports/monthly-revenue-expenses?{span}")))
    assert [m.month for m in months] == ["2026-01", "2026-02", "2026-03"]


def test_given_the_lock_flow_then_every_period_answer_validates_against_its_model(
        client: Any, approver: Any, books: dict[str, str]) -> None:
    # Given a request that is cancelled, one that is approved (December first: the order rule), a soft-lock
    first = validate(LockRequested, ok(client.post("/v1/periods/2025-12/lock"), 201))
    assert validate(LockStatus, ok(client.get("/v1/periods/2025-12/lock/status"))).has_pending_request
    validate(LockCancelled, ok(client.post(f"/v1/periods/2025-12/lock/{first.request_id}/cancel")))
    second = validate(LockRequested, ok(client.post("/v1/periods/2025-12/lock"), 201))
    locked = validate(Locked, ok(approver.post(f"/v1/periods/2025-12/lock/{second.request_id}/approve")))
    assert locked.entry_count == 1 and len(locked.closing_hash) == 64
    assert validate(PeriodState, ok(client.post("/v1/periods/2026-02/soft-lock"))).status == "soft_locked"
    # Then the period list is the model too, for each status
    periods = validate(list[PeriodOut], ok(client.get("/v1/periods")))
    assert {p.period: p.status for p in periods} == {"2025-12": "locked", "2026-01": "open",
                                                     "2026-02": "soft_locked"}
    assert validate(PeriodReopened, ok(client.post("/v1/periods/2026-02/reopen"))).status == "open"
    assert validate(LockStatus, ok(client.get("/v1/periods/2026-01/lock/status"))).request_id is None


def test_given_every_flow_then_every_amount_of_every_json_answer_has_exactly_two_decimals(
        client: Any, books: dict[str, str]) -> None:
    # Given the books above (amounts sent as "5000", "119", "10.7") and a bank account with transactions
    acc = create_account(client)
    bodies = [ok(client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [
        row(amount="-119"), row(amount="2500.5", booking_date="2026-01-16")]}), 201).body]
    opening = ok(client.post("/v1/bookings/opening-balances", {"booking_date": "2025-12-31", "balances": [
        {"account": "1000", "amount": "10", "side": "debit"}]}), 201)
    assert OpeningBalancesCreated.model_validate(opening.json()).total_credit == 0
    bodies.append(opening.body)
    # When every JSON read of the journal, the reports and the bank answers
    span = "startDate=2026-01-01&endDate=2026-12-31"
    urls = [f"/v1/journal/{i}" for i in books.values()] + [
        "/v1/journal", "/v1/accounts/1200/entries", "/v1/accounts/1200/entries?startDate=2026-01-16",
        "/v1/accounts/1776/entries?startDate=2026-02-01",  # no entry in the range: balances only
        *(f"/v1/reports?type={t}&{span}" for t in ("trial_balance", "profit_and_loss", "balance_sheet",
                                                   "vat_return")),
        f"/v1/reports/monthly-revenue-expenses?{span}", "/v1/bank-accounts", f"/v1/bank-accounts/{acc['id']}",
        "/v1/bank-accounts/balance-history?days=7", f"/v1/bank-transactions?bank_account_id={acc['id']}"]
    for url in urls:
        resp = ok(client.get(url))
        if url.startswith("/v1/accounts/"):
            AccountEntries.model_validate(resp.json())
        bodies.append(resp.body)
    # Then every amount is a JSON number with two decimals (or null), zeros as 0.00
    found = [pair for body in bodies for pair in money_values(body)]
    bad = [(key, value) for key, value in found if value != "null" and not TWO_DECIMALS.fullmatch(value)]
    assert not bad, bad
    assert len(found) > 150 and ("opening_balance", "0.00") in found and ("total_credit", "0.00") in found
    assert ("debit", "0.00") in found or ("credit", "0.00") in found  # a trial balance row with one side
