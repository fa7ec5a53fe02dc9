"""A text-layer PDF written by hand (PDF 1.4 syntax, Helvetica, WinAnsiEncoding): the test builds the
German invoice it reads back, without a PDF library on the writing side."""

from __future__ import annotations

import zlib


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")  # WinAnsiEncoding is cp1252 for the characters used here (ä ö ü ß €)
    out = bytearray()
    for byte in raw:
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif byte > 126:
            out += f"\\{byte:03o}".encode()
        else:
            out.append(byte)
    return bytes(out)


def text_pdf(lines: list[tuple[float, float, str]], *, size: float = 10, compress: bool = True) -> bytes:
    """One A4 page with each ``(x, y, text)`` drawn in Helvetica (points from the bottom left)."""
    content = b"".join(b"BT /F1 %.1f Tf %.1f %.1f Td (" % (size, x, y) + _escape(t) + b") Tj ET\n" for x, y, t in lines)
    stream = zlib.compress(content) if compress else content
    filters = b"/Filter /FlateDecode " if compress else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< " + filters + b"/Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    return assemble(objects)


def assemble(objects: list[bytes]) -> bytes:
    """Objects 1..n with a correct cross-reference table (object 1 is the catalog)."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
