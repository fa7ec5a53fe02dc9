"""Journal group: chart of accounts, bookings, the journal (audit view, reversal, verify, export)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.dates import LIST_RANGE_DOC, DateQuery, iso
from ledgerlou.api.downloads import file_response
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.pagination import DEFAULT_LIMIT, Limit, Offset
from ledgerlou.api.resolver import file_responses, json_response, link, make_resolver, responses, with_links
from ledgerlou.api.schemas.accounts import AccountCreate, AccountList, AccountOut, AccountSearchResult, AccountType
from ledgerlou.api.schemas.journal import (
    AccountEntries,
    BatchCreated,
    BatchRequest,
    BookingCreated,
    JournalList,
    OpeningBalancesCreated,
    ReverseCreated,
    VerifyOut,
)
from ledgerlou.domain.ranges import check_range
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.lazy import lazy_import
from ledgerlou.models.audit import IntentView
from ledgerlou.models.common import SearchTerm
from ledgerlou.models.journal import BookingRequest, OpeningBalancesRequest, ReverseRequest
from ledgerlou.observability import metrics

if TYPE_CHECKING:
    from ledgerlou.domain.chart import accounts
    from ledgerlou.domain.journal import booking, reads, reversal
else:  # loaded on first use: GET /v1/accounts never pays for the journal's modules, and vice versa
    accounts = lazy_import("ledgerlou.domain.chart.accounts")
    booking = lazy_import("ledgerlou.domain.journal.booking")
    reads = lazy_import("ledgerlou.domain.journal.reads")
    reversal = lazy_import("ledgerlou.domain.journal.reversal")

app = make_resolver()
READ, WRITE = "journal:read", "journal:write"
ACCOUNTS, BOOKINGS, JOURNAL = ["Accounts"], ["Bookings"], ["Journal"]
AccountPath = Annotated[str, Path(pattern=r"^[0-9]{4,8}$")]
IntentPath = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]
SOURCE_HEADER = "x-ledgerlou-source"
CLIENT_SOURCES = ("api", "dashboard", "mcp", "import")
# OpenAPI link from a booking to its audit view
INTENT_PATH = "/v1/journal/{intent_id}"
INTENT_LINK = link("GET", INTENT_PATH, intent_id="$response.body#/intent_id")


def _source() -> str:
    headers = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}
    value = headers.get(SOURCE_HEADER, "api").strip().lower()
    return value if value in CLIENT_SOURCES else "api"


# ------------------------------------------------------------------------------------- accounts
@app.get("/v1/accounts", summary="List the chart of accounts", tags=ACCOUNTS, responses=responses(AccountList))
@requires(READ)
def list_accounts(limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    items = accounts.all_accounts(ctx.tenant_id, ctx.chart)
    return json_response({"accounts": [a.to_dict() for a in items[offset: offset + limit]],
                          "total": len(items), "offset": offset, "limit": limit})


@app.get("/v1/accounts/search", summary="Search accounts by number prefix or name", tags=ACCOUNTS,
         responses=responses(AccountSearchResult))
@requires(READ)
def search_accounts(q: Annotated[SearchTerm | None, Query()] = None,
                    type: Annotated[AccountType | None, Query()] = None) -> Response[str]:  # noqa: A002 - seed name
    ctx = caller(app)
    found = accounts.search(ctx.tenant_id, ctx.chart, q, type)
    return json_response({"accounts": [a.to_dict() for a in found]})


@app.post("/v1/accounts", summary="Create a custom account", tags=ACCOUNTS,
          responses=with_links(responses(AccountOut, 201, "Created", 400, 401, 403, 409), 201,
                               GetEntries=link("GET", "/v1/accounts/{number}/entries",
                                               number="$response.body#/number")))
@requires(WRITE)
@idempotent("accounts")
def create_account(body: AccountCreate) -> Response[str]:
    ctx = caller(app)
    acc = accounts.create(ctx.tenant_id, ctx.chart, number=body.number, name=body.name, type_=body.type,
                          category=body.category, report_group=body.report_group)
    return json_response(acc.to_dict(), 201)


@app.get("/v1/accounts/<number>/entries", summary="An account's entries and balance (Kontoblatt)",
         description=LIST_RANGE_DOC, tags=ACCOUNTS, responses=responses(AccountEntries))
@requires(READ)
def account_entries(number: AccountPath, startDate: DateQuery = None, endDate: DateQuery = None,
                    limit: Limit = DEFAULT_LIMIT) -> Response[str]:
    ctx = caller(app)
    check_range(startDate, endDate)
    sheet = reads.account_entries(ctx, number, iso(startDate), iso(endDate), limit)
    return json_response(AccountEntries.model_validate(sheet))


# ------------------------------------------------------------------------------------- bookings
@app.post("/v1/bookings", summary="Post a booking (one intent, one or more Buchungssätze)", tags=BOOKINGS,
          responses=with_links(responses(BookingCreated, 201, "Booked", 400, 401, 403, 404, 409), 201,
                               GetIntent=INTENT_LINK))
@requires(WRITE)
@idempotent("bookings")
def post_booking(body: BookingRequest) -> Response[str]:
    [(intent_id, count)] = booking.post_bookings(caller(app), [body], _source())
    metrics.add_metric(name="BookingsPosted", unit="Count", value=1)
    return json_response({"intent_id": intent_id, "event_count": count}, 201)


@app.post("/v1/bookings/batch", summary="Post 1–100 bookings atomically (all or none)", tags=BOOKINGS,
          responses=responses(BatchCreated, 201, "Booked", 400, 401, 403, 404, 409, 413))
@requires(WRITE)
@idempotent("bookings-batch")
def post_batch(body: BatchRequest) -> Response[str]:
    posted = booking.post_bookings(caller(app), body.bookings, "batch")
    return json_response({"intents": [{"intent_id": i, "event_count": n} for i, n in posted],
                          "event_count": sum(n for _, n in posted)}, 201)


@app.post("/v1/bookings/opening-balances", summary="Book opening balances against account 9000", tags=BOOKINGS,
          responses=with_links(responses(OpeningBalancesCreated, 201, "Booked", 400, 401, 403, 404, 409), 201,
                               GetIntent=INTENT_LINK))
@requires(WRITE)
@idempotent("opening-balances")
def post_opening_balances(body: OpeningBalancesRequest) -> Response[str]:
    return json_response(OpeningBalancesCreated.model_validate(booking.post_opening_balances(caller(app), body)),
                         201)


# ------------------------------------------------------------------------------------- journal
@app.get("/v1/journal", summary="List journal entries", tags=JOURNAL, description=LIST_RANGE_DOC,
         responses=responses(JournalList))
@requires(READ)
def list_journal(account: Annotated[str | None, Query(pattern=r"^[0-9]{4,8}$")] = None,
                 startDate: DateQuery = None, endDate: DateQuery = None,
                 search: Annotated[SearchTerm | None, Query()] = None,
                 externalReference: Annotated[SearchTerm | None, Query()] = None,
                 limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    check_range(startDate, endDate)
    return json_response(reads.list_entries(ctx, account, iso(startDate), iso(endDate), search,
                                              externalReference, limit, offset))


@app.get("/v1/journal/verify", summary="Verify the tenant's whole hash chain", tags=JOURNAL,
         responses=responses(VerifyOut, 200, "Result", 401, 403))
@requires(READ)
def verify_journal() -> Response[str]:
    ctx = caller(app)
    return json_response(reads.verify(ctx.tenant_id))


@app.get("/v1/journal/export", summary="Export the journal as JSON Lines (canonical fields + audit_hash)",
         description="Without startDate/endDate the whole journal (GoBD data access), else the entries booked in "
                     "the range (inclusive). The span is not limited: the export reads the journal's blocks in "
                     "order whatever the range, and above 4 MB the file is answered with 303 to a presigned "
                     "download URL. A reversed range is 400 INVALID_INPUT.",
         tags=JOURNAL, responses=file_responses("application/x-ndjson", "One entry per line", 400, 401, 403,
                                                redirect=True))
@requires(READ)
def export_journal(startDate: DateQuery = None, endDate: DateQuery = None) -> Response[str]:
    ctx = caller(app)
    check_range(startDate, endDate)
    body = b"".join(reads.export_lines(ctx.tenant_id, iso(startDate), iso(endDate)))
    return file_response(ctx.tenant_id, body, "application/x-ndjson", "journal.jsonl")


@app.get("/v1/journal/<intent_id>", summary="The audit view of one intent (seed 002)", tags=JOURNAL,
         responses=responses(IntentView, 200, "Audit view", 400, 401, 403, 404))
@requires(READ)
def get_intent(intent_id: IntentPath) -> Response[str]:
    ctx = caller(app)
    return json_response(reads.intent_view(ctx, intent_id.lower()))


@app.post("/v1/journal/reverse", summary="Reverse (Storno) an intent", tags=JOURNAL,
          responses=with_links(responses(ReverseCreated, 201, "Reversed", 400, 401, 403, 404, 409), 201,
                               GetReversal=link("GET", INTENT_PATH, intent_id="$response.body#/reversal_intent_id")))
@requires(WRITE)
@idempotent("reverse")
def reverse_intent(body: ReverseRequest) -> Response[str]:
    return json_response(reversal.reverse(caller(app), body), 201)


lambda_handler = http_entrypoint(app)
