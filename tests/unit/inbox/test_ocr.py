"""OCR: one real run of the default engine (rapidocr 3.x) on a scan rendered from a sample invoice, reading
its total back; the rest (line assembly, the image path, the engine choice) without running a model."""

from __future__ import annotations

import io
from decimal import Decimal
from functools import lru_cache

import pytest
from ledgerlou.domain.inbox import documents, ocr
from ledgerlou.domain.inbox.extraction import extract
from ledgerlou.errors import OcrUnavailable

from tests.conftest import samples_dir


@lru_cache(maxsize=1)
def rapid_engine() -> ocr.RapidOcrEngine:
    return ocr.RapidOcrEngine(threads=2)  # one engine (models loaded once) for the whole test session


def scanned_pdf(pdf: bytes) -> bytes:
    """The first page of ``pdf`` as an image-only PDF (what a scanner produces): rendered at 200 dpi,
    written back as a PDF with no text layer and no attachments."""
    from PIL import Image

    reader = documents.open_pdf(pdf)
    png = documents.render_pages(pdf, reader, max_pages=1)[0]
    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("L").save(out, format="PDF", resolution=200)
    return out.getvalue()


@pytest.mark.slow
def test_given_a_scanned_invoice_pdf_then_ocr_reads_the_total_back() -> None:
    # Given the Mustang sample invoice (total 571,04 €) as a scan: an image-only PDF without XML or text
    scan = scanned_pdf(samples_dir("zugferd", "mustang_RE-20201121_508.pdf").read_bytes())
    reader = documents.open_pdf(scan)
    assert not documents.has_text(documents.text_layer(reader).text) and not list(reader.attachment_list)
    # When it is extracted
    result = extract(scan, filename="scan.pdf", content_type="application/pdf", engine=rapid_engine())
    # Then OCR was the path, with the engine's own time beside the total time, and the figures are read
    assert result.ocr_raw["path"] == "ocr" and result.ocr_raw["engine"] == "rapidocr"
    assert 0 < result.ocr_raw["ocr_seconds"] <= result.ocr_raw["seconds"]
    got = result.extraction
    assert got.total_gross == Decimal("571.04")
    assert (got.total_net, got.total_tax) == (Decimal("496.00"), Decimal("75.04"))
    assert got.invoice_number == "RE-20201121/508"
    assert got.vendor_iban == "DE88200800000970375700" and got.vendor_vat_id == "DE136695976"
    assert "heiße Luft" in (got.raw_markdown or "")  # German characters survive (PP-OCRv6 multilingual model)


class FakeEngine:
    name = "fake"

    def __init__(self, text: str) -> None:
        self.text, self.images = text, []  # type: ignore[var-annotated]

    def read(self, image: bytes) -> ocr.OcrText:
        self.images.append(image)
        return ocr.OcrText(text=self.text, seconds=0.5, engine=self.name)


def test_given_a_photo_then_each_frame_goes_through_the_engine_and_the_heuristics() -> None:
    from PIL import Image

    # Given a PNG photo of an invoice and an engine that "reads" a German invoice text
    out = io.BytesIO()
    Image.new("RGB", (800, 1100), "white").save(out, format="PNG")
    engine = FakeEngine("Rechnungsnummer: 2026-17\nRechnungsdatum: 03.02.2026\nNetto  100,00 €\nMwSt 19 %  19,00 €\n"
                        "Gesamtbetrag  119,00 €")
    # When extracted
    result = extract(out.getvalue(), filename="foto.png", content_type="image/png", engine=engine)
    # Then the engine saw one grayscale PNG frame, and the fields come from its text
    assert len(engine.images) == 1 and engine.images[0].startswith(b"\x89PNG")
    assert result.ocr_raw == {"path": "ocr", "engine": "fake", "ocr_seconds": 0.5, "text_chars": len(engine.text),
                              "pages": 1, "pages_read": 1, "type_code": "380", "document_type": "invoice",
                              "seconds": result.ocr_raw["seconds"]}
    assert (result.extraction.invoice_number, result.extraction.total_gross) == ("2026-17", Decimal("119.00"))


def test_given_ocr_boxes_then_they_are_joined_into_lines_left_to_right() -> None:
    # Given boxes out of order, two of them on one line (vertical centres within the first box)
    boxes = [ocr.Box("571,04 €", 400, 102, 118), ocr.Box("Gesamtbetrag", 50, 100, 120), ocr.Box("Rechnung", 50, 10, 30)]
    # Then the text reads top to bottom, left to right, with two spaces between the boxes of a line
    assert ocr.lines_from_boxes(boxes) == "Rechnung\nGesamtbetrag  571,04 €"


def test_given_an_unknown_engine_name_then_ocr_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCR_ENGINE", "tesseract")
    with pytest.raises(OcrUnavailable):
        ocr.engine()


def test_given_the_default_engine_then_it_is_made_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCR_ENGINE", raising=False)
    first = ocr.engine()
    assert isinstance(first, ocr.RapidOcrEngine) and ocr.engine() is first


def test_given_a_multi_page_tiff_then_each_page_is_read_up_to_the_limit() -> None:
    from PIL import Image

    # Given a fax-like TIFF with 7 pages (more than the OCR page limit)
    pages = [Image.new("L", (300, 400), 255) for _ in range(7)]
    out = io.BytesIO()
    pages[0].save(out, format="TIFF", save_all=True, append_images=pages[1:])
    engine = FakeEngine("Rechnungsnummer: T-1")
    # When extracted  Then the first MAX_OCR_PAGES pages went through the engine, one image each
    result = extract(out.getvalue(), filename="fax.tif", content_type="image/tiff", engine=engine)
    assert len(engine.images) == documents.MAX_OCR_PAGES == result.ocr_raw["pages_read"]
    assert result.extraction.invoice_number == "T-1"


def test_given_scans_extracted_in_threads_then_each_is_rendered_and_read() -> None:
    from concurrent.futures import ThreadPoolExecutor

    # Given a scan and a worker that extracts a batch's documents in threads (PDFium is not thread-safe:
    # rendering is serialised inside documents.render_pages)
    scan = scanned_pdf(samples_dir("zugferd", "mustang_RE-20201121_508.pdf").read_bytes())
    engine = FakeEngine("Gesamtbetrag  571,04 €")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: extract(scan, filename=None, content_type=None, engine=engine), range(8)))
    # Then every extraction rendered its page and read the same figure
    assert [r.extraction.total_gross for r in results] == [Decimal("571.04")] * 8
    assert len(engine.images) == 8 and len(set(engine.images)) == 1


def _pdf_with_text_and_image(text: str) -> bytes:
    import zlib

    from tests.unit.inbox.pdfgen import assemble

    pixels = zlib.compress(b"\xff" * (200 * 280))
    content = b"q 595 0 0 842 0 0 cm /Im1 Do Q\nBT /F1 8 Tf 20 20 Td (" + text.encode("latin-1") + b") Tj ET\n"
    return assemble([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> "
        b"/Font << /F1 6 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 200 /Height 280 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Filter /FlateDecode /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"])


def test_given_a_scan_under_a_text_layer_without_invoice_fields_then_the_image_is_read() -> None:
    # Given a scanned page whose text layer is garbage (a scanner's failed OCR layer)
    pdf = _pdf_with_text_and_image("xq3 lkj8 zzv 4mm9 qpw0 trr7 vbn2 hjk5 asd1 fgh6 ertz uiop 9876 5432")
    engine = FakeEngine("Rechnungsnummer: SC-9\nGesamtbetrag  119,00 €")
    # When extracted  Then the picture was read by OCR, and ocr_raw says why
    result = extract(pdf, filename=None, content_type=None, engine=engine)
    assert result.ocr_raw["path"] == "ocr" and "without invoice fields" in result.ocr_raw["text_layer"]
    assert (result.extraction.invoice_number, result.extraction.total_gross) == ("SC-9", Decimal("119.00"))


def test_given_a_text_pdf_without_images_or_invoice_fields_then_no_ocr_runs() -> None:
    from tests.unit.inbox.pdfgen import text_pdf

    # Given terms and conditions: text, no images, no invoice fields
    pdf = text_pdf([(50, 800 - 12 * i, f"Allgemeine Geschäftsbedingungen, Abschnitt {i}: Geltungsbereich")
                    for i in range(10)])
    engine = FakeEngine("unused")
    result = extract(pdf, filename="agb.pdf", content_type=None, engine=engine)
    assert result.ocr_raw["path"] == "pdf_text" and result.extraction.total_gross is None
    assert engine.images == []
