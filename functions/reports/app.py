"""Reports group: trial balance, P&L, balance sheet, VAT return, monthly figures, DATEV export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.dates import REPORT_RANGE_DOC, DateQuery, RequiredDate
from ledgerlou.api.downloads import file_response
from ledgerlou.api.resolver import file_responses, json_response, make_resolver, responses
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.lazy import lazy_import
from ledgerlou.models.out import ExactOut
from ledgerlou.models.reports import MonthlyRow, ReportRows

if TYPE_CHECKING:
    from ledgerlou.domain.reports import statements as reports
else:  # loaded on first use: the store (pynamodb) is not needed to route or to reject a bad request
    reports = lazy_import("ledgerlou.domain.reports.statements")

app = make_resolver()
READ = "reports:read"
TAGS = ["Reports"]
ReportType = Literal["trial_balance", "profit_and_loss", "balance_sheet", "vat_return"]
CURRENT_THROUGH = "X-Journal-Current-Through"


def _answer(rows: Sequence[ExactOut], through: int, rng: reports.Range) -> Response[str]:
    # The seed fixes the body as an array; how current it is travels in headers.
    return json_response(rows, headers={CURRENT_THROUGH: str(through), "X-Report-Period": rng.months_label})


@app.get("/v1/reports", summary="A report (Summen- und Saldenliste, GuV, Bilanz, UStVA) for whole months",
         description=REPORT_RANGE_DOC, tags=TAGS,
         responses=responses(ReportRows, 200, "Report rows", 400, 401, 403))
@requires(READ)
def get_report(type: Annotated[ReportType, Query()],  # noqa: A002 - seed name
               startDate: DateQuery = None, endDate: DateQuery = None) -> Response[str]:
    ctx = caller(app)
    rng = reports.month_range(startDate, endDate)
    # Each ReportType is the domain function of that name (looked up per call: reports loads lazily).
    rows, through = getattr(reports, type)(ctx, rng)
    return _answer(rows, through, rng)


@app.get("/v1/reports/monthly-revenue-expenses", summary="Revenue, expenses and result per month", tags=TAGS,
         description=f"One row per month of the range. {REPORT_RANGE_DOC}",
         responses=responses(list[MonthlyRow], 200, "Rows", 400, 401, 403))
@requires(READ)
def monthly(startDate: DateQuery = None, endDate: DateQuery = None) -> Response[str]:
    ctx = caller(app)
    rng = reports.month_range(startDate, endDate)
    rows, through = reports.monthly_revenue_expenses(ctx, rng)
    return _answer(rows, through, rng)


@app.get("/v1/reports/datev-export", summary="DATEV EXTF Buchungsstapel (CSV, Windows-1252)", tags=TAGS,
         description="startDate..endDate lie in one fiscal year (DATEV's rule: one EXTF file per fiscal year, "
                     "as Belegdatum is DDMM and takes its year from the header): a range beyond the fiscal year "
                     "of startDate is 400 RANGE_TOO_LARGE naming that fiscal year, a reversed one 400 "
                     "INVALID_INPUT. Text cells that a spreadsheet would run as a formula (starting with = + - @, "
                     "also after blanks) are written with a leading ' (Buchungstext, header texts) or without the "
                     "leading '-' (Belegfeld 1, whose DATEV charset has no quote); numbers are never changed. "
                     "Above 4 MB the answer is 303 to a presigned download URL.",
         responses=file_responses("text/csv; charset=windows-1252", "EXTF Buchungsstapel", 400, 401, 403, 422,
                                  redirect=True))
@requires(READ)
def datev_export(startDate: RequiredDate, endDate: RequiredDate):  # type: ignore[no-untyped-def]
    # No return annotation on purpose: powertools would validate the binary body as UTF-8 text.
    ctx = caller(app)
    filename, chunks = reports.datev_export(ctx, startDate, endDate)
    return file_response(ctx.tenant_id, b"".join(chunks), "text/csv; charset=windows-1252", filename)


lambda_handler = http_entrypoint(app)
