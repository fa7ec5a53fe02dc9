"""Receivables group: customers (Debitoren), outgoing invoices and their open items."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.dates import DateQuery, iso
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.pagination import DEFAULT_LIMIT, Limit, Offset, counted_page, with_total_count
from ledgerlou.api.resolver import json_response, link, make_resolver, responses, with_links
from ledgerlou.domain.ranges import check_range
from ledgerlou.domain.receivables.sides import RECEIVABLES as SIDE
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.lazy import lazy_import
from ledgerlou.models.common import SearchTerm
from ledgerlou.models.receivables import (
    InvoiceCreated,
    InvoiceOut,
    InvoicePatch,
    InvoiceStatus,
    InvoiceType,
    OpenItemOut,
    OutgoingInvoiceIn,
    PartnerIn,
    PartnerOut,
)
from ledgerlou.observability import metrics

if TYPE_CHECKING:
    from ledgerlou.domain.receivables import invoices, partners
else:  # loaded on first use (cold start)
    invoices = lazy_import("ledgerlou.domain.receivables.invoices")
    partners = lazy_import("ledgerlou.domain.receivables.partners")

app = make_resolver()
READ, WRITE = "receivables:read", "receivables:write"
CUSTOMERS, INVOICES = ["Customers"], ["Outgoing invoices"]
UUID_PATTERN = r"^[0-9a-fA-F-]{36}$"
IdPath = Annotated[str, Path(pattern=UUID_PATTERN)]
CUSTOMER_PATH, INVOICE_PATH, NEW_ID = "/v1/customers/{customer_id}", "/v1/outgoing-invoices/{invoice_id}", \
    "$response.body#/id"


# ------------------------------------------------------------------------------------- customers
@app.get("/v1/customers", summary="List customers (search over name, number, VAT id, IBAN)", tags=CUSTOMERS,
         description="Ordered by Debitor number. The header X-Total-Count gives the number of matches.",
         responses=with_total_count(responses(list[PartnerOut], 200, "Success", 400, 401, 403)))
@requires(READ)
def list_customers(search: Annotated[SearchTerm | None, Query()] = None,
                   is_active: Annotated[bool | None, Query()] = None, limit: Limit = DEFAULT_LIMIT,
                   offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    return counted_page(*partners.list_partners(ctx, SIDE, search, is_active, limit, offset))


@app.post("/v1/customers", summary="Create a customer (Debitor number 10000–69999 assigned in order)",
          tags=CUSTOMERS,
          responses=with_links(responses(PartnerOut, 201, "Created", 400, 401, 403, 404, 409), 201,
                               GetCustomer=link("GET", CUSTOMER_PATH, customer_id=NEW_ID),
                               UpdateCustomer=link("PUT", CUSTOMER_PATH, customer_id=NEW_ID),
                               DeactivateCustomer=link("DELETE", CUSTOMER_PATH, customer_id=NEW_ID)))
@requires(WRITE)
@idempotent("customers")
def create_customer(body: PartnerIn) -> Response[str]:
    ctx = caller(app)
    return json_response(partners.create(ctx, SIDE, body), 201)


@app.get("/v1/customers/<customer_id>", summary="A customer with open_amount", tags=CUSTOMERS,
         responses=responses(PartnerOut))
@requires(READ)
def get_customer(customer_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(partners.get(ctx, SIDE, customer_id.lower()))


@app.put("/v1/customers/<customer_id>", summary="Replace a customer's editable fields", tags=CUSTOMERS,
         responses=responses(PartnerOut, 200, "Updated", 400, 401, 403, 404))
@requires(WRITE)
def update_customer(customer_id: IdPath, body: PartnerIn) -> Response[str]:
    ctx = caller(app)
    return json_response(partners.update(ctx, SIDE, customer_id.lower(), body))


@app.delete("/v1/customers/<customer_id>", summary="Deactivate a customer (never deleted)", tags=CUSTOMERS,
            responses=responses(PartnerOut, 200, "Deactivated", 400, 401, 403, 404))
@requires(WRITE)
def deactivate_customer(customer_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(partners.deactivate(ctx, SIDE, customer_id.lower()))


# ------------------------------------------------------------------------------------- outgoing invoices
@app.get("/v1/outgoing-invoices", summary="List outgoing invoices (newest invoice date first)", tags=INVOICES,
         description="The header X-Total-Count gives the number of matches.",
         responses=with_total_count(responses(list[InvoiceOut], 200, "Success", 400, 401, 403, 404)))
@requires(READ)
def list_outgoing_invoices(customer_id: Annotated[str | None, Query(pattern=UUID_PATTERN)] = None,
                           status: Annotated[InvoiceStatus | None, Query()] = None,
                           type: Annotated[InvoiceType | None, Query()] = None,  # noqa: A002 - seed name
                           start_date: DateQuery = None, end_date: DateQuery = None, limit: Limit = DEFAULT_LIMIT,
                           offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    check_range(start_date, end_date, start_field="start_date", end_field="end_date")
    return counted_page(*invoices.list_invoices(ctx, SIDE, customer_id, status, type, iso(start_date), iso(end_date),
                                         limit, offset))


@app.post("/v1/outgoing-invoices", summary="Create an outgoing invoice (books it, or links an existing booking)",
          tags=INVOICES,
          description="Books receivable against revenue and output VAT on invoice_date as one intent (a credit "
                      "note the other way round), or with intent_id links a booking that posts total_gross to a "
                      "receivable account. 400 TOTALS_MISMATCH, 409 DUPLICATE_INVOICE / PARTNER_INACTIVE / "
                      "INTENT_MISMATCH / INTENT_ALREADY_LINKED / PERIOD_LOCKED.",
          responses=with_links(responses(InvoiceCreated, 201, "Created", 400, 401, 403, 404, 409), 201,
                               GetOutgoingInvoice=link("GET", INVOICE_PATH, invoice_id=NEW_ID),
                               PatchOutgoingInvoice=link("PATCH", INVOICE_PATH, invoice_id=NEW_ID),
                               GetInvoiceIntent=link("GET", "/v1/journal/{intent_id}",
                                                     intent_id="$response.body#/intent_id")))
@requires(WRITE)
@idempotent("outgoing-invoices")
def create_outgoing_invoice(body: OutgoingInvoiceIn) -> Response[str]:
    ctx = caller(app)
    created = invoices.create(ctx, SIDE, body, body.customer_id)
    metrics.add_metric(name="OutgoingInvoicesCreated", unit="Count", value=1)
    return json_response(created, 201)


@app.get("/v1/outgoing-invoices/open-items", summary="Open items: invoices with a remaining amount, oldest due "
         "date first", tags=INVOICES, description="The header X-Total-Count gives the number of open items.",
         responses=with_total_count(responses(list[OpenItemOut], 200, "Success", 400, 401, 403)))
@requires(READ)
def list_outgoing_open_items(limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    return counted_page(*invoices.list_open(ctx, SIDE, limit, offset))


@app.get("/v1/outgoing-invoices/<invoice_id>", summary="An outgoing invoice with status, remaining_amount, lines, "
         "settlements", tags=INVOICES, responses=responses(InvoiceOut))
@requires(READ)
def get_outgoing_invoice(invoice_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(invoices.get(ctx, SIDE, invoice_id.lower()))


@app.patch("/v1/outgoing-invoices/<invoice_id>", summary="Change notes / due_date, or link a cancelled invoice's "
           "corrected booking", tags=INVOICES, responses=responses(InvoiceOut, 200, "Updated", 400, 401, 403, 404, 409))
@requires(WRITE)
def patch_outgoing_invoice(invoice_id: IdPath, body: InvoicePatch) -> Response[str]:
    ctx = caller(app)
    return json_response(invoices.patch(ctx, SIDE, invoice_id.lower(), body))


lambda_handler = http_entrypoint(app)
