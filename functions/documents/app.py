"""Documents group: upload (multipart), download and preview of Belege."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from ledgerlou.api import downloads
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.downloads import FILE_HEADERS
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.multipart import read_upload
from ledgerlou.api.resolver import (
    file_responses,
    json_response,
    link,
    make_resolver,
    multipart_body,
    responses,
    with_links,
)
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.lazy import lazy_import
from pydantic import BaseModel

if TYPE_CHECKING:
    from ledgerlou.domain.documents import archive as documents
else:  # loaded on first use: the store (pynamodb) is not needed to route or to reject a bad request
    documents = lazy_import("ledgerlou.domain.documents.archive")

app = make_resolver()
READ, WRITE = "documents:read", "documents:write"
TAGS = ["Documents"]
DocId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]


class DocumentCreated(BaseModel):
    id: str
    mime_type: str
    original_name: str
    sha256: str
    size: int


@app.post("/v1/documents", summary="Upload a document (multipart/form-data, field `file`)", tags=TAGS,
          responses=with_links(responses(DocumentCreated, 201, "Stored", 400, 401, 403, 413), 201,
                               GetFile=link("GET", "/v1/documents/{doc_id}/file", doc_id="$response.body#/id"),
                               GetPreview=link("GET", "/v1/documents/{doc_id}/preview", doc_id="$response.body#/id")),
          openapi_extensions=multipart_body("PDF, PNG, JPEG, TIFF, XML, … (checked by content)"))
@requires(WRITE)
@idempotent("documents")
def upload_document() -> Response[str]:
    ctx = caller(app)
    upload = read_upload(app.current_event)
    doc = documents.upload(ctx.tenant_id, upload.data, upload.filename, ctx.actor_id)
    return json_response({"id": doc.id, "mime_type": doc.mime_type, "original_name": doc.original_name,
                          "sha256": doc.sha256, "size": doc.size}, 201)


def _download(doc_id: str, preview: bool) -> Response[bytes]:
    ctx = caller(app)
    doc, body = documents.fetch(ctx.tenant_id, doc_id.lower())
    # The type and disposition come from the bytes (documents.served_as): only an allow-list is ever inline.
    content_type, disposition = documents.served_as(body, doc.mime_type, preview)
    quoted = doc.original_name.replace('"', "")
    content_disposition = f'{disposition}; filename="{quoted}"'
    if len(body) > downloads.INLINE_LIMIT:  # base64 would pass Lambda's 6 MB answer: S3 hands it out
        url = documents.download_url(ctx.tenant_id, doc.id, content_type, content_disposition, downloads.URL_TTL_S)
        return downloads.redirect_response(url, len(body))  # type: ignore[return-value]
    return Response(200, content_type, body=body, headers={
        "Content-Disposition": content_disposition, "X-Content-SHA256": doc.sha256,
        "Cache-Control": "private, max-age=0", **FILE_HEADERS})


@app.get("/v1/documents/<doc_id>/file", summary="Download the original (attachment)", tags=TAGS,
         responses=file_responses("*/*", "The stored original, with the media type found at upload", redirect=True))
@requires(READ)
def document_file(doc_id: DocId):  # type: ignore[no-untyped-def]
    # No return annotation on purpose: powertools would validate the binary body as UTF-8 text.
    return _download(doc_id, preview=False)


@app.get("/v1/documents/<doc_id>/preview", summary="Show the original inline where that is safe", tags=TAGS,
         description="PDF, PNG, JPEG and TIFF inline as themselves; plain XML (e-invoices) and text bank "
                     "statements inline as text/plain; anything else (SVG, HTML, XHTML, XML with a DTD …) only "
                     "as an attachment (application/octet-stream). The type is found from the bytes.",
         responses=file_responses("*/*", "The stored original, byte for byte", redirect=True))
@requires(READ)
def document_preview(doc_id: DocId):  # type: ignore[no-untyped-def]
    # No return annotation on purpose: powertools would validate the binary body as UTF-8 text.
    return _download(doc_id, preview=True)


lambda_handler = http_entrypoint(app)
