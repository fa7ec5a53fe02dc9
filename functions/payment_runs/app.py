"""Payment runs (group payables): SEPA credit transfers (pain.001.001.09) with four-eyes approval.

A Lambda of its own: the only payables code that writes documents (the SEPA file) and builds XML, so
the vendors/invoices function keeps its small cold start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.dates import DateQuery
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.pagination import DEFAULT_LIMIT, Limit, Offset, counted_page, with_total_count
from ledgerlou.api.resolver import json_response, link, make_resolver, responses, with_links
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.lazy import lazy_import
from ledgerlou.models.payment_runs import (
    EligibleInvoicesOut,
    PaymentRunExportOut,
    PaymentRunIn,
    PaymentRunOut,
    PaymentRunSummaryOut,
    RunStatus,
)
from ledgerlou.observability import metrics

if TYPE_CHECKING:
    from ledgerlou.domain.payables import payment_runs
else:  # loaded on first use (cold start)
    payment_runs = lazy_import("ledgerlou.domain.payables.payment_runs")

app = make_resolver()
READ, WRITE = "payables:read", "payables:write"
RUNS = ["Payment runs"]
IdPath = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]
RUN_PATH, NEW_ID = "/v1/payment-runs/{run_id}", "$response.body#/id"


def _run(payload: dict[str, object], status: int = 200) -> Response[str]:
    return json_response(PaymentRunOut.model_validate(payload), status)


@app.get("/v1/payment-runs", summary="List payment runs (newest first)", tags=RUNS,
         description="The header X-Total-Count gives the number of matches.",
         responses=with_total_count(responses(list[PaymentRunSummaryOut], 200, "Success", 400, 401, 403)))
@requires(READ)
def list_payment_runs(status: Annotated[RunStatus | None, Query()] = None, limit: Limit = DEFAULT_LIMIT,
                      offset: Offset = 0) -> Response[str]:
    rows, total = payment_runs.list_runs(caller(app), status, limit, offset)
    return counted_page([PaymentRunSummaryOut.model_validate(r) for r in rows], total)


@app.get("/v1/payment-runs/eligible-invoices", summary="Incoming invoices a payment run can pay, oldest due "
         "date first", tags=RUNS,
         description="Open incoming invoices (EUR) of active vendors with a valid IBAN that no live run holds, "
                     "each with the amount to pay on execution_date (default: the next TARGET business day "
                     "from today): the remaining amount less Skonto where the date lies in the Skonto period.",
         responses=responses(EligibleInvoicesOut, 200, "Success", 400, 401, 403))
@requires(READ)
def list_eligible_invoices(execution_date: DateQuery = None, limit: Limit = DEFAULT_LIMIT,
                      offset: Offset = 0) -> Response[str]:
    out = payment_runs.eligible(caller(app), execution_date, limit, offset)
    return json_response(EligibleInvoicesOut.model_validate(out))


@app.post("/v1/payment-runs", summary="Create a payment run (draft)", tags=RUNS,
          description="400 EXECUTION_DATE_IN_PAST / BANK_ACCOUNT_WITHOUT_IBAN, 404 (bank account), 409 "
                      "INVOICE_NOT_ELIGIBLE naming the invoice. A weekend or TARGET holiday moves to the next "
                      "business day (execution_date_moved). A vendor or debtor address without town or country "
                      "is listed in problems: the run is created but cannot be exported.",
          responses=with_links(responses(PaymentRunOut, 201, "Created", 400, 401, 403, 404, 409), 201,
                               GetPaymentRun=link("GET", RUN_PATH, run_id=NEW_ID),
                               ApprovePaymentRun=link("POST", RUN_PATH + "/approve", run_id=NEW_ID)))
@requires(WRITE)
@idempotent("payment_runs")
def create_payment_run(body: PaymentRunIn) -> Response[str]:
    created = payment_runs.create(caller(app), body)
    metrics.add_metric(name="PaymentRunsCreated", unit="Count", value=1)
    return _run(created, 201)


@app.get("/v1/payment-runs/<run_id>", summary="A payment run with its items", tags=RUNS,
         responses=responses(PaymentRunOut))
@requires(READ)
def get_payment_run(run_id: IdPath) -> Response[str]:
    return _run(payment_runs.get(caller(app), run_id))


@app.post("/v1/payment-runs/<run_id>/approve", summary="Approve a draft run (four-eyes)", tags=RUNS,
          description="Another actor than the creator: 403 FOUR_EYES_REQUIRED; not a draft: 409 INVALID_STATE.",
          responses=responses(PaymentRunOut, 200, "Approved", 400, 401, 403, 404, 409))
@requires(WRITE)
def approve_payment_run(run_id: IdPath) -> Response[str]:
    return _run(payment_runs.approve(caller(app), run_id))


@app.post("/v1/payment-runs/<run_id>/cancel", summary="Cancel a run (any state but completed): frees its "
          "invoices", tags=RUNS, responses=responses(PaymentRunOut, 200, "Cancelled", 400, 401, 403, 404, 409))
@requires(WRITE)
def cancel_payment_run(run_id: IdPath) -> Response[str]:
    return _run(payment_runs.cancel(caller(app), run_id))


@app.post("/v1/payment-runs/<run_id>/export", summary="The SEPA file (pain.001.001.09) of an approved run",
          tags=RUNS,
          description="Approved or exported runs (an exported run answers its stored file again). The file is "
                      "stored as a document of the run (document_id, sha256). 409 PAYMENT_RUN_NOT_EXPORTABLE "
                      "names the address that lacks town or country; 409 INVALID_STATE.",
          responses=responses(PaymentRunExportOut, 200, "Exported", 400, 401, 403, 404, 409))
@requires(WRITE)
@idempotent("payment_run_export")
def export_payment_run(run_id: IdPath) -> Response[str]:
    return json_response(PaymentRunExportOut.model_validate(payment_runs.export(caller(app), run_id)))


@app.post("/v1/payment-runs/<run_id>/complete", summary="Book the payments of an exported run (one intent)",
          tags=RUNS,
          description="One intent dated execution_date: each invoice's payable against the bank account's ledger "
                      "account (Skonto to Erhaltene Skonti with the input-VAT correction), settling every invoice "
                      "of the run; reconcile the statement's batch debit to it with candidate_kind booking.",
          responses=with_links(responses(PaymentRunOut, 200, "Completed", 400, 401, 403, 404, 409), 200,
                               GetCompletionIntent=link("GET", "/v1/journal/{intent_id}",
                                                        intent_id="$response.body#/intent_id")))
@requires(WRITE)
@idempotent("payment_run_complete")
def complete_payment_run(run_id: IdPath) -> Response[str]:
    return _run(payment_runs.complete(caller(app), run_id))


lambda_handler = http_entrypoint(app)
