"""Parsing untrusted XML (an e-invoice from e-mail): no DTD, no entities, no network, no huge trees.

A DOCTYPE is refused before lxml sees it: an e-invoice (UBL, CII, ZUGFeRD) never needs one, and every
XML attack of note rides on it (external entities reading files or URLs, "billion laughs" expansion).
The parser is hardened as well, for a DOCTYPE the byte check cannot see (e.g. an unusual encoding):
lxml is told not to load a DTD, not to resolve entities and not to use the network, and the parsed tree
is checked for a DOCTYPE and for entity nodes once more."""

from __future__ import annotations

import re

from lxml import etree

from ledgerlou.errors import DocumentTooLarge, UnreadableDocument, UnsafeXml

MAX_XML_BYTES = 10 * 1024 * 1024  # a large XRechnung has some hundred kB; 10 MB leaves room for embedded files

_DOCTYPE = re.compile(rb"<!\s*DOCTYPE|<!\s*ENTITY", re.IGNORECASE)
_UTF16_DOCTYPE = ("<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"),
                  "<!ENTITY".encode("utf-16-le"), "<!ENTITY".encode("utf-16-be"))


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers keep state and are not safe to share between threads.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_pis=True, collect_ids=False)


def parse(data: bytes) -> etree._Element:
    """The root element of ``data``, or UNSAFE_XML / UNREADABLE_DOCUMENT / DOCUMENT_TOO_LARGE."""
    if len(data) > MAX_XML_BYTES:
        raise DocumentTooLarge(f"The XML has {len(data)} bytes; at most {MAX_XML_BYTES} are read.")
    if _DOCTYPE.search(data) or any(marker in data for marker in _UTF16_DOCTYPE):
        raise UnsafeXml("The XML declares a DOCTYPE or entities; an e-invoice has none, so it is not read.")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as ex:
        raise UnreadableDocument(f"The XML does not parse: {ex}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise UnsafeXml("The XML declares a DOCTYPE; an e-invoice has none, so it is not read.")
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise UnsafeXml("The XML references entities; an e-invoice has none, so it is not read.")
    return root
