"""Bad input is a typed 4xx error, and fast: unsafe XML (DOCTYPE, external entity, billion laughs — alone or
inside a PDF), files that are not what they claim, and bombs (decompressed streams, pixels, pages)."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from ledgerlou.domain.inbox import documents
from ledgerlou.domain.inbox.extraction import extract
from ledgerlou.errors import DocumentTooLarge, DomainError, UnreadableDocument, UnsafeXml, UnsupportedFileType

from tests.conftest import samples_dir
from tests.unit.inbox.pdfgen import assemble

INVOICE = (b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
           b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
           b"<cbc:ID>&x;</cbc:ID></Invoice>")

XXE_FILE = b'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n' + INVOICE
XXE_URL = b'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY x SYSTEM "http://169.254.169.254/latest/">]>\n' + INVOICE
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
                     for i in range(1, 10))
          + b"]>\n" + INVOICE.replace(b"&x;", b"&lol9;"))
EXTERNAL_DTD = b'<?xml version="1.0"?>\n<!DOCTYPE Invoice SYSTEM "http://example.com/x.dtd">\n' + INVOICE.replace(
    b"&x;", b"1")
UTF16 = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE Invoice [<!ENTITY x "y">]>\n'
         + INVOICE.decode()).encode("utf-16")


def _code(ex: pytest.ExceptionInfo[DomainError]) -> tuple[int, str]:
    return ex.value.status, ex.value.code


@pytest.mark.parametrize("xml", [XXE_FILE, XXE_URL, LAUGHS, EXTERNAL_DTD, UTF16],
                         ids=["external-entity-file", "external-entity-url", "billion-laughs", "external-dtd", "utf16"])
def test_given_xml_with_a_doctype_then_it_is_refused_unread(xml: bytes) -> None:
    # Given an XML document that declares a DOCTYPE or entities  When extracted
    started = time.perf_counter()
    with pytest.raises(UnsafeXml) as ex:
        extract(xml, filename="invoice.xml", content_type="application/xml")
    # Then 400 UNSAFE_XML, before any expansion (fast)
    assert _code(ex) == (400, "UNSAFE_XML")
    assert time.perf_counter() - started < 0.5


def _pdf_with_attachment(name: str, content: bytes) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment(name, content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_given_a_pdf_whose_xml_attachment_has_an_external_entity_then_the_pdf_is_refused() -> None:
    # Given a PDF carrying factur-x.xml with an external entity
    pdf = _pdf_with_attachment("factur-x.xml", XXE_FILE)
    # When extracted  Then UNSAFE_XML: the attachment is not read, and the PDF not read around it
    with pytest.raises(UnsafeXml):
        extract(pdf, filename="rechnung.pdf", content_type="application/pdf")


def test_given_a_pdf_with_the_real_xml_attached_then_it_is_read_as_an_e_invoice() -> None:
    # Given a blank PDF with a real CII invoice attached (the same code path, a positive control)
    xml = samples_dir("zugferd", "zf2_EN16931_Einfach.factur-x.xml").read_bytes()
    result = extract(_pdf_with_attachment("factur-x.xml", xml), filename=None, content_type=None)
    assert result.ocr_raw["path"] == "facturx_pdf" and result.einvoice_xml == xml


@pytest.mark.parametrize(("data", "name", "ctype", "code"), [
    (b"Hello, this is not a PDF at all", "rechnung.pdf", None, "UNREADABLE_DOCUMENT"),
    (b"PK\x03\x04 zip", "rechnung.pdf", "application/pdf", "UNREADABLE_DOCUMENT"),
    (b"just text", "notes.txt", "text/plain", "UNSUPPORTED_FILE_TYPE"),
    (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "broken.pdf", None, "UNREADABLE_DOCUMENT"),
    (b"", "empty.pdf", None, "UNREADABLE_DOCUMENT"),
    (b"<html><body>Rechnung</body></html>", "r.html", None, "UNREADABLE_DOCUMENT"),
    (b'<?xml version="1.0"?><Order xmlns="urn:example"/>', "order.xml", None, "UNREADABLE_DOCUMENT"),
    (b'<?xml version="1.0"?><Invoice', "cut.xml", None, "UNREADABLE_DOCUMENT"),
    (b"\x89PNG\r\n\x1a\nnot really", "scan.png", None, "UNREADABLE_DOCUMENT"),
], ids=["text-named-pdf", "zip-declared-pdf", "plain-text", "truncated-pdf", "empty", "html", "other-xml",
        "cut-xml", "broken-png"])
def test_given_a_file_that_is_not_what_it_claims_then_a_clear_error(data: bytes, name: str, ctype: str | None,
                                                                     code: str) -> None:
    # Given a file that is no readable invoice document  When extracted
    with pytest.raises(DomainError) as ex:
        extract(data, filename=name, content_type=ctype)
    # Then a 4xx with a stable code, and the message says what is wrong
    assert ex.value.code == code and 400 <= ex.value.status < 500
    assert ex.value.message
    if code == "UNSUPPORTED_FILE_TYPE":
        assert isinstance(ex.value, UnsupportedFileType)
    else:
        assert isinstance(ex.value, UnreadableDocument)


def test_given_a_pdf_whose_page_stream_inflates_beyond_the_limit_then_it_is_refused_fast() -> None:
    # Given a 1-page PDF whose content stream is ~100 kB compressed and 100 MB inflated (a zip bomb)
    bomb = zlib.compress(b" " * 100_000_000, 9)
    pdf = assemble([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(bomb) + bomb + b"\nendstream"])
    assert len(pdf) < 200_000
    # When extracted
    started = time.perf_counter()
    with pytest.raises(DocumentTooLarge) as ex:
        extract(pdf, filename="bomb.pdf", content_type=None)
    # Then 413 DOCUMENT_TOO_LARGE, without inflating it all into memory first
    assert _code(ex) == (413, "DOCUMENT_TOO_LARGE")
    assert time.perf_counter() - started < 3


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


def test_given_an_image_claiming_billions_of_pixels_then_it_is_refused_before_decoding() -> None:
    # Given a tiny PNG whose header claims 100 000 × 100 000 pixels
    png = _png_header(100_000, 100_000)
    started = time.perf_counter()
    # When extracted  Then DOCUMENT_TOO_LARGE at once (no OCR, no decode)
    with pytest.raises(DocumentTooLarge):
        extract(png, filename="scan.png", content_type="image/png")
    assert time.perf_counter() - started < 0.5


def test_given_a_pdf_with_more_pages_than_the_limit_then_it_is_refused() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(documents.MAX_PAGES + 1):
        writer.add_blank_page(width=100, height=100)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(DocumentTooLarge) as ex:
        extract(out.getvalue(), filename=None, content_type=None)
    assert str(documents.MAX_PAGES) in ex.value.message


def test_given_a_pdf_drawing_a_giant_image_then_it_is_refused_before_rendering() -> None:
    # Given a scan-like PDF (no text) that draws an image declared as 50 000 × 50 000 pixels
    image = zlib.compress(b"\x00" * 1000)
    pdf = assemble([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length 31 >>\nstream\nq 595 0 0 842 0 0 cm /Im1 Do Q\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 50000 /Height 50000 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Filter /FlateDecode /Length %d >>\nstream\n" % len(image) + image + b"\nendstream"])
    # When extracted  Then DOCUMENT_TOO_LARGE before pdfium decodes it (and before any OCR)
    with pytest.raises(DocumentTooLarge):
        extract(pdf, filename=None, content_type=None, engine=_NoOcr())


class _NoOcr:
    name = "none"

    def read(self, image: bytes) -> object:
        raise AssertionError("OCR must not run on a refused document")


def _encrypted(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    from tests.unit.inbox.invoices import handwerk_pdf

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(handwerk_pdf())))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_given_a_pdf_that_needs_a_password_then_it_is_unreadable_and_says_so() -> None:
    with pytest.raises(UnreadableDocument) as ex:
        extract(_encrypted("geheim"), filename="r.pdf", content_type=None)
    assert "password" in ex.value.message


def test_given_a_pdf_protected_by_an_owner_password_only_then_it_is_read() -> None:
    # Given an invoice PDF "protected" against editing (owner password, empty user password), common from
    # invoicing software
    result = extract(_encrypted(""), filename="r.pdf", content_type=None)
    # Then it opens without a password and its text is read
    assert result.ocr_raw["path"] == "pdf_text" and result.extraction.invoice_number == "RE-2026-0042"
