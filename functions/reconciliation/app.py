"""Reconciliation group: bank transactions against open items and bookings (reconcile, unmatch, dismiss,
batch), match groups, and the reconciliation view of a bank account.

Its own function because it is the only bank-side code that books into the journal (settlement
intents, Stornos): the bank function's policy stays free of journal writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.resolver import json_response, make_resolver, responses
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.lazy import lazy_import
from ledgerlou.models.reconciliation import (
    BatchReconcileIn,
    BatchReconcileOut,
    DismissOut,
    MatchGroupIn,
    MatchGroupOut,
    MatchGroupUnmatchOut,
    ReconcileIn,
    ReconcileOut,
    ReconciliationView,
    UnmatchOut,
)

if TYPE_CHECKING:
    from ledgerlou.domain.reconciliation import batch, groups, matching, view
else:  # loaded on first use (cold start)
    batch = lazy_import("ledgerlou.domain.reconciliation.batch")
    groups = lazy_import("ledgerlou.domain.reconciliation.groups")
    matching = lazy_import("ledgerlou.domain.reconciliation.matching")
    view = lazy_import("ledgerlou.domain.reconciliation.view")

app = make_resolver()
READ, WRITE = "bank:read", "bank:write"
TAGS, GROUPS = ["Reconciliation"], ["Match groups"]
UUID_PATTERN = r"^[0-9a-fA-F-]{36}$"
IdPath = Annotated[str, Path(pattern=UUID_PATTERN)]


@app.post("/v1/bank-transactions/batch-reconcile", summary="Reconcile 1–100 pairs, each on its own", tags=TAGS,
          description="Every pair follows the rules of POST /v1/bank-transactions/{id}/reconcile and fails alone: "
                      "its error is in `errors` (index, code, message), the other pairs go on.",
          responses=responses(BatchReconcileOut, 200, "Success", 400, 401, 403))
@requires(WRITE)
@idempotent("bank-batch-reconcile")
def batch_reconcile(body: BatchReconcileIn) -> Response[str]:
    ctx = caller(app)
    return json_response(BatchReconcileOut.model_validate(batch.batch_reconcile(ctx, body)))


@app.post("/v1/bank-transactions/<transaction_id>/reconcile",
          summary="Reconcile a transaction: settle an open item, or link an existing booking", tags=TAGS,
          description="open_receivable / open_liability: books a settlement intent (source bank_reconciliation) on "
                      "the transaction's booking date, partial payments allowed. booking: links an intent that "
                      "posts the same amount on the bank's ledger account. 400 TARGET_KIND_UNSUPPORTED / "
                      "DIRECTION_MISMATCH / AMOUNT_MISMATCH / SETTLEMENT_EXCEEDS_OPEN_AMOUNT, 409 BANK_TX_NOT_OPEN "
                      "(also the loser of a race), 422 UNSUPPORTED_SETTLEMENT_CURRENCY.",
          responses=responses(ReconcileOut, 200, "Reconciled", 400, 401, 403, 404, 409, 422))
@requires(WRITE)
@idempotent("bank-reconcile")
def reconcile(transaction_id: IdPath, body: ReconcileIn) -> Response[str]:
    ctx = caller(app)
    return json_response(ReconcileOut.model_validate(matching.reconcile(ctx, transaction_id, body)))


@app.post("/v1/bank-transactions/<transaction_id>/unmatch",
          summary="Undo a reconciliation (a settlement is reversed by a Storno) or a dismissal", tags=TAGS,
          description="The transaction is unreconciled again and the open item reopens. 409 IN_MATCH_GROUP for a "
                      "transaction of a match group, 409 INVALID_STATE when there is nothing to undo.",
          responses=responses(UnmatchOut, 200, "Unmatched", 400, 401, 403, 404, 409))
@requires(WRITE)
@idempotent("bank-unmatch")
def unmatch(transaction_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(UnmatchOut.model_validate(matching.unmatch(ctx, transaction_id)))


@app.post("/v1/bank-transactions/<transaction_id>/dismiss", summary="Dismiss a transaction (no booking)",
          tags=TAGS, responses=responses(DismissOut, 200, "Dismissed", 400, 401, 403, 404, 409))
@requires(WRITE)
@idempotent("bank-dismiss")
def dismiss(transaction_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(DismissOut.model_validate(matching.dismiss(ctx, transaction_id)))


@app.get("/v1/bank-accounts/<account_id>/reconciliation",
         summary="Bank side against ledger side of a bank account", tags=TAGS,
         description="`ledger` is the balance of the bank's ledger account, `unmatched_ledger` its entries that no "
                     "bank transaction is matched to, `difference` = bank.balance − ledger.amount (account currency; "
                     "base_amount in the tenant's base currency).",
         responses=responses(ReconciliationView, 200, "Success", 400, 401, 403, 404))
@requires(READ)
def reconciliation_view(account_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(ReconciliationView.model_validate(view.reconciliation(ctx, account_id.lower())))


@app.post("/v1/bank-match-groups", summary="Reconcile several transactions against several open items at once",
          tags=GROUPS,
          description="One balanced settlement intent for the group: allocations (settled_document_amount for an "
                      "item in another currency; the FX difference goes to the chart's FX gain/loss account), "
                      "adjustments (fees, Skonto with tax_code for the VAT correction, small differences). 400 "
                      "BANK_TX_MIXED_BANK_ACCOUNTS / DIRECTION_MISMATCH / MIXED_SETTLEMENT_CURRENCY / "
                      "GROUP_NOT_BALANCED / SETTLEMENT_EXCEEDS_OPEN_AMOUNT / SETTLED_DOCUMENT_AMOUNT_REQUIRED / "
                      "TARGET_KIND_UNSUPPORTED, 404 ADJUSTMENT_ACCOUNT_NOT_FOUND, 409 BANK_TX_NOT_OPEN, 422 "
                      "UNSUPPORTED_SETTLEMENT_CURRENCY.",
          responses=responses(MatchGroupOut, 201, "Created", 400, 401, 403, 404, 409, 422))
@requires(WRITE)
@idempotent("bank-match-groups")
def create_match_group(body: MatchGroupIn) -> Response[str]:
    ctx = caller(app)
    return json_response(MatchGroupOut.model_validate(groups.create(ctx, body)), 201)


@app.post("/v1/bank-match-groups/<group_id>/unmatch",
          summary="Undo a match group: its intent is reversed, every transaction and open item reopens", tags=GROUPS,
          responses=responses(MatchGroupUnmatchOut, 200, "Unmatched", 400, 401, 403, 404, 409))
@requires(WRITE)
@idempotent("bank-match-group-unmatch")
def unmatch_match_group(group_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(MatchGroupUnmatchOut.model_validate(groups.unmatch(ctx, group_id)))


lambda_handler = http_entrypoint(app)
