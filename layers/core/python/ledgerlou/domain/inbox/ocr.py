"""OCR behind one interface: ``OcrEngine.read(image_bytes) -> OcrText``.

- ``RapidOcrEngine`` (default): rapidocr 3.x on onnxruntime. Its PP-OCRv6 models ship inside the wheel
  and are multilingual (German umlauts and ß kept; research note B), so it installs from PyPI alone and
  never downloads at run time. Loaded lazily, once per process (the models take ~1 s to load), with
  onnxruntime's threads bounded (``OCR_THREADS``, default 2): Lambda has 1-6 vCPUs, and a worker that
  takes every core starves the others on a shared machine.
- ``TextractEngine`` (``OCR_ENGINE=textract``, AWS only): DetectDocumentText, lines joined in reading
  order. Not AnalyzeExpense: that one maps only English labels (research note B), while our German
  heuristics run on the text either way.

Both return plain text in lines, with two spaces between the boxes of one line: the heuristics read a
label and its amount from the same line."""

from __future__ import annotations

import io
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from ledgerlou.domain.inbox import documents
from ledgerlou.errors import DocumentTooLarge, OcrUnavailable, UnreadableDocument


@dataclass(frozen=True)
class OcrText:
    text: str
    seconds: float  # the engine's own time (model inference), beside the caller's wall time
    engine: str


class OcrEngine(Protocol):
    name: str

    def read(self, image: bytes) -> OcrText: ...


@dataclass(frozen=True)
class Box:
    text: str
    left: float
    top: float
    bottom: float


def lines_from_boxes(boxes: list[Box]) -> str:
    """Boxes → lines: a box joins the current line when its vertical centre lies within the line's
    first box; a line's boxes are ordered left to right."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.top + b.bottom) / 2):
        centre = (box.top + box.bottom) / 2
        if rows and rows[-1][0].top <= centre <= rows[-1][0].bottom:
            rows[-1].append(box)
        else:
            rows.append([box])
    return "\n".join("  ".join(b.text for b in sorted(row, key=lambda b: b.left)) for row in rows)


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or int(os.environ.get("OCR_THREADS", "2"))
        self._engine: Any = None
        self._lock = threading.Lock()
        self._inference = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._engine is None:
                try:
                    from rapidocr import RapidOCR
                except ImportError as ex:  # the OCR dependencies are optional on a function that has no OCR
                    raise OcrUnavailable(f"The OCR engine is not installed: {ex}") from None
                self._engine = RapidOCR(params={
                    "Global.log_level": "error",
                    "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                })
            return self._engine

    def read(self, image: bytes) -> OcrText:
        import numpy as np
        from PIL import Image, UnidentifiedImageError

        Image.MAX_IMAGE_PIXELS = documents.MAX_PIXELS
        try:
            with Image.open(io.BytesIO(image)) as img:
                if img.size[0] * img.size[1] > documents.MAX_PIXELS:
                    raise DocumentTooLarge(f"The image has {img.size[0]}×{img.size[1]} pixels; "
                                           f"at most {documents.MAX_PIXELS} are decoded.")
                array = np.asarray(img.convert("RGB"))
        except Image.DecompressionBombError as ex:
            raise DocumentTooLarge(f"The image is a decompression bomb: {ex}") from None
        except (UnidentifiedImageError, OSError, ValueError) as ex:
            raise UnreadableDocument(f"The image cannot be read: {ex}") from None
        engine = self._load()
        started = time.perf_counter()
        try:
            with self._inference:  # one page at a time: its threads use the cores; parallel pages only contend
                result = engine(array)
        except Exception as ex:  # noqa: BLE001 - the model runtime's own failures (onnxruntime, opencv): retryable
            raise OcrUnavailable(f"The OCR engine failed: {type(ex).__name__}: {ex}") from None
        wall = time.perf_counter() - started
        boxes: list[Box] = []
        if result.txts is not None and result.boxes is not None:
            for text, points in zip(result.txts, result.boxes, strict=False):
                ys = [float(p[1]) for p in points]
                boxes.append(Box(text=str(text), left=float(min(p[0] for p in points)), top=min(ys), bottom=max(ys)))
        seconds = float(result.elapse) if getattr(result, "elapse", None) else wall
        return OcrText(text=lines_from_boxes(boxes), seconds=round(seconds, 3), engine=self.name)


class TextractEngine:
    name = "textract"

    def __init__(self, client: Any = None) -> None:
        self._client = client

    def _textract(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("textract")
        return self._client

    def read(self, image: bytes) -> OcrText:
        from botocore.exceptions import BotoCoreError, ClientError

        started = time.perf_counter()
        try:
            response = self._textract().detect_document_text(Document={"Bytes": image})
        except ClientError as ex:
            code = ex.response.get("Error", {}).get("Code", "")
            if code in ("InvalidParameterException", "UnsupportedDocumentException", "BadDocumentException"):
                raise UnreadableDocument(f"Textract cannot read the image: {code}") from None
            if code == "DocumentTooLargeException":
                raise DocumentTooLarge("The image is too large for Textract (10 MB).") from None
            raise OcrUnavailable(f"Textract failed: {code}") from None
        except BotoCoreError as ex:
            raise OcrUnavailable(f"Textract failed: {ex}") from None
        return OcrText(text=text_from_textract(response), seconds=round(time.perf_counter() - started, 3),
                       engine=self.name)


def text_from_textract(response: dict[str, Any]) -> str:
    """DetectDocumentText's LINE blocks as lines (geometry in page fractions: 0..1)."""
    boxes = []
    for block in response.get("Blocks", []):
        if block.get("BlockType") != "LINE" or not block.get("Text"):
            continue
        box = block.get("Geometry", {}).get("BoundingBox", {})
        top = float(box.get("Top", 0.0))
        boxes.append(Box(text=str(block["Text"]), left=float(box.get("Left", 0.0)), top=top,
                         bottom=top + float(box.get("Height", 0.0))))
    return lines_from_boxes(boxes)


_engines: dict[str, OcrEngine] = {}
_engines_lock = threading.Lock()


def engine() -> OcrEngine:
    """The process's OCR engine (``OCR_ENGINE``: rapidocr, the default, or textract), made once."""
    name = os.environ.get("OCR_ENGINE", "rapidocr").strip().lower() or "rapidocr"
    with _engines_lock:
        if name not in _engines:
            if name == "textract":
                _engines[name] = TextractEngine()
            elif name == "rapidocr":
                _engines[name] = RapidOcrEngine()
            else:
                raise OcrUnavailable(f"OCR_ENGINE={name} is not an engine (rapidocr, textract).")
        return _engines[name]
