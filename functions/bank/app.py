"""Bank group: bank accounts, bank transactions and statement imports (camt.053, MT940, bank CSV)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.dates import LIST_RANGE_DOC, DateQuery, iso
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.multipart import read_upload
from ledgerlou.api.pagination import DEFAULT_LIMIT, Limit, Offset, counted_page, with_total_count
from ledgerlou.api.resolver import json_response, link, make_resolver, multipart_body, responses, with_links
from ledgerlou.api.schemas.bank import (
    BalanceHistoryOut,
    BankAccountCreate,
    BankAccountOut,
    BankAccountUpdate,
    BankTransactionEnvelope,
    BankTransactionList,
    FileImportResult,
    ImportBatchOut,
    ImportQueued,
    ImportResult,
    TxStatus,
    UnreconciledCount,
)
from ledgerlou.api.schemas.suggestions import EvidenceEnvelope, EvidenceOut, Suggestion
from ledgerlou.domain.ranges import check_range
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.errors import InvalidInput
from ledgerlou.lazy import lazy_import
from ledgerlou.models.bank import BankTransactionsImport
from ledgerlou.models.common import SearchTerm
from ledgerlou.models.evidence import EvidenceIn
from ledgerlou.observability import metrics

if TYPE_CHECKING:
    from ledgerlou.domain.bank import accounts as bank
    from ledgerlou.domain.bank import balances, transactions
    from ledgerlou.domain.bank.importing import run as imports
    from ledgerlou.domain.reconciliation import evidence, suggest
else:  # loaded on first use (cold start): the store, the chart and the import are not needed to route
    bank = lazy_import("ledgerlou.domain.bank.accounts")
    balances = lazy_import("ledgerlou.domain.bank.balances")
    transactions = lazy_import("ledgerlou.domain.bank.transactions")
    imports = lazy_import("ledgerlou.domain.bank.importing.run")
    evidence = lazy_import("ledgerlou.domain.reconciliation.evidence")
    suggest = lazy_import("ledgerlou.domain.reconciliation.suggest")

app = make_resolver()
READ, WRITE = "bank:read", "bank:write"
ACCOUNTS, TRANSACTIONS = ["Bank accounts"], ["Bank transactions"]
UUID_PATTERN = r"^[0-9a-fA-F-]{36}$"
IdPath = Annotated[str, Path(pattern=UUID_PATTERN)]
AccountQuery = Annotated[str | None, Query(pattern=UUID_PATTERN, description="Bank account id")]
QUEUED: dict[int, Any] = {202: {"description": "More than 500 transactions: queued for the import worker; "
                               "poll GET /v1/bank-transactions/import-batches/{batch_id}",
                "content": {"application/json": {"model": ImportQueued}}}}


# OpenAPI links from what a request created to the operations that read or change it
ACCOUNT_PATH, NEW_ID = "/v1/bank-accounts/{account_id}", "$response.body#/id"
IMPORT_BATCH_LINK = link("GET", "/v1/bank-transactions/import-batches/{batch_id}", batch_id="$response.body#/batch_id")


def _with_queued(out: dict[int, Any]) -> dict[int, Any]:
    return {**out, **QUEUED}


# ------------------------------------------------------------------------------------- bank accounts
@app.get("/v1/bank-accounts", summary="List the bank accounts", tags=ACCOUNTS,
         responses=responses(list[BankAccountOut], 200, "Success", 401, 403))
@requires(READ)
def list_bank_accounts() -> Response[str]:
    ctx = caller(app)
    return json_response([bank.view(a) for a in bank.list_accounts(ctx.tenant_id)])


@app.post("/v1/bank-accounts", summary="Create a bank account (linked to a ledger account of the chart)",
          tags=ACCOUNTS,
          responses=with_links(responses(BankAccountOut, 201, "Created", 400, 401, 403, 404, 409), 201,
                               GetBankAccount=link("GET", ACCOUNT_PATH, account_id=NEW_ID),
                               RenameBankAccount=link("PUT", ACCOUNT_PATH, account_id=NEW_ID),
                               UploadStatement=link("POST", ACCOUNT_PATH + "/upload", account_id=NEW_ID)))
@requires(WRITE)
@idempotent("bank-accounts")
def create_bank_account(body: BankAccountCreate) -> Response[str]:
    item = bank.create_account(caller(app), name=body.name, iban=body.iban, bic=body.bic,
                               account_number=body.account_number, currency=body.currency,
                               ledger_account=body.ledger_account)
    return json_response(bank.view(item), 201)


@app.get("/v1/bank-accounts/balance-history", summary="Daily balances of the last `days` days", tags=ACCOUNTS,
         description="End-of-day balances, anchored at the latest closing balance an imported statement stated "
                     "(else the sum of all imported transactions). Without bank_account_id: all accounts in the "
                     "base currency together.",
         responses=responses(BalanceHistoryOut, 200, "Success", 400, 401, 403, 404))
@requires(READ)
def balance_history(days: Annotated[int, Query(ge=1, le=366, description="Default 30")] = 30,
                    bank_account_id: AccountQuery = None) -> Response[str]:
    ctx = caller(app)
    return json_response(balances.balance_history(ctx, days, bank_account_id))


@app.get("/v1/bank-accounts/<account_id>", summary="A bank account with tx_count, unreconciled_count, "
         "last_tx_date", tags=ACCOUNTS, responses=responses(BankAccountOut))
@requires(READ)
def get_bank_account(account_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(bank.view(bank.get_account(ctx.tenant_id, account_id)))


@app.put("/v1/bank-accounts/<account_id>", summary="Rename a bank account", tags=ACCOUNTS,
         responses=responses(BankAccountOut))
@requires(WRITE)
def update_bank_account(account_id: IdPath, body: BankAccountUpdate) -> Response[str]:
    ctx = caller(app)
    return json_response(bank.view(bank.rename_account(ctx.tenant_id, account_id, body.name)))


@app.post("/v1/bank-accounts/<account_id>/upload", summary="Import a statement file into this bank account",
          description="multipart/form-data, field `file`: camt.053, MT940 or a German bank CSV export.",
          tags=ACCOUNTS, responses=_with_queued(responses(FileImportResult, 201, "Imported", 400, 401, 403, 404, 409,
                                                          413)),
          openapi_extensions=multipart_body("camt.053, MT940 or a German bank CSV export"))
@requires(WRITE)
@idempotent("bank-upload")
def upload_statement(account_id: IdPath) -> Response[str]:
    return _import_file(caller(app), account_id.lower())


# ------------------------------------------------------------------------------------- bank transactions
@app.get("/v1/bank-transactions", summary="List bank transactions (newest first)", tags=TRANSACTIONS,
         description=LIST_RANGE_DOC,
         responses=responses(BankTransactionList))
@requires(READ)
def list_bank_transactions(bank_account_id: AccountQuery = None, start_date: DateQuery = None,
                           end_date: DateQuery = None, search: Annotated[SearchTerm | None, Query()] = None,
                           status: Annotated[TxStatus | None, Query()] = None, limit: Limit = DEFAULT_LIMIT,
                           offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    check_range(start_date, end_date, start_field="start_date", end_field="end_date")
    return json_response(transactions.list_transactions(
        ctx.tenant_id, bank_account_id=bank_account_id.lower() if bank_account_id else None,
        start_date=iso(start_date), end_date=iso(end_date), search=search, status=status, limit=limit,
        offset=offset))


@app.post("/v1/bank-transactions", summary="Import bank transactions (JSON)", tags=TRANSACTIONS,
          description="409 IMPORT_IN_PROGRESS when another import into the bank account is still running "
                      "(imports into one bank account run one at a time; this one waited 15 s for it).",
          responses=with_links(responses(ImportResult, 201, "Imported", 400, 401, 403, 404, 409), 201,
                               GetImportBatch=IMPORT_BATCH_LINK))
@requires(WRITE)
@idempotent("bank-transactions")
def import_transactions(body: BankTransactionsImport) -> Response[str]:
    result = imports.import_json(caller(app), body)
    metrics.add_metric(name="BankTransactionsImported", unit="Count", value=result["imported"])
    return json_response(result, 201)


@app.post("/v1/bank-transactions/import-file", summary="Import a statement file (bank account by its IBAN)",
          description="multipart/form-data: `file` (camt.053, MT940 or a German bank CSV export) and optionally "
                      "`bank_account_id`; without it the bank account is found by the statement's IBAN or "
                      "account number.",
          tags=TRANSACTIONS,
          responses=_with_queued(responses(FileImportResult, 201, "Imported", 400, 401, 403, 404, 409, 413)),
          openapi_extensions=multipart_body("camt.053, MT940 or a German bank CSV export",
                                            bank_account_id="Optional: the bank account (UUID); else found by "
                                                            "the statement's IBAN or account number"))
@requires(WRITE)
@idempotent("bank-import-file")
def import_statement_file() -> Response[str]:
    return _import_file(caller(app), None)


@app.get("/v1/bank-transactions/unreconciled-count", summary="Number of unreconciled bank transactions",
         tags=TRANSACTIONS, responses=responses(UnreconciledCount, 200, "Success", 400, 401, 403, 404))
@requires(READ)
def unreconciled_count(bank_account_id: AccountQuery = None) -> Response[str]:
    ctx = caller(app)
    return json_response({"count": transactions.unreconciled_count(ctx.tenant_id, bank_account_id)})


# ------------------------------------------------------------------------------------- suggestions
SuggestionsLimit = Annotated[int, Query(ge=1, le=1000, description="Unreconciled transactions per page (default "
                                                                   "100, max 1000)")]


@app.get("/v1/bank-transactions/suggestions", summary="Match suggestions for the unreconciled transactions",
         tags=TRANSACTIONS,
         description="One element per unreconciled transaction of the page that has candidates (or a match-group "
                     "hint): open receivables for money in, open liabilities for money out, existing bookings on the "
                     "bank's ledger account; best first, each with its confidence (0–1) and reasons "
                     "(docs/reconciliation.md has the weights). A page covers `limit` unreconciled transactions in "
                     "booking order; X-Total-Count is the number of the account's unreconciled transactions.",
         responses=with_total_count(responses(list[Suggestion], 200, "Success", 400, 401, 403, 404)))
@requires(READ)
def bank_transaction_suggestions(bank_account_id: Annotated[str, Query(pattern=UUID_PATTERN,
                                                                       description="Bank account id")],
                                 limit: SuggestionsLimit = 100, offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    rows, total = suggest.suggestions(ctx, bank_account_id.lower(), limit, offset)
    return counted_page(rows, total)


@app.get("/v1/bank-transactions/import-batches/<batch_id>", summary="An import batch and its result",
         tags=TRANSACTIONS, responses=responses(ImportBatchOut))
@requires(READ)
def get_import_batch(batch_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(imports.batch_view(ctx.tenant_id, batch_id))


@app.get("/v1/bank-transactions/<transaction_id>", summary="A bank transaction", tags=TRANSACTIONS,
         responses=responses(BankTransactionEnvelope))
@requires(READ)
def get_bank_transaction(transaction_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response({"transaction": transactions.get_transaction(ctx.tenant_id, transaction_id)})


# ------------------------------------------------------------------------------------- evidence (Eigenbeleg)
@app.get("/v1/bank-transactions/<transaction_id>/evidence", summary="The evidence of a transaction without a voucher",
         tags=TRANSACTIONS, responses=responses(EvidenceEnvelope))
@requires(READ)
def get_transaction_evidence(transaction_id: IdPath) -> Response[str]:
    return json_response(evidence.get(caller(app), transaction_id))


@app.put("/v1/bank-transactions/<transaction_id>/evidence", summary="Store a new version of the evidence (Eigenbeleg)",
         tags=TRANSACTIONS,
         description="Each PUT stores a new version; earlier versions stay in `history` (GoBD: never overwritten). "
                     "The same content as the latest version stores nothing and answers the latest. A document_id "
                     "must name a document of the tenant (404 DOCUMENT_NOT_FOUND).",
         responses=responses(EvidenceOut, 200, "Stored", 400, 401, 403, 404))
@requires(WRITE)
def put_transaction_evidence(transaction_id: IdPath, body: EvidenceIn) -> Response[str]:
    return json_response(evidence.put(caller(app), transaction_id, body))


def _import_file(ctx: Any, account_id: str | None) -> Response[str]:
    upload = read_upload(app.current_event)
    if account_id is None:
        given = (upload.fields.get("bank_account_id") or "").strip().lower()
        if given and not _is_uuid(given):
            raise InvalidInput.field("bank_account_id", "must be a bank account id (UUID)")
        account_id = given or None
    status, body = imports.import_file(ctx, upload.data, upload.filename, account_id)
    if status == 201:
        metrics.add_metric(name="BankTransactionsImported", unit="Count", value=body["imported"])
    return json_response(body, status)


def _is_uuid(value: str) -> bool:
    return re.fullmatch(UUID_PATTERN, value) is not None


lambda_handler = http_entrypoint(app)
