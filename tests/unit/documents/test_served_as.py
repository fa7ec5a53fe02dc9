"""What a stored document is served as (domain/documents/archive.served_as, classify_markup): decided from
the bytes, never from the name or the type recorded at upload; only an allow-list is ever inline."""

from __future__ import annotations

import time

import pytest
from ledgerlou.domain.documents import archive

OCTET = "application/octet-stream"


@pytest.mark.parametrize(("data", "stored"), [
    (b"%PDF-1.7\n...", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n....", "image/png"),
    (b"\xff\xd8\xff\xdb....", "image/jpeg"),
    (b"II*\x00....", "image/tiff"),
    (b"MM\x00*....", "image/tiff"),
])
def test_given_an_allow_listed_binary_then_inline_as_itself_whatever_was_recorded(data: bytes, stored: str) -> None:
    assert archive.served_as(data, "application/xml", preview=True) == (stored, "inline")
    assert archive.served_as(data, "application/xml", preview=False) == (stored, "attachment")


def test_given_plain_xml_then_previewed_as_text_in_its_declared_charset() -> None:
    xml = '<?xml version="1.0" encoding="ISO-8859-1"?><Invoice><Name>Müller</Name></Invoice>'.encode("latin-1")
    assert archive.served_as(xml, "application/xml", preview=True) == ("text/plain; charset=ISO-8859-1", "inline")
    assert archive.served_as(xml, "application/xml", preview=False) == ("application/xml", "attachment")
    assert archive.served_as(b"<Invoice/>", "application/xml", preview=True) == ("text/plain; charset=UTF-8",
                                                                                 "inline")


@pytest.mark.parametrize(("data", "mime"), [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
    (b"<svg><script>alert(1)</script></svg>", "image/svg+xml"),
    (b"<svg onload=alert(1)>", "image/svg+xml"),                                      # not well-formed
    (b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "application/xhtml+xml"),
    (b"<HTML><BODY onload='alert(1)'></BODY></HTML>", "application/xhtml+xml"),
    (b"<html><body><img src=x onerror=alert(1)></body></html>", "text/html"),        # HTML, not XML
    (b'<a xmlns:x="http://www.w3.org/1999/xhtml"><x:script/></a>', "application/xhtml+xml"),
    (b'<a><b xmlns="http://www.w3.org/2000/svg"/></a>', "image/svg+xml"),
    (b'<x:stylesheet xmlns:x="http://www.w3.org/1999/XSL/Transform" version="1.0"/>', "application/xslt+xml"),
    (b'<math xmlns="http://www.w3.org/1998/Math/MathML"/>', "application/mathml+xml"),
])
def test_given_markup_a_browser_would_render_then_named_and_only_ever_an_octet_stream_attachment(
        data: bytes, mime: str) -> None:
    assert archive.sniff(data) == mime
    for preview in (True, False):
        assert archive.served_as(data, "application/xml", preview) == (OCTET, "attachment")


def test_given_an_external_entity_then_it_is_not_resolved_and_no_plain_xml() -> None:
    xxe = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>')
    markup = archive.classify_markup(xxe)
    assert markup.mime == "application/xml" and not markup.plain  # a DTD: never shown, not even as text
    assert archive.served_as(xxe, "application/xml", preview=True) == (OCTET, "attachment")


def test_given_a_billion_laughs_then_no_expansion_and_no_time() -> None:
    lol = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9)) + b"]><l>&j;</l>"
    started = time.perf_counter()
    assert archive.served_as(lol, "application/xml", preview=True) == (OCTET, "attachment")
    assert time.perf_counter() - started < 1


def test_given_a_text_statement_then_previewed_as_plain_text_and_anything_unknown_as_an_octet_stream() -> None:
    mt940 = b":20:STARTUMS\r\n:25:87052000/123456789\r\n"
    assert archive.served_as(mt940, "text/plain", preview=True) == ("text/plain", "inline")
    assert archive.served_as(b"Buchungstag;Betrag\r\n", "text/csv", preview=False) == ("text/csv", "attachment")
    # a type recorded by an older version that the rules do not know: never inline
    assert archive.served_as(b"MZ\x90\x00", "application/x-msdownload", preview=True) == (OCTET, "attachment")
