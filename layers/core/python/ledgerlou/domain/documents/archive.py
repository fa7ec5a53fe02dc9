"""Documents (Belege): stored in S3 under the tenant's prefix with their SHA-256, never overwritten.

Types are checked by content (magic bytes), not by the client's Content-Type or file name.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from ledgerlou import config
from ledgerlou.errors import DocumentIntegrity, FileTooLarge, InvalidInput, NotFound, UnsupportedFileType
from ledgerlou.store import blobs
from ledgerlou.store.base import now_iso
from ledgerlou.store.documents import objects as store

MAX_BYTES = 5 * 1024 * 1024  # API Gateway's payload limit is 10 MB; base64 makes 5 MB the safe size

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


TEXT_STATEMENT_TYPES = {"bankcsv": "text/csv", "mt940": "text/plain"}


def sniff(data: bytes, statement_format: str | None = None) -> str | None:
    """The MIME type by content. ``statement_format`` (bank statement imports only) is the format the
    caller has already parsed the file as: MT940 (text/plain) and German bank CSV exports (text/csv)
    have no magic bytes, so a text file is accepted only as a statement that parsed — any other text
    stays refused, and the import does not parse the file a second time just to name its type."""
    for magic, mime in SIGNATURES:
        if data.startswith(magic):
            return mime
    head = data[:512].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<?xml") or re.match(rb"<[A-Za-z_][\w:.-]*[\s>]", head):
        return "application/xml"
    if statement_format is not None and b"\x00" not in data:
        return TEXT_STATEMENT_TYPES.get(statement_format)
    return None


@dataclass(frozen=True)
class StoredDocument:
    id: str
    mime_type: str
    original_name: str
    sha256: str
    size: int
    created_at: str


def safe_name(name: str | None, mime: str) -> str:
    base = re.sub(r"[^\w.\- ()äöüÄÖÜß]", "_", (name or "").split("/")[-1].split("\\")[-1]).strip(" .")[:200]
    if not base:
        base = "document." + mime.split("/")[-1]
    return base


def upload(tenant_id: str, data: bytes, original_name: str | None, actor: str,
           statement_format: str | None = None) -> StoredDocument:
    if not data:
        raise InvalidInput.field("file", "is empty")
    if len(data) > MAX_BYTES:
        raise FileTooLarge(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    mime = sniff(data, statement_format)
    if mime is None:
        raise UnsupportedFileType.field("file", "type not allowed: PDF, PNG, JPEG, TIFF or XML")
    doc_id = str(uuid.uuid4())
    digest = hashlib.sha256(data).hexdigest()
    key = blobs.document_key(tenant_id, doc_id)
    # A new key per document and IfNoneMatch: an original is never overwritten (GoBD); the bucket's
    # versioning and Object Lock keep it so even against a bug elsewhere.
    blobs.s3().put_object(Bucket=config.documents_bucket(), Key=key, Body=data, ContentType=mime,
                     ChecksumAlgorithm="SHA256", IfNoneMatch="*", Metadata={"sha256": digest})
    name = safe_name(original_name, mime)
    item = store.DocumentItem(doc_id=doc_id, mime_type=mime, original_name=name, sha256=digest, size=len(data),
                              s3_key=key, created_at=now_iso(), created_by=actor)
    store.put_new(tenant_id, item)
    return StoredDocument(doc_id, mime, name, digest, len(data), item.created_at)


def exists(tenant_id: str, doc_id: str) -> bool:
    return store.get(tenant_id, doc_id) is not None


def fetch(tenant_id: str, doc_id: str) -> tuple[StoredDocument, bytes]:
    item = store.get(tenant_id, doc_id)
    if item is None:
        raise NotFound("Document not found.")
    body = blobs.s3().get_object(Bucket=config.documents_bucket(), Key=item.s3_key)["Body"].read()
    if hashlib.sha256(body).hexdigest() != item.sha256:
        # S3 returned something else than what was stored: never hand out a silently changed original.
        raise DocumentIntegrity("Document content failed its integrity check.")
    return StoredDocument(item.doc_id, item.mime_type, item.original_name, item.sha256, int(item.size),
                          item.created_at), body
