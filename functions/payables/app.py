"""Payables group: vendors (Kreditoren), incoming invoices and their open items."""

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
from ledgerlou.domain.receivables.sides import PAYABLES as SIDE
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.lazy import lazy_import
from ledgerlou.models.common import SearchTerm
from ledgerlou.models.payables import (
    IncomingInvoiceIn,
    InvoiceCreated,
    InvoiceOut,
    InvoicePatch,
    InvoiceStatus,
    InvoiceType,
    OpenItemOut,
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
READ, WRITE = "payables:read", "payables:write"
VENDORS, INVOICES = ["Vendors"], ["Incoming invoices"]
UUID_PATTERN = r"^[0-9a-fA-F-]{36}$"
IdPath = Annotated[str, Path(pattern=UUID_PATTERN)]
CUSTOMER_PATH, INVOICE_PATH, NEW_ID = "/v1/vendors/{vendor_id}", "/v1/invoices/{invoice_id}", \
    "$response.body#/id"


# ------------------------------------------------------------------------------------- vendors
@app.get("/v1/vendors", summary="List vendors (search over name, number, VAT id, IBAN)", tags=VENDORS,
         description="Ordered by Kreditor number. The header X-Total-Count gives the number of matches.",
         responses=with_total_count(responses(list[PartnerOut], 200, "Success", 400, 401, 403)))
@requires(READ)
def list_vendors(search: Annotated[SearchTerm | None, Query()] = None,
                   is_active: Annotated[bool | None, Query()] = None, limit: Limit = DEFAULT_LIMIT,
                   offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    return counted_page(*partners.list_partners(ctx, SIDE, search, is_active, limit, offset))


@app.post("/v1/vendors", summary="Create a vendor (Kreditor number 70000–99999 assigned in order)",
          tags=VENDORS,
          responses=with_links(responses(PartnerOut, 201, "Created", 400, 401, 403, 404, 409), 201,
                               GetVendor=link("GET", CUSTOMER_PATH, vendor_id=NEW_ID),
                               UpdateVendor=link("PUT", CUSTOMER_PATH, vendor_id=NEW_ID),
                               DeactivateVendor=link("DELETE", CUSTOMER_PATH, vendor_id=NEW_ID)))
@requires(WRITE)
@idempotent("vendors")
def create_vendor(body: PartnerIn) -> Response[str]:
    ctx = caller(app)
    return json_response(partners.create(ctx, SIDE, body), 201)


@app.get("/v1/vendors/<vendor_id>", summary="A vendor with open_amount", tags=VENDORS,
         responses=responses(PartnerOut))
@requires(READ)
def get_vendor(vendor_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(partners.get(ctx, SIDE, vendor_id.lower()))


@app.put("/v1/vendors/<vendor_id>", summary="Replace a vendor's editable fields", tags=VENDORS,
         responses=responses(PartnerOut, 200, "Updated", 400, 401, 403, 404))
@requires(WRITE)
def update_vendor(vendor_id: IdPath, body: PartnerIn) -> Response[str]:
    ctx = caller(app)
    return json_response(partners.update(ctx, SIDE, vendor_id.lower(), body))


@app.delete("/v1/vendors/<vendor_id>", summary="Deactivate a vendor (never deleted)", tags=VENDORS,
            responses=responses(PartnerOut, 200, "Deactivated", 400, 401, 403, 404))
@requires(WRITE)
def deactivate_vendor(vendor_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(partners.deactivate(ctx, SIDE, vendor_id.lower()))


# ------------------------------------------------------------------------------------- incoming invoices
@app.get("/v1/invoices", summary="List incoming invoices (newest invoice date first)", tags=INVOICES,
         description="The header X-Total-Count gives the number of matches.",
         responses=with_total_count(responses(list[InvoiceOut], 200, "Success", 400, 401, 403, 404)))
@requires(READ)
def list_incoming_invoices(vendor_id: Annotated[str | None, Query(pattern=UUID_PATTERN)] = None,
                           status: Annotated[InvoiceStatus | None, Query()] = None,
                           type: Annotated[InvoiceType | None, Query()] = None,  # noqa: A002 - seed name
                           start_date: DateQuery = None, end_date: DateQuery = None, limit: Limit = DEFAULT_LIMIT,
                           offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    check_range(start_date, end_date, start_field="start_date", end_field="end_date")
    return counted_page(*invoices.list_invoices(ctx, SIDE, vendor_id, status, type, iso(start_date), iso(end_date),
                                         limit, offset))


@app.post("/v1/invoices", summary="Create an incoming invoice (books it, or links an existing booking)",
          tags=INVOICES,
          description="Books expense and input VAT (reverse charge self-assessed) against the payable on "
                      "invoice_date as one intent (a credit "
                      "note the other way round), or with intent_id links a booking that posts total_gross to a "
                      "payable account. 400 TOTALS_MISMATCH, 409 DUPLICATE_INVOICE / PARTNER_INACTIVE / "
                      "INTENT_MISMATCH / INTENT_ALREADY_LINKED / PERIOD_LOCKED.",
          responses=with_links(responses(InvoiceCreated, 201, "Created", 400, 401, 403, 404, 409), 201,
                               GetIncomingInvoice=link("GET", INVOICE_PATH, invoice_id=NEW_ID),
                               PatchIncomingInvoice=link("PATCH", INVOICE_PATH, invoice_id=NEW_ID),
                               GetInvoiceIntent=link("GET", "/v1/journal/{intent_id}",
                                                     intent_id="$response.body#/intent_id")))
@requires(WRITE)
@idempotent("invoices")
def create_incoming_invoice(body: IncomingInvoiceIn) -> Response[str]:
    ctx = caller(app)
    created = invoices.create(ctx, SIDE, body, body.vendor_id)
    metrics.add_metric(name="IncomingInvoicesCreated", unit="Count", value=1)
    return json_response(created, 201)


@app.get("/v1/invoices/open-items", summary="Open items: invoices with a remaining amount, oldest due "
         "date first", tags=INVOICES, description="The header X-Total-Count gives the number of open items.",
         responses=with_total_count(responses(list[OpenItemOut], 200, "Success", 400, 401, 403)))
@requires(READ)
def list_incoming_open_items(limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    return counted_page(*invoices.list_open(ctx, SIDE, limit, offset))


@app.get("/v1/invoices/<invoice_id>", summary="An incoming invoice with status, remaining_amount, lines, "
         "settlements", tags=INVOICES, responses=responses(InvoiceOut))
@requires(READ)
def get_incoming_invoice(invoice_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(invoices.get(ctx, SIDE, invoice_id.lower()))


@app.patch("/v1/invoices/<invoice_id>", summary="Change notes / due_date, or link a cancelled invoice's "
           "corrected booking", tags=INVOICES, responses=responses(InvoiceOut, 200, "Updated", 400, 401, 403, 404, 409))
@requires(WRITE)
def patch_incoming_invoice(invoice_id: IdPath, body: InvoicePatch) -> Response[str]:
    ctx = caller(app)
    return json_response(invoices.patch(ctx, SIDE, invoice_id.lower(), body))


lambda_handler = http_entrypoint(app)
