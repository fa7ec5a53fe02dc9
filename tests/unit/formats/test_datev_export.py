"""DATEV EXTF Buchungsstapel writer, checked against the real DATEV sample files.

The samples live outside the project (licence: AGPL/third-party data, local fixtures only, see
shared/samples/SOURCES.md); tests that need them skip when the directory is absent.
"""

from __future__ import annotations

import re
import sys
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

try:
    from ledgerlou.formats import datev
except ModuleNotFoundError:  # no conftest/pythonpath for the Lambda layer configured yet
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "layers" / "core" / "python"))
    from ledgerlou.formats import datev

SAMPLES_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "datev"
MUSTER_V13 = "datev-muster_EXTF_Buchungsstapel_v13_utf8.csv"  # DATEV's own sample, as UTF-8
LEDERMANN_V9 = "ledermann_EXTF_Buchungsstapel_v9_cp1252.csv"
OCA_V12 = "oca_datev_import_csv_dtvf_example_semicolon.csv"


# --- helpers ---------------------------------------------------------------------------------


def _sample(name: str) -> bytes:
    path = SAMPLES_DIR / name
    if not path.is_file():
        pytest.skip(f"DATEV sample {path} not available (shared/samples is a local fixture dir)")
    return path.read_bytes()


def _muster_lines() -> list[str]:
    # The stored copy was re-encoded to UTF-8 and has LF line ends; DATEV's original is cp1252.
    return _sample(MUSTER_V13).decode("utf-8").splitlines()


def _header(**overrides: object) -> datev.DatevHeader:
    """A header with exactly the values of the Musterdatei's header line."""
    values: dict[str, object] = {
        "consultant_number": 29098,
        "client_number": 55003,
        "fiscal_year_start": date(2024, 1, 1),
        "account_length": 4,
        "date_from": date(2024, 1, 1),
        "date_to": date(2024, 8, 31),
        "label": "Buchungsstapel",
        "created_at": datetime(2024, 1, 30, 14, 4, 40, 439_000),
        "locked": False,
        "origin": "RE",
        "initials": "WD",
        "skr": "03",
    }
    values.update(overrides)
    return datev.DatevHeader(**values)  # type: ignore[arg-type]


def _row(**overrides: object) -> datev.DatevRow:
    values: dict[str, object] = {
        "amount": Decimal("119.00"),
        "debit_credit": "S",
        "account": "10100",
        "contra_account": "8400",
        "bu_key": "3",
        "document_date": date(2024, 1, 15),
        "document_field_1": "AR-456/13",
        "text": "Rechnung mit Skontogewährung",
    }
    values.update(overrides)
    return datev.DatevRow(**values)  # type: ignore[arg-type]


def _export(rows: list[datev.DatevRow], header: datev.DatevHeader | None = None) -> bytes:
    return b"".join(datev.iter_extf(header or _header(), rows))


def _parsed_row(row: datev.DatevRow) -> dict[str, str]:
    _, headings, rows = datev.read_extf(_export([row]), "cp1252")
    assert len(rows) == 1
    return dict(zip(headings, rows[0], strict=True))


def _raw_lines(data: bytes) -> list[str]:
    return data.decode("cp1252").split("\r\n")


def _split_unquoted(line: str) -> list[str]:
    # Only for lines without ";" inside quotes (header lines, rows of plain test data).
    return line.split(";")


# --- header ----------------------------------------------------------------------------------


def test_header_line_is_byte_identical_to_the_musterdatei_for_the_same_values() -> None:
    # Given the header values of DATEV's Musterdatei
    muster_header = _muster_lines()[0]
    # When we export an empty batch with them
    ours = _raw_lines(_export([]))[0]
    # Then our header line is the Musterdatei's, field for field, quotes included
    assert ours == muster_header


def test_header_has_the_musterdatei_field_count_constants_and_formats() -> None:
    # Given the Musterdatei header and a header of ours with other values
    muster = _split_unquoted(_muster_lines()[0])
    header = _header(consultant_number=1001, client_number=7, label="Ausgangsrechnungen 01/24",
                     created_at=datetime(2024, 2, 1, 8, 5, 9, 7_000), locked=True,
                     initials=None, skr="04", created_by="LedgerLou",
                     date_from=date(2024, 1, 1), date_to=date(2024, 1, 31),
                     application_info="ledgerlou 1")
    # When we render it
    ours = _split_unquoted(_raw_lines(_export([], header))[0])
    # Then it has the same 31 positions …
    assert len(ours) == len(muster) == datev.HEADER_FIELD_COUNT == 31
    # … the fixed constants are identical (Kennzeichen, Version, Kategorie, Name,
    # Formatversion, Buchungstyp, WKZ and the reserved/empty positions)
    constant_positions = [1, 2, 3, 4, 5, 7, 10, 19, 20, 22, 23, 24, 25, 26, 28, 29, 30]
    for pos in constant_positions:
        assert ours[pos - 1] == muster[pos - 1], f"header field {pos}"
    assert ours[:5] == ['"EXTF"', "700", "21", '"Buchungsstapel"', "13"]
    # … every field is quoted exactly where the Musterdatei quotes it
    for pos, (mine, theirs) in enumerate(zip(ours, muster, strict=True), start=1):
        assert mine.startswith('"') == theirs.startswith('"'), f"quoting of header field {pos}"
    # … and our own values sit at their positions in DATEV's formats
    assert re.fullmatch(r"\d{17}", ours[5]) and ours[5] == "20240201080509007"  # 6 Erzeugt am
    assert ours[7] == '"RE"'  # 8 Herkunft
    assert ours[8] == '"LedgerLou"'  # 9 Exportiert von
    assert ours[10:16] == ["1001", "7", "20240101", "4", "20240101", "20240131"]  # 11-16
    assert ours[16] == '"Ausgangsrechnungen 01/24"'  # 17 Bezeichnung
    assert ours[17] == '""'  # 18 Diktatkürzel
    assert ours[20] == "1"  # 21 Festschreibung
    assert ours[26] == '"04"'  # 27 SKR
    assert ours[30] == '"ledgerlou 1"'  # 31 Anwendungsinformation


def test_header_of_the_v9_sample_has_the_same_layout() -> None:
    # Given an independent real-world file (ledermann/datev, format version 9, cp1252)
    header, _, _ = datev.read_extf(_sample(LEDERMANN_V9), "cp1252")
    ours, _, _ = datev.read_extf(_export([]), "cp1252")
    # Then the 31-field header layout is the same (only the format version differs)
    assert len(header) == len(ours) == 31
    assert header[:4] == ours[:4]
    assert (header[4], ours[4]) == ("9", "13")
    assert re.fullmatch(r"\d{17}", header[5])
    assert header[18] == ours[18] == "1"  # Buchungstyp Fibu
    assert header[21] == ours[21] == "EUR"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"consultant_number": 1000}, "consultant_number"),
        ({"consultant_number": 10_000_000}, "consultant_number"),
        ({"client_number": 0}, "client_number"),
        ({"client_number": 100_000}, "client_number"),
        ({"account_length": 3}, "account_length"),
        ({"account_length": 9}, "account_length"),
        ({"label": "x" * 31}, "label"),
        ({"currency": "USD"}, "EUR"),
        ({"origin": "R"}, "origin"),
        ({"initials": "wd"}, "initials"),
        ({"skr": "SKR03"}, "skr"),
        ({"date_from": date(2024, 9, 1)}, "date_from"),
        ({"date_to": date(2025, 1, 1)}, "fiscal year"),
        ({"application_info": "x" * 17}, "application_info"),
    ],
)
def test_header_rejects_values_datev_would_reject(
    overrides: dict[str, object], message: str
) -> None:
    # Given / When a header with an invalid value / Then it is refused at construction
    with pytest.raises(ValueError, match=message):
        _header(**overrides)


def test_header_accepts_a_fiscal_year_that_does_not_start_in_january() -> None:
    header = _header(fiscal_year_start=date(2023, 7, 1), date_from=date(2024, 6, 1),
                     date_to=date(2024, 6, 30))
    fields, _, _ = datev.read_extf(_export([], header), "cp1252")
    assert fields[12:16] == ["20230701", "4", "20240601", "20240630"]


# --- column headings -------------------------------------------------------------------------


def test_column_heading_row_is_identical_to_the_musterdatei() -> None:
    # Given the heading row of DATEV's Musterdatei (format version 13)
    muster_headings_line = _muster_lines()[1]
    # When we export
    ours = _raw_lines(_export([]))[1]
    # Then our heading row is the same text, all 125 columns
    assert ours == muster_headings_line
    assert len(datev.COLUMN_HEADINGS) == len(muster_headings_line.split(";")) == 125


def test_every_row_has_one_field_per_heading_and_text_columns_quoted_like_the_musterdatei() -> None:
    # Given the Musterdatei's bookings, we learn per column whether DATEV quotes it
    muster_rows = [_split_unquoted(line) for line in _muster_lines()[2:] if line]
    assert all(len(r) == 125 for r in muster_rows)
    # When we export a row that leaves most columns empty
    ours = _split_unquoted(_raw_lines(_export([_row()]))[2])
    assert len(ours) == 125
    # Then wherever the Musterdatei is consistent, our quoting agrees with it
    compared = 0
    for index in range(125):
        kinds = {"Q" if r[index].startswith('"') else "U" for r in muster_rows}
        if len(kinds) == 1:
            compared += 1
            is_text = index + 1 in datev.TEXT_COLUMNS
            assert is_text == (kinds == {"Q"}), f"column {index + 1} {datev.COLUMN_HEADINGS[index]}"
            assert ours[index].startswith('"') == is_text
    assert compared >= 120  # only a handful of columns are mixed in DATEV's own file


# --- rows ------------------------------------------------------------------------------------


def test_a_sample_row_round_trips() -> None:
    # Given an outgoing invoice to a Debitor, 19 % USt
    row = _row()
    # When it is exported and read back
    fields = _parsed_row(row)
    raw = _split_unquoted(_raw_lines(_export([row]))[2])
    # Then every DATEV field carries our value in DATEV's notation
    assert fields["Umsatz (ohne Soll/Haben-Kz)"] == "119,00"
    assert raw[0] == "119,00"  # a number: unquoted, decimal comma
    assert fields["Soll/Haben-Kennzeichen"] == "S"
    assert raw[1] == '"S"'
    assert fields["WKZ Umsatz"] == "EUR"
    assert fields["Konto"] == "10100"
    assert fields["Gegenkonto (ohne BU-Schlüssel)"] == "8400"
    assert fields["BU-Schlüssel"] == "3"
    assert raw[8] == '"3"'
    assert fields["Belegdatum"] == "1501"
    assert fields["Belegfeld 1"] == "AR-456/13"
    assert fields["Buchungstext"] == "Rechnung mit Skontogewährung"
    assert fields["Festschreibung"] == "0"
    others = {k: v for k, v in fields.items() if k not in {
        "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Konto",
        "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum", "Belegfeld 1",
        "Buchungstext", "Festschreibung"}}
    assert set(others.values()) == {""}


def test_optional_fields_are_empty_and_haben_is_written() -> None:
    fields = _parsed_row(_row(debit_credit="H", bu_key=None, document_field_1=None, text=None,
                              account="1200", contra_account="10100"))
    assert fields["Soll/Haben-Kennzeichen"] == "H"
    assert fields["BU-Schlüssel"] == fields["Belegfeld 1"] == fields["Buchungstext"] == ""


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("119"), "119,00"),
        (Decimal("0.01"), "0,01"),
        (Decimal("1234567.5"), "1234567,50"),
        (Decimal("1E+2"), "100,00"),
        (Decimal("9999999999.99"), "9999999999,99"),
    ],
)
def test_amounts_have_a_decimal_comma_and_no_thousands_separator(
    amount: Decimal, expected: str
) -> None:
    assert _parsed_row(_row(amount=amount))["Umsatz (ohne Soll/Haben-Kz)"] == expected


def test_belegdatum_is_ddmm() -> None:
    header = _header(date_to=date(2024, 12, 31))
    for day, expected in ((date(2024, 1, 1), "0101"), (date(2024, 12, 9), "0912")):
        _, _, rows = datev.read_extf(_export([_row(document_date=day)], header), "cp1252")
        assert rows[0][9] == expected


def test_beleglink_and_locked_batch() -> None:
    # Given a locked batch (Festschreibung) and a row with a DATEV document link
    link = 'BEDI "E0A08953-FBAA-4054-AF36-993D5D68F040"'
    data = _export([_row(document_link=link, locked=True)], _header(locked=True))
    header, _, rows = datev.read_extf(data, "cp1252")
    # Then header field 21 and the row's Festschreibung are 1, and the link's quotes are doubled
    assert header[20] == "1"
    assert rows[0][datev.COLUMN_HEADINGS.index("Festschreibung")] == "1"
    assert rows[0][datev.COLUMN_HEADINGS.index("Beleglink")] == link
    assert b'"BEDI ""E0A08953-FBAA-4054-AF36-993D5D68F040"""' in data


# --- encoding, quoting, truncation -----------------------------------------------------------


def test_umlauts_and_euro_are_windows_1252() -> None:
    data = _export([_row(text="Müller Straße Öl Ä € 5")])
    assert "Müller Straße Öl Ä € 5".encode("cp1252") in data
    assert b"M\xfcller Stra\xdfe \xd6l \xc4 \x80 5" in data
    assert "ü".encode() not in data  # not UTF-8
    # The heading row's umlauts are cp1252 too
    assert "Gegenkonto (ohne BU-Schlüssel)".encode("cp1252") in data


def test_characters_outside_windows_1252_are_replaced_not_raised() -> None:
    # Given text with characters cp1252 cannot hold
    text = "Zürich → Łódź ✓ 😀 ﬁnal Ελλάδα"
    # When exported
    fields = _parsed_row(_row(text=text))
    # Then they are replaced by readable stand-ins or "?", and cp1252 text is kept
    assert fields["Buchungstext"] == "Zürich -> Lódz ? ? final ??????"


def test_line_breaks_in_text_do_not_break_the_line() -> None:
    fields = _parsed_row(_row(text="Zeile 1\r\nZeile 2\tEnde"))
    assert fields["Buchungstext"] == "Zeile 1  Zeile 2 Ende"


def test_lines_end_with_crlf() -> None:
    data = _export([_row(), _row(amount=Decimal("5.00"))])
    assert data.endswith(b"\r\n")
    assert data.count(b"\n") == data.count(b"\r\n") == 4
    assert b"\r\r" not in data


def test_quotes_and_semicolons_in_text_are_quoted() -> None:
    # Given a Buchungstext with a double quote and a semicolon
    text = 'Miete "Halle 3"; Jan'
    data = _export([_row(text=text)])
    # Then the quote is doubled inside the quoted field and the semicolon stays in the field
    assert b'"Miete ""Halle 3""; Jan"' in data
    assert _parsed_row(_row(text=text))["Buchungstext"] == text
    _, headings, rows = datev.read_extf(data, "cp1252")
    assert len(rows[0]) == len(headings) == 125


def test_buchungstext_is_truncated_to_60_characters() -> None:
    text = "".join(str(i % 10) for i in range(75))
    assert _parsed_row(_row(text=text))["Buchungstext"] == text[:60]
    # A quote counts as one character even though it is written twice
    quoted = '"' * 70
    assert _parsed_row(_row(text=quoted))["Buchungstext"] == '"' * 60


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("AR-456/13", "AR-456/13"),
        ("Rg32029/2024", "Rg32029/2024"),
        ("RE 2024.001", "RE-2024-001"),
        ("Größe_1;2:3,4", "Groesse-1-2-3-4"),
        ("Café$%", "Cafe$%"),
        ("A" * 40, "A" * 36),
    ],
)
def test_belegfeld_1_is_sanitised_to_datevs_charset_and_36_chars(given: str, expected: str) -> None:
    assert datev.sanitize_document_field(given) == expected
    assert _parsed_row(_row(document_field_1=given))["Belegfeld 1"] == expected
    assert re.fullmatch(r"[A-Za-z0-9$%\-/]{0,36}", expected)


# --- row validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": Decimal("0")}, "greater than 0"),
        ({"amount": Decimal("-1.00")}, "greater than 0"),
        ({"amount": Decimal("1.005")}, "2 decimals"),
        ({"amount": Decimal("NaN")}, "finite"),
        ({"amount": Decimal("10000000000.00")}, "at most"),
        ({"debit_credit": "D"}, "debit_credit"),
        ({"account": "12a"}, "account"),
        ({"account": "0000"}, "account"),
        ({"contra_account": "1234567890"}, "contra_account"),
        ({"contra_account": "10100"}, "differ"),
        ({"bu_key": "12345"}, "bu_key"),
        ({"currency": "CHF"}, "EUR"),
        ({"document_link": "x" * 211}, "document_link"),
        ({"document_link": "https://example.org/Beleg→1"}, "document_link"),
    ],
)
def test_row_rejects_values_that_would_change_the_booking(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _row(**overrides)


def test_row_must_fit_the_header() -> None:
    # Belegdatum has no year: a row outside the batch period would land in the wrong year
    with pytest.raises(ValueError, match="outside the batch period"):
        _export([_row(document_date=date(2024, 9, 1))])
    # Personenkonten may be one digit longer than the Sachkontenlänge, not more
    with pytest.raises(ValueError, match="at most 5 digits"):
        _export([_row(account="101000")])
    # A row must not lock (or pretend to unlock) the batch behind the header's back
    with pytest.raises(ValueError, match="locked"):
        _export([_row(locked=True)])


# --- BU keys and file name -------------------------------------------------------------------


def test_bu_keys_are_datevs_classic_tax_keys() -> None:
    assert dict(datev.BU_KEYS) == {
        "USt19": "3", "USt7": "2", "VSt19": "9", "VSt7": "8", "RC19": "94", "IGE19": "19",
    }


def test_musterdatei_uses_the_same_keys_for_19_percent() -> None:
    # DATEV's own sample books Vorsteuer 19 % on expense accounts with "9" and USt 19 % with "3"
    _, headings, rows = datev.read_extf(_sample(MUSTER_V13), "utf-8")
    by_text = {r[headings.index("Buchungstext")]: r for r in rows}
    assert by_text["Schreibwaren"][headings.index("BU-Schlüssel")] == datev.BU_KEYS["VSt19"]
    ar = by_text["Aufteilung AR ohne Automatikkonto"]
    assert ar[headings.index("BU-Schlüssel")] == datev.BU_KEYS["USt19"]


def test_filename() -> None:
    header = _header(date_from=date(2024, 3, 1), date_to=date(2024, 3, 31))
    assert datev.extf_filename(header) == "EXTF_Buchungsstapel_20240301_20240331.csv"


# --- streaming -------------------------------------------------------------------------------


def test_100000_rows_stream_in_many_small_chunks() -> None:
    # Given a generator of 100 000 rows (never a list)
    count = 100_000
    header = _header(date_to=date(2024, 12, 31))

    def rows() -> Iterator[datev.DatevRow]:
        for i in range(count):
            yield datev.DatevRow(
                amount=Decimal(i % 5000 + 1) / 100, debit_credit="S" if i % 2 else "H",
                account="1200", contra_account=str(10000 + i % 90000),
                document_date=date(2024, 1, 1) + timedelta(days=i % 366),
                document_field_1=f"RE-{i}", text=f"Zahlung Rechnung {i} Müller", bu_key=None)

    # When the export is consumed chunk by chunk under tracemalloc
    tracemalloc.start()
    try:
        chunks = 0
        lines = 0
        largest = 0
        total = 0
        for chunk in datev.iter_extf(header, rows()):
            chunks += 1
            lines += chunk.count(b"\r\n")
            largest = max(largest, len(chunk))
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Then all lines arrive, in many chunks, and memory stays far below the file size
    assert lines == count + 2
    assert chunks >= count // datev.ROWS_PER_CHUNK
    assert largest < 1_000_000
    assert total > 20_000_000  # the file itself is bigger than the memory budget below
    assert peak < 20 * 1024 * 1024, f"peak {peak} bytes"


# --- reading the samples ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding", "category", "version", "columns"),
    [
        (MUSTER_V13, "utf-8", "21", "13", 125),
        (LEDERMANN_V9, "cp1252", "21", "9", 120),
        (OCA_V12, "utf-8", "22", "12", 122),  # category 22 is that exporter's quirk
    ],
)
def test_read_extf_reads_the_sample_files(
    name: str, encoding: str, category: str, version: str, columns: int
) -> None:
    # Given a real EXTF file / When read / Then header, headings and rows are consistent
    header, headings, rows = datev.read_extf(_sample(name), encoding)
    assert header[0] == "EXTF" and header[1] == "700"
    assert (header[2], header[3], header[4]) == (category, "Buchungsstapel", version)
    assert len(headings) == columns
    assert headings[:2] == ["Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen"]
    assert rows and all(len(r) == columns for r in rows)
    assert all(r[1] in {"S", "H"} for r in rows)


def test_our_output_reads_back_like_the_musterdatei() -> None:
    # Given our export of two rows and DATEV's sample
    ours_header, ours_headings, ours_rows = datev.read_extf(
        _export([_row(), replace(_row(), debit_credit="H", account="1200")]), "cp1252")
    muster_header, muster_headings, _ = datev.read_extf(_sample(MUSTER_V13), "utf-8")
    # Then the structure read back is the same
    assert ours_headings == muster_headings
    assert len(ours_header) == len(muster_header)
    assert [len(r) for r in ours_rows] == [125, 125]
