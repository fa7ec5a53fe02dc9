"""Inbox extraction figures (issue 18, "Speed"), in one run, the two sides of a ratio alternating so that
both see the same load of the shared machine:

- the floor: factur-x alone on a ZUGFeRD PDF (get_xml_from_pdf + parse_ubl_cii_xml, no XSD) —
  ``floor_seconds(pdf)`` is what the inbox-flow bench compares its end-to-end path (SMTP in →
  extracted item) against;
- our ``extract`` on the same file (hardened parse, BT mapping, facts, markdown): the ratio to the floor;
- an XRechnung UBL file alone;
- OCR of a one-page scan (the Mustang sample rendered at 200 dpi into an image-only PDF): wall seconds
  with the engine's own inference time beside it, the model load (once per process) apart.
"""

from __future__ import annotations

import io
import statistics
import time
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
EINVOICE_PDF = ("zugferd", "zf2_EN16931_Einfach.pdf")
UBL_XML = ("xrechnung", "kosit_01.01a-INVOICE_ubl.xml")
SCAN_SOURCE = ("zugferd", "mustang_RE-20201121_508.pdf")
ROUNDS = 40


def floor_seconds(pdf: bytes, rounds: int = ROUNDS) -> float:
    """Median seconds of factur-x alone on ``pdf`` (the floor of the e-invoice path)."""
    from ledgerlou.domain.inbox.einvoice import facturx_floor

    facturx_floor(pdf)  # imports and first-call caches out of the figure
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        facturx_floor(pdf)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _einvoice(pdf: bytes) -> dict[str, Any]:
    from ledgerlou.domain.inbox.einvoice import facturx_floor
    from ledgerlou.domain.inbox.extraction import extract

    facturx_floor(pdf)
    extract(pdf, filename="x.pdf", content_type=None)
    floor, ours = [], []
    for _ in range(ROUNDS):  # alternating: both sides see the same load
        floor.append(_timed(lambda: facturx_floor(pdf)))
        ours.append(_timed(lambda: extract(pdf, filename="x.pdf", content_type=None)))
    f, o = statistics.median(floor), statistics.median(ours)
    return {"file": "/".join(EINVOICE_PDF), "rounds": ROUNDS, "facturx_floor_ms": round(f * 1000, 2),
            "extract_ms": round(o * 1000, 2), "ratio": round(o / f, 2)}


def _ubl(xml: bytes) -> dict[str, Any]:
    from ledgerlou.domain.inbox.extraction import extract

    extract(xml, filename="x.xml", content_type=None)
    times = [_timed(lambda: extract(xml, filename="x.xml", content_type=None)) for _ in range(ROUNDS)]
    return {"file": "/".join(UBL_XML), "extract_ms": round(statistics.median(times) * 1000, 2)}


def _scan(pdf: bytes) -> bytes:
    from ledgerlou.domain.inbox import documents
    from PIL import Image

    png = documents.render_pages(pdf, documents.open_pdf(pdf), max_pages=1)[0]
    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("L").save(out, format="PDF", resolution=200)
    return out.getvalue()


def _ocr(source: bytes) -> dict[str, Any]:
    from ledgerlou.domain.inbox import ocr
    from ledgerlou.domain.inbox.extraction import extract

    scan = _scan(source)
    engine = ocr.RapidOcrEngine(threads=2)
    load = _timed(engine._load)  # the model load, once per process (a cold worker pays it once)
    started = time.perf_counter()
    result = extract(scan, filename="scan.pdf", content_type=None, engine=engine)
    wall = time.perf_counter() - started
    return {"file": "/".join(SCAN_SOURCE) + " rendered at 200 dpi, image-only PDF", "engine": engine.name,
            "threads": engine.threads, "model_load_s": round(load, 2), "extract_s": round(wall, 2),
            "engine_s": result.ocr_raw["ocr_seconds"], "total_gross_read": str(result.extraction.total_gross),
            "total_gross_expected": "571.04"}


def run() -> dict[str, Any]:
    if not SAMPLES.is_dir():
        return {"skipped": f"{SAMPLES} absent (the real samples live beside the repository)"}
    pdf = SAMPLES.joinpath(*EINVOICE_PDF).read_bytes()
    return {"einvoice_pdf": _einvoice(pdf), "xrechnung_ubl": _ubl(SAMPLES.joinpath(*UBL_XML).read_bytes()),
            "ocr_one_page": _ocr(SAMPLES.joinpath(*SCAN_SOURCE).read_bytes())}
