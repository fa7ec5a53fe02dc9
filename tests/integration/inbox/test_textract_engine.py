"""The optional Textract engine (OCR_ENGINE=textract) under moto: DetectDocumentText is called with the image
bytes and its LINE blocks become the text the German heuristics read. moto answers with the blocks a test
sets on its backend (``TextractBackend.BLOCKS``); here they are the lines of a German invoice in the shape
Textract returns (BlockType, Text, Geometry.BoundingBox in page fractions)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from ledgerlou.domain.inbox import ocr
from ledgerlou.domain.inbox.extraction import extract

LINES = [  # (text, left, top): two columns on some rows, out of order as Textract may return them
    ("Gesamtbetrag", 0.50, 0.62), ("1.470,25 €", 0.80, 0.621),
    ("Muster Handwerk GmbH", 0.05, 0.05), ("Hauptstraße 5", 0.05, 0.07), ("10115 Berlin", 0.05, 0.09),
    ("Rechnungsnummer: RE-2026-0042", 0.05, 0.20), ("Rechnungsdatum: 15.01.2026", 0.55, 0.20),
    ("Nettobetrag", 0.50, 0.58), ("1.235,50 €", 0.80, 0.58),
    ("zzgl. 19 % USt", 0.50, 0.60), ("234,75 €", 0.80, 0.60),
    ("USt-IdNr.: DE136695976", 0.05, 0.90),
]


def block(text: str, left: float, top: float) -> dict[str, Any]:
    return {"BlockType": "LINE", "Text": text, "Confidence": 99.1, "Id": text,
            "Geometry": {"BoundingBox": {"Left": left, "Top": top, "Width": 0.2, "Height": 0.012}}}


@pytest.fixture
def textract_blocks(aws: dict[str, str]) -> Iterator[None]:
    from moto.textract.models import TextractBackend

    saved = TextractBackend.BLOCKS
    TextractBackend.BLOCKS = [{"BlockType": "PAGE", "Id": "p"}] + [block(*line) for line in LINES]
    yield
    TextractBackend.BLOCKS = saved


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (400, 560), 255).save(out, format="PNG")
    return out.getvalue()


def test_given_the_textract_engine_then_its_lines_are_read_by_the_german_heuristics(textract_blocks: None) -> None:
    import boto3

    # Given the Textract engine on (moto's) AWS
    engine = ocr.TextractEngine(boto3.client("textract", region_name="eu-central-1"))
    # When a photographed invoice is extracted with it
    result = extract(png(), filename="foto.png", content_type="image/png", engine=engine)
    # Then the path is OCR by Textract, the lines are in reading order, and the fields are read
    assert result.ocr_raw["path"] == "ocr" and result.ocr_raw["engine"] == "textract"
    text = result.extraction.raw_markdown or ""
    assert text.splitlines()[0] == "Muster Handwerk GmbH"
    assert "Gesamtbetrag  1.470,25 €" in text and "Nettobetrag  1.235,50 €" in text
    got = result.extraction
    assert (got.total_net, got.total_tax, got.total_gross) == (
        Decimal("1235.50"), Decimal("234.75"), Decimal("1470.25"))
    assert (got.invoice_number, got.invoice_date, got.vendor_vat_id) == ("RE-2026-0042", "2026-01-15", "DE136695976")


def test_given_ocr_engine_textract_in_the_environment_then_the_process_engine_is_textract(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCR_ENGINE", "textract")
    assert isinstance(ocr.engine(), ocr.TextractEngine)


def test_given_textract_refuses_the_document_then_a_clear_error() -> None:
    from botocore.exceptions import ClientError
    from ledgerlou.errors import OcrUnavailable, UnreadableDocument

    class Refusing:
        def __init__(self, code: str) -> None:
            self.code = code

        def detect_document_text(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "DetectDocumentText")

    with pytest.raises(UnreadableDocument):
        ocr.TextractEngine(Refusing("UnsupportedDocumentException")).read(b"x")
    with pytest.raises(OcrUnavailable):
        ocr.TextractEngine(Refusing("ProvisionedThroughputExceededException")).read(b"x")
