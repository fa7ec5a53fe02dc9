"""The extraction pipeline of one invoice document: ``extract(data, filename=…, content_type=…)``.

Order (issue 18): the e-invoice XML first — XRechnung UBL or CII sent alone, or the XML inside a
ZUGFeRD/Factur-X PDF (in a hybrid PDF the XML is the invoice, the PDF its picture) — then the PDF's
text layer with the German invoice heuristics, then OCR of a scan or an image with the same
heuristics on the OCR text. The type is decided by the bytes (magic numbers), not by the file name
or the declared content type: a mail client's ``application/octet-stream`` is common, and a name
can lie. Nothing is stored here; the inbox keeps ``einvoice_xml`` (exactly the bytes found) as the
original.

Bad input is a typed 4xx error, never a crash: UNSUPPORTED_FILE_TYPE (none of PDF, XML, PNG, JPEG,
TIFF), UNREADABLE_DOCUMENT (damaged, or a "PDF" that is not one), UNSAFE_XML (DOCTYPE/entities),
DOCUMENT_TOO_LARGE (size, pages, decompressed streams, pixels). OCR_UNAVAILABLE (503) when the OCR
engine fails: the worker retries those."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ledgerlou.domain.inbox import documents, einvoice, heuristics
from ledgerlou.domain.inbox import ocr as ocr_engines
from ledgerlou.domain.inbox.facts import InvoiceFacts
from ledgerlou.errors import DocumentTooLarge, UnreadableDocument, UnsupportedFileType
from ledgerlou.models.inbox import Extraction, ExtractionPath

MAX_DOCUMENT_BYTES = 40 * 1024 * 1024  # SES accepts mails up to 40 MB; an attachment cannot be larger

# UNTDID 1001 document type codes an incoming invoice can carry (BT-3), as the review case should book them
DOCUMENT_TYPES = {"380": "invoice", "381": "credit_note", "383": "debit_note", "384": "corrected_invoice",
                  "386": "prepayment_invoice", "389": "self_billed_invoice", "751": "invoice"}

IMAGE_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
                    (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"))


@dataclass(frozen=True)
class ExtractionResult:
    extraction: Extraction
    ocr_raw: dict[str, Any]  # path (models.inbox.ExtractionPath), engine, seconds, + flavor/level/pages/ocr_seconds
    einvoice_xml: bytes | None  # the e-invoice XML exactly as found (alone or inside the PDF), else None
    facts: InvoiceFacts = field(default_factory=InvoiceFacts)  # what compliance.check reads

    @property
    def path(self) -> ExtractionPath:
        return self.ocr_raw["path"]  # type: ignore[no-any-return]


def kind_of(data: bytes) -> str | None:
    """pdf | xml | image, by content."""
    if b"%PDF-" in data[:1024]:  # the PDF spec lets a header follow up to 1 KB of junk; readers accept it
        return "pdf"
    if any(data.startswith(magic) for magic, _ in IMAGE_SIGNATURES):
        return "image"
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") or data.startswith((b"\xff\xfe<", b"\xfe\xff\x00<")):
        return "xml"
    return None


def _declared_pdf(filename: str | None, content_type: str | None) -> bool:
    return (filename or "").lower().endswith(".pdf") or "pdf" in (content_type or "").lower()


def extract(data: bytes, *, filename: str | None = None, content_type: str | None = None,
            engine: ocr_engines.OcrEngine | None = None) -> ExtractionResult:
    """The fields of one invoice document. ``engine`` overrides the process's OCR engine (tests)."""
    started = time.perf_counter()
    if not data:
        raise UnreadableDocument("The document is empty.")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(f"The document has {len(data)} bytes; at most {MAX_DOCUMENT_BYTES} are read.")
    kind = kind_of(data)
    if kind is None:
        if _declared_pdf(filename, content_type):
            raise UnreadableDocument(f"{filename or 'The document'} is declared as PDF but is not one "
                                     "(no %PDF- header).")
        raise UnsupportedFileType.field("file", "type not allowed: PDF, PNG, JPEG, TIFF or XML")
    if kind == "xml":
        result = _from_xml(data, filename)
    elif kind == "pdf":
        result = _from_pdf(data, engine)
    else:
        frames = documents.image_frames(data)
        result = _from_ocr_images(frames, engine, {"pages": len(frames), "pages_read": len(frames)})
    # the document type rides in ocr_raw (the seed's Extraction has no field for it): a credit note (381)
    # must not be booked as an invoice
    code = result.facts.type_code
    result.ocr_raw["type_code"] = code
    result.ocr_raw["document_type"] = DOCUMENT_TYPES.get(code or "", "invoice" if code is None else "other")
    result.ocr_raw["seconds"] = round(time.perf_counter() - started, 4)
    return result


def _einvoice_result(invoice: einvoice.EInvoice, path: ExtractionPath, extra: dict[str, Any]) -> ExtractionResult:
    facts = einvoice.to_facts(invoice.terms)
    return ExtractionResult(
        extraction=einvoice.to_extraction(invoice, facts),
        ocr_raw={"path": path, "engine": "factur-x", "flavor": invoice.flavor, "level": invoice.level,
                 "syntax": invoice.syntax, "xml_filename": invoice.filename, "xsd": invoice.xsd, **extra},
        einvoice_xml=invoice.xml, facts=facts)


def _from_xml(data: bytes, filename: str | None) -> ExtractionResult:
    invoice = einvoice.read_xml(data, filename=filename)
    if invoice is None:
        raise UnreadableDocument("The XML is no e-invoice (UBL Invoice/CreditNote, UN/CEFACT CII, ZUGFeRD 1.0).")
    return _einvoice_result(invoice, "xrechnung_ubl" if invoice.syntax == "UBL" else "xrechnung_cii", {})


def _from_pdf(data: bytes, engine: ocr_engines.OcrEngine | None) -> ExtractionResult:
    from pypdf.errors import LimitReachedError

    attachment_error: str | None = None
    reader = documents.open_pdf(data)
    pages = len(reader.pages)
    try:
        invoice = einvoice.read_pdf_attachment(reader)
    except LimitReachedError as ex:
        raise DocumentTooLarge(f"An attachment of the PDF unpacks beyond the limit: {ex}") from None
    except documents.pdf_errors() as ex:
        # a damaged attachment tree: the PDF itself may still be read by its text
        invoice = None
        attachment_error = f"{type(ex).__name__}: {ex}"
    if invoice is not None:
        return _einvoice_result(invoice, "facturx_pdf", {"pages": pages})
    text = documents.text_layer(reader)
    extra: dict[str, Any] = {"pages": pages}
    if attachment_error:
        extra["attachment_error"] = attachment_error
    if documents.has_text(text.text):
        extraction, facts = heuristics.read(text.text)
        if _found_fields(extraction) or not documents.draws_images(reader):
            return ExtractionResult(extraction=extraction, einvoice_xml=None, facts=facts,
                                    ocr_raw={"path": "pdf_text", "engine": "pypdf", "text_chars": len(text.text),
                                             **extra})
        # A scan under a text layer that names nothing (a scanner's garbled OCR layer, glyphs without a
        # Unicode map): the picture is read instead. A text PDF without images (terms and conditions …)
        # is not sent to OCR for nothing.
        extra["text_layer"] = f"{len(text.text)} characters without invoice fields; the page images were read"
    images = documents.render_pages(data, reader)
    extra["pages_read"] = len(images)
    return _from_ocr_images(images, engine, extra)


def _found_fields(extraction: Extraction) -> bool:
    return any((extraction.invoice_number, extraction.total_gross, extraction.vendor_vat_id, extraction.vendor_iban))


def _from_ocr_images(images: list[bytes], engine: ocr_engines.OcrEngine | None,
                     extra: dict[str, Any]) -> ExtractionResult:
    reader = engine or ocr_engines.engine()
    texts = [reader.read(image) for image in images]
    text = "\n\n".join(t.text for t in texts).strip()
    extraction, facts = heuristics.read(text)
    return ExtractionResult(
        extraction=extraction,
        ocr_raw={"path": "ocr", "engine": reader.name, "ocr_seconds": round(sum(t.seconds for t in texts), 3),
                 "text_chars": len(text), **extra},
        einvoice_xml=None, facts=facts)
