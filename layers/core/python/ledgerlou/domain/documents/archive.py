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

# What a browser may show inline (/preview). Everything else is handed out only as an attachment: an SVG,
# an (X)HTML page or an XSLT stylesheet run scripts in the API's origin when rendered (issue 14, item 4).
INLINE_TYPES = frozenset(mime for _, mime in SIGNATURES)
NEUTRAL_TYPE = "application/octet-stream"
PLAIN_XML = "application/xml"
# Namespaces whose elements a browser renders or runs: a document with one anywhere is not "plain XML".
ACTIVE_NAMESPACES = {
    "http://www.w3.org/1999/xhtml": "application/xhtml+xml",
    "http://www.w3.org/2000/svg": "image/svg+xml",
    "http://www.w3.org/1999/XSL/Transform": "application/xslt+xml",
    "http://www.w3.org/1998/Math/MathML": "application/mathml+xml",
}
ACTIVE_ROOTS = {"html": "application/xhtml+xml", "svg": "image/svg+xml"}
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w:.-]*)[\s/>]")
_ENCODING_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,39}$")


def _looks_like_markup(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<?xml") or re.match(rb"<[A-Za-z_][\w:.-]*[\s/>]", head) is not None


@dataclass(frozen=True)
class Markup:
    mime: str       # what the file is: application/xml, image/svg+xml, application/xhtml+xml, text/html, …
    plain: bool     # plain XML: safe to show as text
    encoding: str   # the declared encoding (plain XML only; for the text/plain charset)


def classify_markup(data: bytes) -> Markup:
    """What a file that starts like markup is. *Plain XML* (the only markup previewed, and then as text) is
    a well-formed document under a hardened parser, without a DOCTYPE (no DTD, no entities: e-invoices,
    XRechnung/ZUGFeRD and camt never carry one), whose root is not ``svg``/``html`` (any case) and with no
    element in the XHTML, SVG, XSLT or MathML namespace anywhere. Markup that is not well-formed XML is
    what a browser renders as HTML, so it is named so."""
    import io

    from lxml import etree  # lazily: only markup needs the parser

    # Untrusted input: no DTD loading, no entity expansion (XXE, billion laughs), no network, lxml's
    # default size limits (huge_tree off) — as in formats/camt053.py. iterparse reports each namespace
    # declaration ("start-ns"): an element can only be in a namespace that is declared, so checking the
    # few declarations replaces a walk over every element (5 MB of camt: ~130 ms against ~250 ms).
    events = etree.iterparse(io.BytesIO(data), events=("start-ns",), resolve_entities=False, no_network=True,
                             load_dtd=False, dtd_validation=False, huge_tree=False)
    try:
        namespaces = {uri for _, (_prefix, uri) in events}
        root = events.root
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        first = _FIRST_TAG.search(data[:1024])
        name = first.group(1).decode("ascii", "replace").rpartition(":")[2].lower() if first else ""
        return Markup("image/svg+xml" if name == "svg" else "text/html", False, "")
    local = etree.QName(root).localname.lower()
    if local in ACTIVE_ROOTS:
        return Markup(ACTIVE_ROOTS[local], False, "")
    active = sorted(namespaces & ACTIVE_NAMESPACES.keys())
    if active:
        return Markup(ACTIVE_NAMESPACES[active[0]], False, "")
    docinfo = root.getroottree().docinfo
    encoding = docinfo.encoding or "UTF-8"
    plain = not docinfo.doctype and _ENCODING_NAME.match(encoding) is not None
    return Markup(PLAIN_XML, plain, encoding)


def sniff(data: bytes, statement_format: str | None = None) -> str | None:
    """The MIME type by content. ``statement_format`` (bank statement imports only) is the format the
    caller has already parsed the file as: MT940 (text/plain) and German bank CSV exports (text/csv)
    have no magic bytes, so a text file is accepted only as a statement that parsed — any other text
    stays refused, and the import does not parse the file a second time just to name its type."""
    for magic, mime in SIGNATURES:
        if data.startswith(magic):
            return mime
    if _looks_like_markup(data):
        return classify_markup(data).mime
    if statement_format is not None and b"\x00" not in data:
        return TEXT_STATEMENT_TYPES.get(statement_format)
    return None


def served_as(body: bytes, stored_mime: str, preview: bool) -> tuple[str, str]:
    """The Content-Type and disposition (``inline``/``attachment``) a download is answered with.

    Decided from the bytes on every download, not from the type recorded at upload: documents stored
    before this rule were recorded as application/xml whatever they were, and a rule tightened later
    applies to every stored document at once. The cost is a magic-byte check, and for markup one parse
    of at most MAX_BYTES (the body is read whole anyway, for its SHA-256 check). Inline only: PDF, PNG,
    JPEG, TIFF, plain XML as text/plain, and text statements (MT940, bank CSV: accepted only because
    they parsed as statements) as text/plain; anything else is an attachment, as application/octet-stream
    when it is markup a browser would render (HTML, SVG, XHTML, XSLT …)."""
    disposition = "inline" if preview else "attachment"
    for magic, mime in SIGNATURES:
        if body.startswith(magic):
            return mime, disposition
    if _looks_like_markup(body):
        markup = classify_markup(body)
        if not markup.plain:
            return NEUTRAL_TYPE, "attachment"
        return (f"text/plain; charset={markup.encoding}" if preview else PLAIN_XML), disposition
    if stored_mime in TEXT_STATEMENT_TYPES.values():
        return ("text/plain" if preview else stored_mime), disposition
    return NEUTRAL_TYPE, "attachment"


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
           statement_format: str | None = None, doc_id: str | None = None) -> StoredDocument:
    """Store an original. ``doc_id``: a caller's id derived from where the file came from (an SES message's
    part, an inbox item's e-invoice XML), so that a retried or concurrent second attempt finds the document
    the first stored instead of storing it again: the same id with the same bytes is that document; with
    other bytes it is refused (DOCUMENT_INTEGRITY), never overwritten. Without it, a new random id."""
    if not data:
        raise InvalidInput.field("file", "is empty")
    if len(data) > MAX_BYTES:
        raise FileTooLarge(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    mime = sniff(data, statement_format)
    if mime is None:
        raise UnsupportedFileType.field("file", "type not allowed: PDF, PNG, JPEG, TIFF or XML")
    derived = doc_id is not None
    doc_id = doc_id or str(uuid.uuid4())
    digest = hashlib.sha256(data).hexdigest()
    key = blobs.document_key(tenant_id, doc_id)
    if derived:
        stored = store.get(tenant_id, doc_id, consistent=True)
        if stored is not None:  # stored by an attempt before this one
            return _same(stored, digest)
    # A new key per document and IfNoneMatch: an original is never overwritten (GoBD); the bucket's
    # versioning and Object Lock keep it so even against a bug elsewhere.
    try:
        blobs.s3().put_object(Bucket=config.documents_bucket(), Key=key, Body=data, ContentType=mime,
                              ChecksumAlgorithm="SHA256", IfNoneMatch="*", Metadata={"sha256": digest})
    except Exception as ex:
        if not (derived and _precondition_failed(ex)):
            raise
        # a derived id's object written by an attempt that died before its metadata item, or by one running
        # beside this one: the same original if its SHA-256 is this file's
        head = blobs.s3().head_object(Bucket=config.documents_bucket(), Key=key)
        if (head.get("Metadata") or {}).get("sha256") != digest:
            raise DocumentIntegrity(f"Document {doc_id} exists with other content.") from None
    name = safe_name(original_name, mime)
    item = store.DocumentItem(doc_id=doc_id, mime_type=mime, original_name=name, sha256=digest, size=len(data),
                              s3_key=key, created_at=now_iso(), created_by=actor)
    if derived:
        if not store.put_if_absent(tenant_id, item):
            stored = store.get(tenant_id, doc_id, consistent=True)
            if stored is None:
                raise DocumentIntegrity(f"Document {doc_id} could neither be written nor read.")
            return _same(stored, digest)
    else:
        store.put_new(tenant_id, item)
    return StoredDocument(doc_id, mime, name, digest, len(data), item.created_at)


def _same(stored: store.DocumentItem, digest: str) -> StoredDocument:
    if stored.sha256 != digest:
        raise DocumentIntegrity(f"Document {stored.doc_id} exists with other content.")
    return StoredDocument(stored.doc_id, stored.mime_type, stored.original_name, stored.sha256, int(stored.size),
                          stored.created_at)


def _precondition_failed(ex: Exception) -> bool:
    from ledgerlou.store.aws_errors import aws_error_code

    return aws_error_code(ex) in ("PreconditionFailed", "412", "ConditionalRequestConflict")


def exists(tenant_id: str, doc_id: str) -> bool:
    return store.get(tenant_id, doc_id) is not None


def download_url(tenant_id: str, doc_id: str, content_type: str, disposition: str, ttl_s: int) -> str:
    """A presigned URL of the stored original, for a document too large for a Lambda answer: with the type
    and disposition ``served_as`` chose (S3 answers them as given). The object is written once
    (``IfNoneMatch``) and locked, so the URL serves the bytes ``fetch`` verified."""
    return blobs.presigned_get(config.documents_bucket(), blobs.document_key(tenant_id, doc_id), content_type,
                               disposition, ttl_s)


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
