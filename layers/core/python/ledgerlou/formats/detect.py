"""Pick the statement parser from the file content (never from the file name or content type).

Users upload whatever their online banking gave them, often renamed; the bytes are the only
reliable signal. The format modules are imported lazily so importing this module stays cheap.
"""

from __future__ import annotations

import re

from ledgerlou.formats.statement import ParsedFile, UnsupportedFormat

_SUPPORTED = "camt.053 XML, MT940 or a CSV export of Sparkasse, DKB, ING, Commerzbank or a Volksbank"
_SNIFF_BYTES = 64 * 1024
_MT940_TAG = re.compile(rb"^\s*:(20|25|28C?|60[FM]?|61|62[FM]?|86|34F|13D?):", re.MULTILINE)


def parse_statement(data: bytes) -> ParsedFile:
    """Parse a bank statement file of any supported format.

    Raises UnsupportedFormat (a ValueError) with a message a user can act on for anything else:
    empty files, PDFs, spreadsheets, other ISO 20022 messages, interim reports, unknown CSVs.
    """
    head = data[:_SNIFF_BYTES]
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not body:
        raise UnsupportedFormat("the file is empty")
    if body.startswith(b"%PDF"):
        raise UnsupportedFormat(
            f"PDF bank statements cannot be read; please export the statement as {_SUPPORTED}"
        )
    if body.startswith(b"PK\x03\x04"):
        raise UnsupportedFormat(
            f"this is a ZIP/Excel file; please export the statement as {_SUPPORTED}"
        )
    if body.startswith(b"\xff\xfe") or body.startswith(b"\xfe\xff"):
        raise UnsupportedFormat("UTF-16 encoded files are not supported; please export as UTF-8 or Windows-1252")

    if body.startswith(b"<"):
        # Any XML goes to the camt reader; for other ISO 20022 messages (camt.052/054, pain) it
        # raises with the message's name. Leading blanks would make the XML declaration invalid.
        from ledgerlou.formats import camt053

        return camt053.parse(data.removeprefix(b"\xef\xbb\xbf").lstrip())

    if b"\x00" in head:
        raise UnsupportedFormat(f"the file is binary, not a bank statement ({_SUPPORTED})")

    tags = {match.group(1).decode() for match in _MT940_TAG.finditer(head)}
    if "20" in tags and ({"25", "61"} & tags):
        if not {"60", "60F", "60M", "62", "62F", "62M"} & tags and {"34F", "13", "13D"} & tags:
            raise UnsupportedFormat(
                "this is an MT942 interim (intraday) report; only booked MT940 statements can be imported"
            )
        from ledgerlou.formats import mt940

        return mt940.parse(data)

    from ledgerlou.formats import bankcsv

    if bankcsv.sniff(data):
        return bankcsv.parse(data)
    if body.startswith(b'"EXTF"') or body.startswith(b"EXTF;") or body.startswith(b'"DTVF"'):
        raise UnsupportedFormat("this is a DATEV export, not a bank statement")
    raise UnsupportedFormat(f"unrecognised file; supported bank statement formats are {_SUPPORTED}")
