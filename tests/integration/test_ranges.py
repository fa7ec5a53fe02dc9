"""Date ranges are bounded by what an endpoint can answer (issue 14, item 2): reports at most
MAX_REPORT_MONTHS months, the DATEV export one fiscal year, lists one page; a reversed range is a 400
everywhere; months are counted as numbers, never compared as "YYYY-MM" strings."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest
from ledgerlou.domain.ranges import MAX_REPORT_MONTHS, months_spanned

from tests.integration.periods.test_closing import book

REPORT_PATHS = ["/v1/reports/monthly-revenue-expenses", *(
    f"/v1/reports?type={t}" for t in ("trial_balance", "profit_and_loss", "balance_sheet", "vat_return"))]


def _get(client: Any, path: str, start: str, end: str, start_name: str = "startDate",
         end_name: str = "endDate") -> Any:
    sep = "&" if "?" in path else "?"
    return client.get(f"{path}{sep}{start_name}={start}&{end_name}={end}")


def _assert_range_too_large(resp: Any, limit: str) -> None:
    assert resp.status == 400, resp.body[:300]
    error = resp.json()["error"]
    assert error["code"] == "RANGE_TOO_LARGE", error
    assert limit in error["message"], error
    assert error["details"][0]["field"] == "endDate"


def test_given_the_probe_range_9000_to_9999_when_monthly_figures_are_asked_then_400_naming_the_limit_fast(
        client: Any) -> None:
    # Given a booking, so the report has something to sum
    assert book(client, "2026-01-10", "8400", "1400", "119.00").status == 201
    # When the probe's request is repeated (it answered 62 MB, 1,091,880 rows up to "99989-12", in 7 s)
    started = time.perf_counter()
    resp = client.get("/v1/reports/monthly-revenue-expenses?startDate=9000-01-01&endDate=9999-12-31")
    elapsed = time.perf_counter() - started
    # Then it is a 400 that names the limit, answered without computing anything
    _assert_range_too_large(resp, f"at most {MAX_REPORT_MONTHS} months")
    assert "12000" in resp.json()["error"]["message"]  # the span asked for
    assert elapsed < 2.0, elapsed


def test_given_a_range_at_the_limit_ending_in_9999_then_monthly_figures_have_one_row_per_month(
        client: Any) -> None:
    # Given the last ten representable years: a string loop ran past "9999-12" into "10000-01" < "9999-12"
    assert book(client, "9999-12-31", "4930", "1200", "10.00").status == 201
    # When asked for exactly MAX_REPORT_MONTHS months
    resp = client.get("/v1/reports/monthly-revenue-expenses?startDate=9990-01-01&endDate=9999-12-31")
    # Then it answers one row per month, 9990-01 … 9999-12, and the booking is in the last one
    assert resp.status == 200, resp.body[:300]
    rows = resp.json()
    assert len(rows) == MAX_REPORT_MONTHS == 120
    assert rows[0]["month"] == "9990-01" and rows[-1]["month"] == "9999-12"
    assert rows[-1]["expenses"] == Decimal("10.00")
    assert resp.headers["x-report-period"] == "9990-01..9999-12"


@pytest.mark.parametrize("path", REPORT_PATHS)
def test_given_every_report_when_the_range_is_at_or_past_the_limit_then_200_or_400_range_too_large(
        client: Any, path: str) -> None:
    assert book(client, "2026-01-10", "8400", "1400", "119.00").status == 201
    # Given 2017-01..2026-12 (120 months) and 2016-12..2026-12 (121 months)
    assert months_spanned(dt.date(2017, 1, 1), dt.date(2026, 12, 31)) == MAX_REPORT_MONTHS
    # When each report is asked for both
    at_limit = _get(client, path, "2017-01-01", "2026-12-31")
    past = _get(client, path, "2016-12-01", "2026-12-31")
    # Then the first answers, the second is refused naming the limit
    assert at_limit.status == 200, at_limit.body[:300]
    _assert_range_too_large(past, f"at most {MAX_REPORT_MONTHS} months")
    assert "spans 121" in past.json()["error"]["message"]


def test_given_only_a_start_date_long_ago_then_the_default_end_counts_towards_the_limit(client: Any) -> None:
    # Given the end defaults to the end of the current year, a start 20 years back spans too much
    resp = client.get("/v1/reports?type=trial_balance&startDate=2000-01-01")
    # Then the default is not a way round the limit
    _assert_range_too_large(resp, f"at most {MAX_REPORT_MONTHS} months")


def test_given_a_datev_range_beyond_one_fiscal_year_then_400_range_too_large_naming_the_fiscal_year(
        client: Any) -> None:
    assert book(client, "2026-01-10", "4930", "1200", "10.00").status == 201
    # When the export would span two fiscal years (DATEV: one EXTF file per fiscal year), or the probe's range
    for end in ("2027-01-31", "9999-12-31"):
        resp = client.get(f"/v1/reports/datev-export?startDate=2026-01-01&endDate={end}")
        # Then 400 RANGE_TOO_LARGE names the fiscal year that can be exported
        _assert_range_too_large(resp, "one fiscal year")
        assert "2026-01-01..2026-12-31" in resp.json()["error"]["message"]
    # and the whole fiscal year, the limit itself, exports
    assert client.get("/v1/reports/datev-export?startDate=2026-01-01&endDate=2026-12-31").status == 200


@pytest.mark.parametrize(("path", "start_name", "end_name"), [
    ("/v1/journal", "startDate", "endDate"),
    ("/v1/accounts/1200/entries", "startDate", "endDate"),
    ("/v1/journal/export", "startDate", "endDate"),
    ("/v1/reports/monthly-revenue-expenses", "startDate", "endDate"),
    ("/v1/reports?type=trial_balance", "startDate", "endDate"),
    ("/v1/reports/datev-export", "startDate", "endDate"),
    ("/v1/bank-transactions", "start_date", "end_date"),
])
def test_given_a_reversed_range_on_any_range_route_then_400_invalid_input_naming_the_start(
        client: Any, path: str, start_name: str, end_name: str) -> None:
    assert book(client, "2026-01-10", "4930", "1200", "10.00").status == 201
    # Given a range whose start lies after its end (the lists answered 200 with nothing)
    resp = _get(client, path, "2026-02-01", "2026-01-31", start_name, end_name)
    # Then it is refused, naming the start parameter
    assert resp.status == 400, resp.body[:300]
    error = resp.json()["error"]
    assert error["code"] == "INVALID_INPUT"
    assert error["details"] == [{"field": start_name, "issue": f"must not be after {end_name}"}]


def test_given_the_widest_range_on_the_lists_then_one_page_the_same_as_without_a_range(client: Any) -> None:
    # Given three bookings
    for day in ("2026-01-10", "2026-02-10", "2026-03-10"):
        assert book(client, day, "4930", "1200", "10.00").status == 201
    # When the lists are asked for 0001-01-01..9999-12-31 with a page of 2
    for path in ("/v1/journal", "/v1/accounts/1200/entries"):
        wide = client.get(f"{path}?startDate=0001-01-01&endDate=9999-12-31&limit=2")
        plain = client.get(f"{path}?limit=2")
        # Then the answer is one page, the same as without a range (the span costs nothing)
        assert wide.status == plain.status == 200
        assert wide.json() == plain.json()
        assert len(wide.json()["entries"]) == 2
        assert wide.json()["total"] == 3
    wide_export = client.get("/v1/journal/export?startDate=0001-01-01&endDate=9999-12-31")
    assert wide_export.status == 200 and wide_export.body == client.get("/v1/journal/export").body
