"""Closing the books: soft-lock, four-eyes Festschreibung, closing hash, reports, DATEV export."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import samples_dir
from tests.integration.persons import person


def book(client: Any, date: str, debit: str, credit: str, amount: str, tax_code: str | None = None,
         description: str = "Buchung", **extra: Any) -> Any:
    line: dict[str, Any] = {"account_debit": debit, "account_credit": credit, "amount": amount}
    if tax_code:
        line["tax_code"] = tax_code
    return client.post("/v1/bookings", {"booking_date": date, "description": description, "lines": [line],
                                        "skip_duplicate_check": True, **extra})


@pytest.fixture
def approver(client: Any, make_client: Any) -> Any:
    # another person: a key the requester creates is the requester's own (four-eyes counts persons)
    session, _actor = person(client, make_client, ["periods:approve", "periods:read", "reports:read"],
                             name="Steuerberaterin")
    return session


def lock(client: Any, approver: Any, period: str) -> dict[str, Any]:
    req = client.post(f"/v1/periods/{period}/lock")
    assert req.status == 201, req.body
    resp = approver.post(f"/v1/periods/{period}/lock/{req.json()['request_id']}/approve")
    assert resp.status == 200, resp.body
    return dict(resp.json())


# ----------------------------------------------------------------------------- periods
def test_given_a_soft_lock_then_bookings_are_refused_until_reopened(client: Any) -> None:
    assert book(client, "2026-01-10", "4930", "1200", "10.00").status == 201
    resp = client.post("/v1/periods/2026-01/soft-lock")
    assert resp.status == 200 and resp.json()["status"] == "soft_locked" and resp.json()["period_number"] == 1
    refused = book(client, "2026-01-11", "4930", "1200", "10.00")
    assert refused.status == 409 and refused.json()["error"]["code"] == "PERIOD_LOCKED"
    assert book(client, "2026-02-01", "4930", "1200", "10.00").status == 201
    assert client.post("/v1/periods/2026-01/soft-lock").status == 409
    reopened = client.post("/v1/periods/2026-01/reopen")
    assert reopened.json() == {"period": "2026-01", "period_number": 1, "status": "open"}
    assert book(client, "2026-01-11", "4930", "1200", "10.00").status == 201
    assert client.post("/v1/periods/2026-01/reopen").status == 409


def test_given_a_lock_request_then_the_requester_cannot_approve_it(client: Any, approver: Any) -> None:
    book(client, "2026-01-10", "4930", "1200", "10.00")
    req = client.post("/v1/periods/2026-01/lock").json()
    assert req["status"] == "pending" and req["period"] == "2026-01" and req["message"]
    assert client.post("/v1/periods/2026-01/lock").status == 409
    status = client.get("/v1/periods/2026-01/lock/status").json()
    assert status["has_pending_request"] is True and status["request_id"] == req["request_id"]
    own = client.post(f"/v1/periods/2026-01/lock/{req['request_id']}/approve")
    assert own.status == 403 and own.json()["error"]["code"] == "FOUR_EYES_REQUIRED"
    cancelled = client.post(f"/v1/periods/2026-01/lock/{req['request_id']}/cancel")
    assert cancelled.json() == {"ok": True, "request_id": req["request_id"], "status": "cancelled"}
    assert client.get("/v1/periods/2026-01/lock/status").json()["has_pending_request"] is False
    assert approver.post(f"/v1/periods/2026-01/lock/{req['request_id']}/approve").status == 409


def test_given_a_lock_requested_in_person_then_a_key_of_that_person_cannot_approve_it(
        client: Any, make_client: Any, approver: Any) -> None:
    # Given a user who requests the Festschreibung and holds an approving key they created (and one made by it)
    user, actor = person(client, make_client, ["journal:write", "periods:read", "periods:write", "periods:approve",
                                               "admin"], name="Buchhalterin")
    key = user.post("/v1/api-keys", {"label": "meine", "scopes": ["periods:approve", "periods:read", "admin"]}).json()
    own_key = make_client(key["key"])
    nested = make_client(own_key.post("/v1/api-keys", {"label": "noch eine", "scopes": ["periods:approve"]}
                                      ).json()["key"])
    book(user, "2026-01-10", "4930", "1200", "10.00")
    req = user.post("/v1/periods/2026-01/lock").json()
    # When the user's own keys approve it, then 403 naming the person; another person's approval locks it
    for hands in (own_key, nested):
        refused = hands.post(f"/v1/periods/2026-01/lock/{req['request_id']}/approve")
        assert refused.status == 403 and refused.json()["error"]["code"] == "FOUR_EYES_REQUIRED"
        assert f"the same person ({actor})" in refused.json()["error"]["message"]
    assert client.get("/v1/periods/2026-01/lock/status").json()["has_pending_request"] is True
    assert approver.post(f"/v1/periods/2026-01/lock/{req['request_id']}/approve").status == 200


def test_given_a_key_without_approve_scope_then_403(client: Any, make_client: Any) -> None:
    writer = make_client(client.post("/v1/api-keys", {"label": "w", "scopes": ["periods:write"]}).json()["key"])
    req = client.post("/v1/periods/2026-01/lock").json()
    assert writer.post(f"/v1/periods/2026-01/lock/{req['request_id']}/approve").status == 403


def test_given_a_final_lock_then_nothing_can_be_booked_reversed_or_reopened(client: Any, approver: Any) -> None:
    intent = book(client, "2026-01-10", "4930", "1200", "119.00", "VSt19").json()["intent_id"]
    locked = lock(client, approver, "2026-01")
    assert locked["status"] == "locked" and len(locked["closing_hash"]) == 64 and locked["period_number"] == 1
    assert locked["approved_by"] != locked["locked_by"]
    assert book(client, "2026-01-31", "4930", "1200", "1.00").json()["error"]["code"] == "PERIOD_LOCKED"
    rev = client.post("/v1/journal/reverse", {"intent_id": intent, "reason": "x", "posting_mode": "original_date"})
    assert rev.status == 409 and rev.json()["error"]["code"] == "PERIOD_LOCKED"
    assert client.post("/v1/journal/reverse", {"intent_id": intent, "reason": "x",
                                               "posting_mode": "current_date"}).status == 201
    assert client.post("/v1/periods/2026-01/reopen").status == 409
    assert client.post("/v1/periods/2026-01/soft-lock").status == 409
    assert client.post("/v1/bookings/opening-balances", {"booking_date": "2026-01-01", "balances": [
        {"account": "1200", "amount": 1, "side": "debit"}]}).status == 409
    listed = {p["period"]: p for p in client.get("/v1/periods").json()}
    assert listed["2026-01"]["status"] == "locked" and listed["2026-01"]["closing_hash"] == locked["closing_hash"]


def test_given_a_closing_hash_then_an_auditor_recomputes_it_from_the_export(client: Any, approver: Any) -> None:
    from ledgerlou.domain.chain.closing import verify_closing

    book(client, "2026-01-10", "4930", "1200", "119.00", "VSt19")
    book(client, "2026-02-03", "4930", "1200", "5.00")
    book(client, "2026-01-20", "1400", "8400", "238.00", "USt19")
    jan = lock(client, approver, "2026-01")
    book(client, "2026-02-05", "4930", "1200", "7.00")
    feb = lock(client, approver, "2026-02")
    lines = client.get("/v1/journal/export").body.splitlines()
    assert verify_closing(lines, "2026-01", jan["closing_hash"], jan["chain_length"], None)
    assert verify_closing(lines, "2026-02", feb["closing_hash"], feb["chain_length"], jan["closing_hash"])
    assert not verify_closing(lines, "2026-02", feb["closing_hash"], feb["chain_length"], None)


def test_given_unlocked_earlier_months_then_a_later_month_cannot_be_festgeschrieben(client: Any,
                                                                                    approver: Any) -> None:
    book(client, "2026-01-10", "4930", "1200", "10.00")
    book(client, "2026-02-10", "4930", "1200", "10.00")
    req = client.post("/v1/periods/2026-02/lock").json()
    resp = approver.post(f"/v1/periods/2026-02/lock/{req['request_id']}/approve")
    assert resp.status == 409 and resp.json()["error"]["code"] == "PERIOD_ORDER"
    lock(client, approver, "2026-01")
    assert approver.post(f"/v1/periods/2026-02/lock/{req['request_id']}/approve").status == 200


def test_given_a_lock_racing_bookings_then_no_booking_lands_in_the_closed_period(client: Any, approver: Any) -> None:
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.domain.chain.closing import verify_closing
    from ledgerlou.domain.journal import appender, booking
    from ledgerlou.errors import Conflict
    from ledgerlou.models.journal import BookingRequest

    ctx = api_keys.authenticate(client.token)
    book(client, "2026-03-01", "4930", "1200", "1.00")
    req = client.post("/v1/periods/2026-03/lock").json()
    outcomes: list[str] = []

    def writer() -> None:
        own = appender.Appender()
        for i in range(20):
            body = {"booking_date": "2026-03-15", "description": f"race {i}", "skip_duplicate_check": True,
                    "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": "1.00"}]}
            try:
                booking.post_bookings(ctx, [BookingRequest.model_validate(body)], appender=own)
                outcomes.append("booked")
            except Conflict as ex:
                outcomes.append(ex.code)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    locked = approver.post(f"/v1/periods/2026-03/lock/{req['request_id']}/approve").json()
    for t in threads:
        t.join()
    lines = client.get("/v1/journal/export").body.splitlines()
    assert verify_closing(lines, "2026-03", locked["closing_hash"], locked["chain_length"], None)
    assert set(outcomes) <= {"booked", "PERIOD_LOCKED"}


@pytest.mark.parametrize("period", ["2026-13", "26-01", "2026-1", "0000-01", "2026-00"])
def test_given_a_bad_period_then_400(client: Any, period: str) -> None:
    assert client.post(f"/v1/periods/{period}/soft-lock").status == 400


# ----------------------------------------------------------------------------- reports
@pytest.fixture
def books(client: Any) -> Any:
    client.post("/v1/bookings/opening-balances", {"booking_date": "2026-01-01", "balances": [
        {"account": "1200", "amount": 10000, "side": "debit"}, {"account": "0800", "amount": 10000, "side": "credit"}]})
    book(client, "2026-01-10", "1400", "8400", "1190.00", "USt19", "Rechnung 1", external_reference="RE-1")
    book(client, "2026-01-12", "1400", "8300", "107.00", "USt7", "Rechnung 2")
    book(client, "2026-01-15", "4930", "1200", "119.00", "VSt19", "Büromaterial")
    book(client, "2026-02-02", "4930", "1600", "1000.00", "RC19", "Bauleistung §13b")
    book(client, "2026-02-03", "1200", "1400", "1190.00", None, "Zahlung RE-1")
    book(client, "2026-02-20", "4120", "1200", "3000.00", None, "Gehalt")
    return client


def _report(client: Any, type_: str, start: str = "2026-01-01", end: str = "2026-12-31") -> Any:
    resp = client.get(f"/v1/reports?type={type_}&startDate={start}&endDate={end}")
    assert resp.status == 200, resp.body
    return resp


def test_given_books_then_the_trial_balance_balances(books: Any) -> None:
    resp = _report(books, "trial_balance")
    rows = {r["account_number"]: r for r in resp.json()}
    assert int(resp.headers["x-journal-current-through"]) == 12  # 2 opening + 4 tax splits × 2 + 2
    assert rows["8400"]["credit"] == Decimal("1000.00") and rows["1776"]["credit"] == Decimal("190.00")
    assert rows["1200"]["closing_balance"] == Decimal("10000") - Decimal("119") + Decimal("1190") - Decimal("3000")
    assert sum(r["closing_balance"] for r in rows.values()) == 0
    feb = {r["account_number"]: r for r in _report(books, "trial_balance", "2026-02-01", "2026-02-28").json()}
    assert feb["1200"]["opening_balance"] == Decimal("9881.00") and feb["1200"]["debit"] == Decimal("1190.00")


def test_given_books_then_pnl_result_equals_the_balance_sheet_result(books: Any) -> None:
    pnl = _report(books, "profit_and_loss").json()
    result = next(r for r in pnl if r["report_group"] == "result")["amount"]
    assert result == Decimal("1000") + Decimal("100") - Decimal("100") - Decimal("1000") - Decimal("3000")
    revenue = next(r for r in pnl if r["report_group"] == "pl_revenue")
    assert revenue["amount"] == Decimal("1100.00")
    bs = _report(books, "balance_sheet").json()
    totals = {r["side"]: r["amount"] for r in bs if r["report_group"] == "total"}
    assert totals["assets"] == totals["equity_liabilities"]
    equity = next(r for r in bs if r["report_group"] == "bs_equity")
    assert any(a["account_number"] is None and a["amount"] == result for a in equity["accounts"])


def test_given_books_then_the_vat_return_has_the_kennzahlen(books: Any) -> None:
    rows = {r["kennzahl"]: r for r in _report(books, "vat_return").json()}
    assert rows["81"]["base"] == Decimal("1000.00") and rows["81"]["tax"] == Decimal("190.00")
    assert rows["86"]["base"] == Decimal("100.00") and rows["86"]["tax"] == Decimal("7.00")
    assert rows["66"]["tax"] == Decimal("19.00")
    assert rows["84"]["base"] == Decimal("1000.00") and rows["85"]["tax"] == Decimal("190.00")
    assert rows["67"]["tax"] == Decimal("190.00")
    assert rows["83"]["tax"] == Decimal("190") + Decimal("7") + Decimal("190") - Decimal("19") - Decimal("190")
    jan = {r["kennzahl"]: r for r in _report(books, "vat_return", "2026-01-01", "2026-01-31").json()}
    assert "84" not in jan and jan["83"]["tax"] == Decimal("178.00")


def test_given_a_reversal_then_the_vat_return_nets_it_out(client: Any) -> None:
    intent = book(client, "2026-01-10", "1400", "8400", "1190.00", "USt19").json()["intent_id"]
    client.post("/v1/journal/reverse", {"intent_id": intent, "reason": "storno"})
    rows = {r["kennzahl"]: r for r in _report(client, "vat_return").json()}
    assert rows["81"]["base"] == 0 and rows["83"]["tax"] == 0


def test_given_books_then_monthly_revenue_and_expenses(books: Any) -> None:
    rows = books.get("/v1/reports/monthly-revenue-expenses?startDate=2026-01-01&endDate=2026-03-31").json()
    assert [r["month"] for r in rows] == ["2026-01", "2026-02", "2026-03"]
    assert rows[0] == {"month": "2026-01", "revenue": Decimal("1100.00"), "expenses": Decimal("100.00"),
                       "result": Decimal("1000.00")}
    assert rows[1]["expenses"] == Decimal("4000.00") and rows[2]["result"] == 0


def test_given_reports_without_projection_then_the_tail_is_included(client: Any, make_client: Any) -> None:
    lazy = make_client(client.token, project=False)
    book(lazy, "2026-01-10", "4930", "1200", "50.00")
    rows = {r["account_number"]: r for r in _report(lazy, "trial_balance").json()}
    assert rows["4930"]["debit"] == Decimal("50.00")


@pytest.mark.parametrize("query", ["type=trial_balance&startDate=2026-01-15&endDate=2026-01-31",
                                   "type=trial_balance&startDate=2026-02-01&endDate=2026-01-31",
                                   "type=nonsense", "startDate=2026-01-01"])
def test_given_bad_report_queries_then_400(client: Any, query: str) -> None:
    assert client.get(f"/v1/reports?{query}").status == 400


# ----------------------------------------------------------------------------- DATEV
def test_given_books_then_the_datev_export_matches_the_official_layout(books: Any, approver: Any) -> None:
    from ledgerlou.formats.datev import read_extf

    muster = samples_dir("datev", "datev-muster_EXTF_Buchungsstapel_v13_utf8.csv").read_bytes()
    _, muster_headings, _ = read_extf(muster, "utf-8")
    resp = books.get("/v1/reports/datev-export?startDate=2026-01-01&endDate=2026-01-31")
    assert resp.status == 200
    assert resp.headers["content-type"] == "text/csv; charset=windows-1252"
    assert 'attachment; filename="EXTF_Buchungsstapel_' in resp.headers["content-disposition"]
    assert b"\r\n" in resp.body
    header, headings, rows = read_extf(resp.body, "cp1252")
    assert headings == muster_headings
    assert header[:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"] and header[20] == "0"
    by_text = {r[13]: r for r in rows}
    # 8400/8300 are DATEV Automatikkonten: gross, no BU key; 4930 with VSt19 gets BU 9 on the gross amount
    assert by_text["Rechnung 1"][:4] == ["1190,00", "S", "EUR", ""] and by_text["Rechnung 1"][6:9] == [
        "1400", "8400", ""]
    assert by_text["Rechnung 1"][10] == "RE-1"
    assert by_text["Büromaterial"][0] == "119,00" and by_text["Büromaterial"][8] == "9"
    assert by_text["Büromaterial"][9] == "1501"
    assert all(r[13] != "Bauleistung §13b" for r in rows)  # February is outside the range
    lock(books, approver, "2026-01")
    locked = books.get("/v1/reports/datev-export?startDate=2026-01-01&endDate=2026-01-31")
    assert read_extf(locked.body, "cp1252")[0][20] == "1"
    assert books.get("/v1/reports/datev-export?startDate=2026-01-01&endDate=2027-01-31").status == 400


def test_given_a_backdated_booking_and_an_unprojected_tail_then_the_datev_export_lists_each_entry_once(
        client: Any, make_client: Any) -> None:
    from ledgerlou.formats.datev import read_extf

    # Given January, then February, then a booking backdated into January, then one not yet projected
    book(client, "2026-01-05", "4930", "1200", "10.00", description="Jan 1")
    book(client, "2026-02-05", "4930", "1200", "20.00", description="Feb 1")
    book(client, "2026-01-28", "4930", "1200", "30.00", description="Jan nachgebucht")
    lazy = make_client(client.token, project=False)
    book(lazy, "2026-01-30", "4930", "1200", "40.00", description="Jan ungebucht projiziert")
    # When January is exported
    resp = lazy.get("/v1/reports/datev-export?startDate=2026-01-01&endDate=2026-01-31")
    # Then every January entry appears exactly once, in journal order, and February does not
    assert resp.status == 200
    texts = [r[13] for r in read_extf(resp.body, "cp1252")[2]]
    assert texts == ["Jan 1", "Jan nachgebucht", "Jan ungebucht projiziert"]
    feb = [r[13] for r in read_extf(lazy.get("/v1/reports/datev-export?startDate=2026-02-01&endDate=2026-02-28")
                                     .body, "cp1252")[2]]
    assert feb == ["Feb 1"]


@pytest.mark.parametrize(("year", "month_end"), [("9999", "12-31"), ("0001", "01-31")])
def test_given_a_booking_in_the_first_or_last_representable_year_then_its_datev_export_is_a_valid_file(
        client: Any, year: str, month_end: str) -> None:
    from ledgerlou.formats.datev import read_extf

    # Given a booking dated in 9999 (whose fiscal year ends where `date` ends) or in 0001
    day = f"{year}-{month_end}"
    assert book(client, day, "4930", "1200", "10.00", description="Randjahr").status == 201
    # When that month is exported
    resp = client.get(f"/v1/reports/datev-export?startDate={day[:8]}01&endDate={day}")
    # Then the file is there (was 500: the fiscal year end of 9999 was computed as a date in 10000), with
    # 8-digit dates in the header (strftime wrote 0001-01-01 as "10101") and the booking in it
    assert resp.status == 200, resp.body
    header, _, rows = read_extf(resp.body, "cp1252")
    assert header[12:16] == [f"{year}0101", "4", f"{year}{month_end[:2]}01", f"{year}{month_end.replace('-', '')}"]
    assert f'EXTF_Buchungsstapel_{year}{month_end[:2]}01_' in resp.headers["content-disposition"]
    assert [r[13] for r in rows] == ["Randjahr"]


def test_given_an_entry_above_datevs_amount_limit_then_the_export_names_it_with_422(client: Any) -> None:
    # Given a booking of 10 billion EUR: valid in the journal (up to 999,999,999,999.99), but DATEV's
    # Umsatz field holds at most 10 integer digits
    assert book(client, "2026-03-10", "0200", "1200", "10000000000.00", description="Grundstück").status == 201
    # When March is exported to DATEV
    resp = client.get("/v1/reports/datev-export?startDate=2026-03-01&endDate=2026-03-31")
    # Then no file is cut short or altered: 422 names the entry (was a 500)
    assert resp.status == 422, resp.body
    error = resp.json()["error"]
    assert error["code"] == "DATEV_AMOUNT_TOO_LARGE" and error["details"] == [{"field": "journal_number", "issue": "1"}]
    # and the limit itself still exports
    assert book(client, "2026-04-10", "0200", "1200", "9999999999.99", description="Grenze").status == 201
    assert client.get("/v1/reports/datev-export?startDate=2026-04-01&endDate=2026-04-30").status == 200


def test_given_account_number_zero_when_created_then_400(client: Any) -> None:
    # Given no chart has an account 0 and DATEV refuses one
    resp = client.post("/v1/accounts", {"number": "0000", "name": "Null", "type": "asset"})
    # Then it cannot be created, so no entry can ever make the DATEV export fail on it
    assert resp.status == 400 and resp.json()["error"]["details"] == [{"field": "number", "issue": "must not be 0"}]
