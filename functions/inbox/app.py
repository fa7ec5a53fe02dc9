"""Inbox group: the inbox (items from e-mail), invoice review cases, the synchronous extraction and the
ingestion log.

Scopes (docs/api-contract.md "Scopes"): inbox and invoice-review-cases are the ``inbox`` group;
``/v1/ocr/extract`` belongs to ``documents`` (it reads an upload or a stored document and stores
nothing); ``/v1/payables/ingestion-log`` to ``payables`` (the path's group: who reads the incoming
invoices' intake). Approving a review case books an incoming invoice, which ``POST /v1/invoices`` allows
with ``payables:write``: approve needs ``inbox:write`` *and* ``payables:write`` (checked in the route), so
that the inbox scope does not become a second door to the books.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.pagination import DEFAULT_LIMIT, Limit, Offset
from ledgerlou.api.resolver import MULTIPART_EXTENSION, json_response, make_resolver, responses
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.errors import InvalidInput
from ledgerlou.lazy import lazy_import
from ledgerlou.models.inbox import (
    Extraction,
    InboxAddress,
    InboxConfirmed,
    InboxItemOut,
    InboxRejected,
    InboxStatus,
    IngestionLogOut,
    IngestionOutcome,
    OcrExtractIn,
    QueueState,
    RejectIn,
    ReviewApproved,
    ReviewCaseOut,
    ReviewCasePatch,
)

if TYPE_CHECKING:
    from ledgerlou.domain.inbox import address, items, review
else:  # loaded on first use (cold start)
    address = lazy_import("ledgerlou.domain.inbox.address")
    items = lazy_import("ledgerlou.domain.inbox.items")
    review = lazy_import("ledgerlou.domain.inbox.review")

app = make_resolver()
READ, WRITE = "inbox:read", "inbox:write"
INBOX, CASES, OCR, LOG = ["Inbox"], ["Invoice review cases"], ["OCR"], ["Ingestion log"]
IdPath = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]


# ------------------------------------------------------------------------------------- inbox
@app.get("/v1/inbox", summary="List inbox items (newest first)", tags=INBOX,
         responses=responses(list[InboxItemOut], 200, "Success", 400, 401, 403))
@requires(READ)
def list_inbox(status: Annotated[InboxStatus | None, Query()] = None, limit: Limit = DEFAULT_LIMIT,
               offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    return json_response(items.list_items(ctx, status, limit, offset))


@app.get("/v1/inbox/address", summary="The tenant's inbox e-mail address", tags=INBOX,
         description="Created on first use; an unguessable local part. Mail to it becomes inbox items.",
         responses=responses(InboxAddress, 200, "Success", 401, 403))
@requires(READ)
def inbox_address() -> Response[str]:
    ctx = caller(app)
    return json_response({"inbox_address": address.address_of(ctx.tenant_id)})


@app.get("/v1/inbox/<inbox_id>", summary="An inbox item with its extraction, vendor match and §14 checks",
         tags=INBOX, responses=responses(InboxItemOut))
@requires(READ)
def get_inbox_item(inbox_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(items.get(ctx, inbox_id))


@app.post("/v1/inbox/<inbox_id>/confirm", summary="Confirm an extracted item: it becomes a review case",
          tags=INBOX, description="409 INVALID_STATE unless the item is extracted.",
          responses=responses(InboxConfirmed, 200, "Confirmed", 400, 401, 403, 404, 409))
@requires(WRITE)
def confirm_inbox_item(inbox_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(items.confirm(ctx, inbox_id))


@app.post("/v1/inbox/<inbox_id>/reject", summary="Reject an extracted or failed item", tags=INBOX,
          description="409 INVALID_STATE for an item in another state.",
          responses=responses(InboxRejected, 200, "Rejected", 400, 401, 403, 404, 409))
@requires(WRITE)
def reject_inbox_item(inbox_id: IdPath, body: RejectIn) -> Response[str]:
    ctx = caller(app)
    return json_response(items.reject(ctx, inbox_id, body.reason))


# ------------------------------------------------------------------------------------- review cases
@app.get("/v1/invoice-review-cases", summary="List invoice review cases (newest first)", tags=CASES,
         responses=responses(list[ReviewCaseOut], 200, "Success", 400, 401, 403))
@requires(READ)
def list_review_cases(queue_state: Annotated[QueueState | None, Query()] = None, limit: Limit = DEFAULT_LIMIT,
                      offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    return json_response(review.list_cases(ctx, queue_state, limit, offset))


@app.get("/v1/invoice-review-cases/<case_id>", summary="A review case", tags=CASES,
         responses=responses(ReviewCaseOut))
@requires(READ)
def get_review_case(case_id: IdPath) -> Response[str]:
    ctx = caller(app)
    return json_response(review.get(ctx, case_id))


@app.patch("/v1/invoice-review-cases/<case_id>", summary="Set the vendor and/or correct the normalized invoice",
           tags=CASES, description="Only an open case (else 409 INVALID_STATE).",
           responses=responses(ReviewCaseOut, 200, "Updated", 400, 401, 403, 404, 409))
@requires(WRITE)
def patch_review_case(case_id: IdPath, body: ReviewCasePatch) -> Response[str]:
    ctx = caller(app)
    return json_response(review.patch(ctx, case_id, body))


@app.post("/v1/invoice-review-cases/<case_id>/approve", summary="Book the case as an incoming invoice",
          tags=CASES,
          description="Books it as POST /v1/invoices does (needs payables:write as well), exactly once: approving an "
                      "approved case answers its booking again (200, a retry); a rejected case, or one another "
                      "approve is booking right now, answers 409 INVALID_STATE. A refused booking (PERIOD_LOCKED, "
                      "no vendor, TOTALS_MISMATCH, DUPLICATE_INVOICE …) answers its error and the case stays open "
                      "with booking_errors.",
          responses=responses(ReviewApproved, 200, "Booked", 400, 401, 403, 404, 409))
@requires(WRITE)
@idempotent("review-approve")
def approve_review_case(case_id: IdPath) -> Response[str]:
    ctx = caller(app)
    ctx.require("payables:write")
    return json_response(review.approve(ctx, case_id))


@app.post("/v1/invoice-review-cases/<case_id>/reject", summary="Reject a review case", tags=CASES,
          responses=responses(ReviewCaseOut, 200, "Rejected", 400, 401, 403, 404, 409))
@requires(WRITE)
def reject_review_case(case_id: IdPath, body: RejectIn) -> Response[str]:
    ctx = caller(app)
    return json_response(review.reject(ctx, case_id, body.reason))


# ------------------------------------------------------------------------------------- OCR
_OCR_BODY = {MULTIPART_EXTENSION: {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "PDF, XML, PNG, JPEG or TIFF"}}}},
    "application/json": {"schema": {"type": "object", "required": ["document_id"], "additionalProperties": False,
                                    "examples": [{"document_id": "00000000-0000-4000-8000-000000000003"}],
                                    "properties": {"document_id": {"type": "string",
                                                                   "pattern": "^[0-9a-fA-F-]{36}$"}}}}}}}


def _json_document_id() -> str:
    raw = app.current_event.decoded_body
    if not raw:
        raise InvalidInput.field("body", "a JSON body {\"document_id\"} or a multipart file is required")
    try:
        data: Any = json.loads(raw)
    except ValueError as ex:
        raise InvalidInput.field("body", "is not valid JSON") from ex
    if not isinstance(data, dict):
        raise InvalidInput.field("body", "must be a JSON object")
    from pydantic import ValidationError

    try:
        return OcrExtractIn.model_validate(data).document_id.lower()
    except ValidationError as ex:
        first = ex.errors()[0]
        raise InvalidInput.field(".".join(str(p) for p in first["loc"]) or "body", first["msg"]) from ex


@app.post("/v1/ocr/extract", summary="Extract an invoice synchronously (nothing stored)", tags=OCR,
          description="multipart/form-data with a `file`, or JSON {\"document_id\"} of a stored document. The same "
                      "pipeline as the inbox: e-invoice XML first, then the PDF's text layer, then OCR.",
          responses=responses(Extraction, 200, "Extracted", 400, 401, 403, 404, 413, 503),
          openapi_extensions=_OCR_BODY)
@requires("documents:write")
def ocr_extract() -> Response[str]:
    ctx = caller(app)
    content_type = (app.current_event.headers or {}).get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        from ledgerlou.api.multipart import read_upload

        upload = read_upload(app.current_event)
        data, name, mime = upload.data, upload.filename or "upload", upload.content_type
    elif content_type in ("application/json", ""):
        from ledgerlou.domain.documents import archive

        doc, data = archive.fetch(ctx.tenant_id, _json_document_id())
        name, mime = doc.original_name, doc.mime_type
    else:
        from ledgerlou.errors import UnsupportedMediaType

        raise UnsupportedMediaType.field("Content-Type", "must be multipart/form-data or application/json")
    from ledgerlou.domain.inbox import extraction

    result = extraction.extract(data, filename=name, content_type=mime)
    out = result.extraction if isinstance(result.extraction, Extraction) else Extraction.model_validate(
        result.extraction)
    return json_response(out.model_dump())


# ------------------------------------------------------------------------------------- ingestion log
@app.get("/v1/payables/ingestion-log", summary="Every ingestion attempt of the inbox (newest first)", tags=LOG,
         responses=responses(list[IngestionLogOut], 200, "Success", 400, 401, 403))
@requires("payables:read")
def ingestion_log(outcome: Annotated[IngestionOutcome | None, Query()] = None, limit: Limit = DEFAULT_LIMIT,
                  offset: Offset = 0) -> Response[str]:
    ctx = caller(app)
    return json_response(items.ingestion_log(ctx, outcome, limit, offset))


lambda_handler = http_entrypoint(app)
