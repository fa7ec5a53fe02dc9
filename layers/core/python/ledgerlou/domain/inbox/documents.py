"""Opening untrusted PDFs and images with limits, so that a bomb is a clear error and fast.

- PDF: at most ``MAX_PAGES`` pages; pypdf decompresses each stream with its own limit (75 MB,
  ``pypdf.Configuration``) and raises LimitReachedError beyond it, which becomes DOCUMENT_TOO_LARGE.
  The text layer is read with pypdf (layout mode keeps invoice tables in columns), not pdfminer:
  pdfminer inflates streams without a limit.
- Before a page is rendered for OCR (pypdfium2), its size at the render resolution and the size of
  every image it draws are checked against ``MAX_PIXELS``: pdfium would decode a 100 000² image whole.
- Images: Pillow reads only the header first; more than ``MAX_PIXELS`` is refused before decoding
  (Pillow's own MAX_IMAGE_PIXELS is set to the same limit as the second guard)."""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from typing import Any

from ledgerlou.errors import DocumentTooLarge, UnreadableDocument

# pypdf logs each construct it repairs or skips ("Rotated text discovered", "Advanced encoding … not
# implemented"), some at error level: noise in the worker's log, since what we cannot read raises here
logging.getLogger("pypdf").setLevel(logging.CRITICAL)

# PDFium is not thread-safe (pypdfium2's documentation): one rendering at a time per process, for a
# worker that extracts a batch's documents in threads
_PDFIUM = threading.Lock()

MAX_PAGES = 100  # a long invoice has a few dozen pages; a thousand-page "invoice" is an attack or a mistake
MAX_TEXT_CHARS = 2_000_000
MAX_PIXELS = 40_000_000  # A4 at 600 dpi is 35 MP; a phone photo 12-50 MP
OCR_DPI = 200  # rapidocr reads 200 dpi reliably (research note B); more costs time without better results
MAX_OCR_PAGES = 5  # OCR costs seconds per page: the first pages of a scan carry an invoice's head and totals


def pdf_errors() -> tuple[type[BaseException], ...]:
    """What pypdf raises on a damaged or hostile file (besides LimitReachedError, a bomb): its own errors
    and the built-ins its parsers let through on garbage (a mutated sample raises each of these)."""
    from pypdf.errors import PyPdfError

    return (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            ZeroDivisionError, NotImplementedError, AssertionError, OverflowError, UnicodeError, LookupError)


@dataclass(frozen=True)
class PdfText:
    text: str
    pages: int


def open_pdf(data: bytes) -> Any:
    """An open pypdf reader, or UNREADABLE_DOCUMENT / DOCUMENT_TOO_LARGE."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument("The PDF is encrypted with a password; it cannot be read.")
        pages = len(reader.pages)
    except LimitReachedError as ex:
        raise DocumentTooLarge(f"The PDF unpacks beyond the limit: {ex}") from None
    except UnreadableDocument:
        raise
    except pdf_errors() as ex:
        raise UnreadableDocument(f"The PDF does not open: {type(ex).__name__}: {ex}") from None
    if pages == 0:
        raise UnreadableDocument("The PDF has no pages.")
    if pages > MAX_PAGES:
        raise DocumentTooLarge(f"The PDF has {pages} pages; at most {MAX_PAGES} are read.")
    return reader


def text_layer(reader: Any) -> PdfText:
    """The PDF's text, page by page (layout mode: columns stay columns, so "Netto … 100,00" stays on a line)."""
    from pypdf.errors import LimitReachedError

    parts: list[str] = []
    size = 0
    try:
        for page in reader.pages:
            text = page.extract_text(extraction_mode="layout") or ""
            size += len(text)
            if size > MAX_TEXT_CHARS:
                raise DocumentTooLarge(f"The PDF's text exceeds {MAX_TEXT_CHARS} characters.")
            parts.append(text)
    except LimitReachedError as ex:
        raise DocumentTooLarge(f"The PDF unpacks beyond the limit: {ex}") from None
    except pdf_errors():
        # a page whose content stream pypdf cannot interpret: the pages read so far stand, OCR may read the rest
        pass
    return PdfText(text="\n\n".join(_tidy(p) for p in parts).strip(), pages=len(reader.pages))


def valid_unicode(text: str) -> str:
    """``text`` with UTF-16 surrogates made whole: a pair becomes its character, a lone one U+FFFD. pypdf
    maps a glyph whose ToUnicode is a surrogate pair (an icon font's emoji) to lone halves, which neither
    UTF-8 nor DynamoDB accepts: the item could not be stored, and its message would fail into the DLQ."""
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _tidy(page: str) -> str:
    page = valid_unicode(page)
    lines = [line.rstrip() for line in page.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def has_text(text: str) -> bool:
    """Whether a text layer carries an invoice's text (a scan often has none, or a few stray characters)."""
    return sum(ch.isalnum() for ch in text) >= 40


def _image_pixels(page: Any) -> int:
    """The largest image a page draws (pixels), from the XObject dictionaries: no image is decoded."""
    largest = 0
    try:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        if not xobjects:
            return 0
        for ref in xobjects.get_object().values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                largest = max(largest, int(obj.get("/Width", 0)) * int(obj.get("/Height", 0)))
    except pdf_errors():
        return largest
    return largest


def draws_images(reader: Any, max_pages: int = MAX_OCR_PAGES) -> bool:
    """Whether one of the first pages draws an image (a scan, possibly under an unusable text layer)."""
    try:
        return any(_image_pixels(reader.pages[i]) > 0 for i in range(min(len(reader.pages), max_pages)))
    except pdf_errors():
        return False


def render_pages(data: bytes, reader: Any, dpi: int = OCR_DPI, max_pages: int = MAX_OCR_PAGES) -> list[bytes]:
    """PNG images of the first ``max_pages`` pages at ``dpi`` (a page larger than MAX_PIXELS at that
    resolution is rendered smaller; an embedded image larger than MAX_PIXELS is refused)."""
    import pypdfium2 as pdfium
    from pypdf.errors import LimitReachedError

    try:
        pages = [reader.pages[i] for i in range(min(len(reader.pages), max_pages))]
    except LimitReachedError as ex:
        raise DocumentTooLarge(f"The PDF unpacks beyond the limit: {ex}") from None
    except pdf_errors() as ex:
        raise UnreadableDocument(f"The PDF's pages cannot be read: {type(ex).__name__}: {ex}") from None
    for page in pages:
        pixels = _image_pixels(page)
        if pixels > MAX_PIXELS:
            raise DocumentTooLarge(f"The PDF draws an image of {pixels} pixels; at most {MAX_PIXELS} are decoded.")
    with _PDFIUM:
        return _render(pdfium, data, dpi, max_pages)


def _render(pdfium: Any, data: bytes, dpi: int, max_pages: int) -> list[bytes]:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as ex:
        raise UnreadableDocument(f"The PDF cannot be rendered: {ex}") from None
    images: list[bytes] = []
    try:
        for index in range(min(len(pdf), max_pages)):
            page = pdf[index]
            width, height = page.get_size()  # points (1/72 inch)
            scale = dpi / 72
            if width * height * scale * scale > MAX_PIXELS:
                scale = (MAX_PIXELS / max(width * height, 1.0)) ** 0.5
            bitmap = page.render(scale=scale, grayscale=True)
            out = io.BytesIO()
            bitmap.to_pil().save(out, format="PNG", compress_level=1)
            images.append(out.getvalue())
    except pdfium.PdfiumError as ex:
        raise UnreadableDocument(f"A page of the PDF cannot be rendered: {ex}") from None
    finally:
        pdf.close()
    return images


def image_frames(data: bytes, max_frames: int = MAX_OCR_PAGES) -> list[bytes]:
    """An image (PNG, JPEG, TIFF with one or more pages) as PNG frames for OCR, after the pixel check."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            frames: list[bytes] = []
            for index in range(min(getattr(image, "n_frames", 1), max_frames)):
                image.seek(index)
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise DocumentTooLarge(f"The image has {width}×{height} pixels; at most {MAX_PIXELS} are decoded.")
                out = io.BytesIO()
                image.convert("L").save(out, format="PNG", compress_level=1)
                frames.append(out.getvalue())
            return frames
    except Image.DecompressionBombError as ex:
        raise DocumentTooLarge(f"The image is a decompression bomb: {ex}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as ex:
        raise UnreadableDocument(f"The image cannot be read: {ex}") from None
