"""DATEV-Format (EXTF) "Buchungsstapel" writer — pure, stdlib only, streaming.

Format: header version 700, format category 21, format name "Buchungsstapel", format version 13,
i.e. the layout of DATEV's own published Musterdatei (developer.datev.de → DATEV-Format →
Header / Buchungsstapel): one 31-field header line, one 125-field column-heading line, then one
line per booking. Windows-1252, CRLF, ";" as separator, text fields always in double quotes
(an empty text field is ``""``, an empty number field is empty), decimal comma.

Tax advisors open these files in Excel, so no text cell may start like a formula (OWASP "CSV
Injection"): ``neutralise_formula`` prefixes such free text with ``'``, Belegfeld 1 (whose DATEV
charset has no quote) loses its leading "-", a Beleglink starting like one is refused. Numbers
(Umsatz is unsigned, direction in Soll/Haben) are never touched.

The writer never loads the whole batch: ``iter_extf`` pulls rows from any iterable and yields
encoded chunks of ``ROWS_PER_CHUNK`` lines, so a 100 000-row export streams in constant memory.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Final, Literal

ENCODING: Final = "cp1252"
SEPARATOR: Final = ";"
LINE_END: Final = "\r\n"

HEADER_VERSION: Final = 700
FORMAT_CATEGORY: Final = 21
FORMAT_NAME: Final = "Buchungsstapel"
FORMAT_VERSION: Final = 13
HEADER_FIELD_COUNT: Final = 31

# A few hundred lines per chunk: large enough that the per-chunk overhead (encode, yield, a
# network write in the caller) is negligible, small enough that a chunk is only ~100 KB.
ROWS_PER_CHUNK: Final = 500

TEXT_MAX_LEN: Final = 60  # Buchungstext, field 14
DOCUMENT_FIELD_MAX_LEN: Final = 36  # Belegfeld 1, field 11
DOCUMENT_LINK_MAX_LEN: Final = 210  # Beleglink, field 20
LABEL_MAX_LEN: Final = 30  # header field 17, Bezeichnung
CREATED_BY_MAX_LEN: Final = 25  # header field 9, Exportiert von
APPLICATION_INFO_MAX_LEN: Final = 16  # header field 31, Anwendungsinformation
MAX_AMOUNT: Final = Decimal("9999999999.99")  # field 1: ^\d{1,10},\d{2}$

_CENT: Final = Decimal("0.01")

# Tax code (ledgerlou.domain.tax_codes.SYSTEM_TAX_CODES) → DATEV BU-Schlüssel (Steuerschlüssel).
# These are DATEV's classic one/two-digit keys, which DATEV keeps valid next to the 3/4-digit
# keys introduced with Buchungsjahr 2018 (DATEV Hilfe Dok.-Nr. 9247333; key list for SKR03/04
# in DATEV Dok.-Nr. 1005015 "Steuerschlüssel/Umsatzsteuerschlüssel"):
#   3  = Umsatzsteuer 19 %          2  = Umsatzsteuer 7 %
#   9  = Vorsteuer 19 %             8  = Vorsteuer 7 %
#   94 = § 13b UStG, 19 % Vorsteuer und 19 % Umsatzsteuer (Leistungsempfänger schuldet)
#   19 = innergemeinschaftlicher Erwerb § 1a UStG, 19 % Vorsteuer und 19 % Umsatzsteuer
# "3" and "9" are also what the official Musterdatei uses (USt 19 % on 8050, VSt 19 % on
# 4930/4530). A BU key must not be set on a DATEV "Automatikkonto" (e.g. SKR03 8400/3400),
# whose tax DATEV derives itself — choosing when to send the key is the caller's job.
BU_KEYS: Final[Mapping[str, str]] = MappingProxyType({
    "USt19": "3",
    "USt7": "2",
    "VSt19": "9",
    "VSt7": "8",
    "RC19": "94",
    "IGE19": "19",
})

# Column headings of the format-version-13 Buchungsstapel, spelled exactly as in DATEV's
# Musterdatei (including its inconsistent "Zusatzinformation- Inhalt" without a space).
COLUMN_HEADINGS: Final[tuple[str, ...]] = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *(f"Beleginfo - {kind} {n}" for n in range(1, 9) for kind in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    *(
        heading
        for n in range(1, 21)
        for heading in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")
    ),
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Land u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
)

# 1-based numbers of the columns DATEV types as "Text" (its expression is ^["]…["]$). DATEV
# wants even an empty text field as "" while an empty number/date field stays empty, so every
# line carries this pattern. Where the Musterdatei is self-consistent it agrees with this list.
TEXT_COLUMNS: Final[frozenset[int]] = frozenset({
    2, 3, 6, 9, 11, 12, 14, 16, 20, *range(21, 37), 37, 38, 40, 42, *range(48, 88),
    91, 95, 96, 98, 102, 103, 105, 107, 109, 110, 112, 118, 120, 121, 123,
})

# 0-based positions of the columns this writer fills.
_COL_AMOUNT: Final = 0
_COL_DEBIT_CREDIT: Final = 1
_COL_CURRENCY: Final = 2
_COL_ACCOUNT: Final = 6
_COL_CONTRA_ACCOUNT: Final = 7
_COL_BU_KEY: Final = 8
_COL_DOCUMENT_DATE: Final = 9
_COL_DOCUMENT_FIELD_1: Final = 10
_COL_TEXT: Final = 13
_COL_DOCUMENT_LINK: Final = 19
_COL_LOCKED: Final = COLUMN_HEADINGS.index("Festschreibung")

_EMPTY_ROW: Final[tuple[str, ...]] = tuple(
    '""' if number in TEXT_COLUMNS else "" for number in range(1, len(COLUMN_HEADINGS) + 1)
)

_ACCOUNT_RE: Final = re.compile(r"[0-9]{1,9}")
_BU_KEY_RE: Final = re.compile(r"[0-9]{1,4}")
_ORIGIN_RE: Final = re.compile(r"[A-Z]{2}")
_INITIALS_RE: Final = re.compile(r"[A-Z]{2}")
_SKR_RE: Final = re.compile(r"[0-9]{2}")
# DATEV's expression for Belegfeld 1 is ^["][\w$%\-\/]{0,36}["]$ and its prose allows the
# special characters $ & % * + - / and forbids spaces, umlauts, ".", ",", ";" and ":". We keep
# only what both allow: ASCII letters and digits plus $ % - /.
_DOCUMENT_FIELD_FORBIDDEN_RE: Final = re.compile(r"[^A-Za-z0-9$%\-/]")
_DOCUMENT_FIELD_ALLOWED_RE: Final = re.compile(r"[A-Za-z0-9$%\-/]*")
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")

# OWASP "CSV Injection": Excel, LibreOffice and Google Sheets run a cell starting with one of these as a
# formula (=HYPERLINK(…), -2+3, @SUM(…), +cmd|…); TAB and CR before one do not stop them, nor do blanks.
FORMULA_TRIGGERS: Final = frozenset("=+-@")
FORMULA_ESCAPE: Final = "'"  # the spreadsheets' own "this is text" mark, and valid in DATEV's text fields

# Characters that are not in Windows-1252 and that neither NFKC nor stripping accents turns
# into something readable; everything else unrepresentable becomes "?".
_CP1252_FALLBACKS: Final[Mapping[str, str]] = MappingProxyType({
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "\u0131": "i",  # dotless i
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2212": "-",  # hyphens and minus
    "\u2032": "'", "\u2033": '"', "\u2192": "->", "\u2190": "<-", "\u2264": "<=", "\u2265": ">=",
})


@dataclass(frozen=True)
class DatevHeader:
    """The batch-level data of the 31-field EXTF header (fields in DATEV order in ``iter_extf``).

    ``created_at`` is written as given (YYYYMMDDHHMMSSmmm); pass German local time, which is
    what DATEV shows. All dates of a batch must lie in one fiscal year because DATEV derives
    the year of every DDMM Belegdatum from ``fiscal_year_start``.
    """

    consultant_number: int  # Beraternummer
    client_number: int  # Mandantennummer
    fiscal_year_start: date  # WJ-Beginn
    account_length: int  # Sachkontenlänge
    date_from: date  # Datum vom
    date_to: date  # Datum bis
    label: str  # Bezeichnung des Stapels
    created_at: datetime  # Erzeugt am
    locked: bool  # Festschreibung
    currency: str = "EUR"  # WKZ
    origin: str = "RE"  # Herkunft (DATEV replaces it with "SV" on import)
    created_by: str | None = None  # Exportiert von
    initials: str | None = None  # Diktatkürzel
    skr: str | None = None  # Sachkontenrahmen, "03" or "04"
    application_info: str | None = None  # Anwendungsinformation

    def __post_init__(self) -> None:
        _require(1001 <= self.consultant_number <= 9_999_999,
                 "consultant_number must be between 1001 and 9999999")
        _require(1 <= self.client_number <= 99_999, "client_number must be between 1 and 99999")
        _require(4 <= self.account_length <= 8, "account_length must be between 4 and 8")
        _require(self.date_from <= self.date_to, "date_from must not be after date_to")
        _require(self.fiscal_year_start <= self.date_from and _before_next_fiscal_year(self.date_to,
                                                                                      self.fiscal_year_start),
                 "date_from and date_to must lie in the fiscal year starting fiscal_year_start")
        _require(len(self.label) <= LABEL_MAX_LEN, f"label must be at most {LABEL_MAX_LEN} chars")
        _require(self.currency == "EUR", "only EUR is supported")
        _require(_ORIGIN_RE.fullmatch(self.origin) is not None,
                 "origin must be two upper-case letters")
        _require(self.created_by is None or len(self.created_by) <= CREATED_BY_MAX_LEN,
                 f"created_by must be at most {CREATED_BY_MAX_LEN} chars")
        _require(self.initials is None or _INITIALS_RE.fullmatch(self.initials) is not None,
                 "initials must be two upper-case letters")
        _require(self.skr is None or _SKR_RE.fullmatch(self.skr) is not None,
                 "skr must be two digits, e.g. '03'")
        _require(self.application_info is None
                 or len(self.application_info) <= APPLICATION_INFO_MAX_LEN,
                 f"application_info must be at most {APPLICATION_INFO_MAX_LEN} chars")


@dataclass(frozen=True)
class DatevRow:
    """One booking line. ``debit_credit`` refers to ``account`` (DATEV field 2 relates to 7).

    ``document_field_1`` and ``text`` are taken as they come and made DATEV-safe on output
    (``sanitize_document_field``, cp1252 replacement, truncation) because they are user data;
    everything else is validated here, since a wrong value would change the booking.
    """

    amount: Decimal  # Umsatz, > 0, at most 2 decimals
    debit_credit: Literal["S", "H"]
    account: str  # Konto
    contra_account: str  # Gegenkonto (ohne BU-Schlüssel)
    document_date: date  # Belegdatum
    bu_key: str | None = None  # BU-Schlüssel
    document_field_1: str | None = None  # Belegfeld 1 (Rechnungsnummer, OPOS key)
    text: str | None = None  # Buchungstext
    currency: str = "EUR"  # WKZ Umsatz
    document_link: str | None = None  # Beleglink, e.g. 'BEDI "<GUID>"' or a URL
    locked: bool | None = None  # Festschreibung; None = same as the header

    def __post_init__(self) -> None:
        _require(isinstance(self.amount, Decimal) and self.amount.is_finite(),
                 "amount must be a finite Decimal")
        _require(self.amount > 0, "amount must be greater than 0 (direction is debit_credit)")
        _require(self.amount == self.amount.quantize(_CENT), "amount must have at most 2 decimals")
        _require(self.amount <= MAX_AMOUNT, "amount must be at most 9999999999.99")
        _require(self.debit_credit in ("S", "H"), "debit_credit must be 'S' or 'H'")
        for name, number in (("account", self.account), ("contra_account", self.contra_account)):
            _require(_ACCOUNT_RE.fullmatch(number) is not None and number.strip("0") != "",
                     f"{name} must be 1-9 digits and not zero")
        _require(self.account != self.contra_account, "account and contra_account must differ")
        _require(self.bu_key is None or _BU_KEY_RE.fullmatch(self.bu_key) is not None,
                 "bu_key must be 1-4 digits")
        _require(self.currency == "EUR", "only EUR is supported")
        if self.document_link is not None:
            # A link is an address: truncating or replacing characters would silently break
            # it, so unlike the free texts it is rejected instead of repaired.
            _require(len(self.document_link) <= DOCUMENT_LINK_MAX_LEN,
                     f"document_link must be at most {DOCUMENT_LINK_MAX_LEN} chars")
            printable = _CONTROL_RE.search(self.document_link) is None
            _require(printable and _encodable(self.document_link),
                     "document_link must be printable Windows-1252 (percent-encode URLs)")
            _require(self.document_link.lstrip()[:1] not in FORMULA_TRIGGERS,
                     "document_link must not start with = + - @ (a spreadsheet would run it as a formula)")


def iter_extf(header: DatevHeader, rows: Iterable[DatevRow]) -> Iterator[bytes]:
    """Yield the EXTF file as cp1252 chunks: header + headings, then ROWS_PER_CHUNK lines each.

    Rows are validated against the header as they stream (Belegdatum inside date_from..date_to,
    account length, Festschreibung); a ValueError therefore can come after earlier chunks were
    already yielded — callers that need all-or-nothing must buffer or pre-validate.
    """
    yield (_header_line(header) + _line(COLUMN_HEADINGS)).encode(ENCODING)
    buffer: list[str] = []
    for row in rows:
        buffer.append(_row_line(header, row))
        if len(buffer) >= ROWS_PER_CHUNK:
            yield "".join(buffer).encode(ENCODING)
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode(ENCODING)


def extf_filename(header: DatevHeader) -> str:
    """DATEV imports files named EXTF_*.csv; the period makes monthly batches distinguishable."""
    return f"EXTF_{FORMAT_NAME}_{_yyyymmdd(header.date_from)}_{_yyyymmdd(header.date_to)}.csv"


def read_extf(data: bytes, encoding: str) -> tuple[list[str], list[str], list[list[str]]]:
    """Parse an EXTF file into (header fields, column headings, rows), quotes removed.

    Accepts CRLF or LF and a UTF-8 BOM; blank lines are skipped. Meant for tests and for
    checking our own output, not as a validating DATEV importer.
    """
    text = data.decode(encoding)
    text = text.removeprefix("\ufeff")
    records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=SEPARATOR) if r]
    if len(records) < 2:
        raise ValueError("an EXTF file needs a header line and a column-heading line")
    return records[0], records[1], records[2:]


def sanitize_document_field(value: str) -> str:
    """Belegfeld 1 as DATEV accepts it; deterministic, so an invoice and its payment still match.

    Umlauts/accents are transliterated, every other forbidden character becomes "-", and the
    result is cut to 36 characters (DATEV would reject a longer or dirtier value). Leading "-" are
    dropped: after the charset they are the only formula trigger left (= + @ and blanks became "-"),
    and DATEV's charset has no ``'`` to neutralise them with (see ``neutralise_formula``).
    """
    if not _DOCUMENT_FIELD_ALLOWED_RE.fullmatch(value):  # typical invoice numbers need no mapping
        value = _DOCUMENT_FIELD_FORBIDDEN_RE.sub("-", _transliterate(value))
    return value.lstrip("-")[:DOCUMENT_FIELD_MAX_LEN]


def neutralise_formula(value: str, max_len: int) -> str:
    """``value`` as a text cell no spreadsheet runs as a formula, at most ``max_len`` characters.

    A value whose first character is TAB or CR, or whose first non-blank character is = + - @, gets a
    leading ``'``; the cut to ``max_len`` counts the prefix, so it never pushes a field past DATEV's
    length. Anything else (also a value that already starts with ``'``) is only cut: the function is
    idempotent. Run it on what is written, i.e. after ``to_cp1252_text``: that maps full-width ＝＋－＠
    and U+2212 MINUS to the ASCII triggers and TAB/CR to blanks, which this then catches.
    """
    if value[:1] in ("\t", "\r") or value.lstrip()[:1] in FORMULA_TRIGGERS:
        value = FORMULA_ESCAPE + value
    return value[:max_len]


def to_cp1252_text(value: str) -> str:
    """Make free text safe for a quoted cp1252 field: no line breaks, nothing unencodable."""
    value = _CONTROL_RE.sub(" ", value)
    if _encodable(value):  # fast path: almost all German text is plain cp1252
        return value
    return "".join(_cp1252_char(ch) for ch in value)


# --- internals -------------------------------------------------------------------------------


def _header_line(h: DatevHeader) -> str:
    millis = h.created_at.microsecond // 1000
    fields = (
        _quote("EXTF"),  # 1 Kennzeichen (EXTF = from a third-party program)
        str(HEADER_VERSION),  # 2 Versionsnummer
        str(FORMAT_CATEGORY),  # 3 Formatkategorie
        _quote(FORMAT_NAME),  # 4 Formatname
        str(FORMAT_VERSION),  # 5 Formatversion
        f"{h.created_at:%Y%m%d%H%M%S}{millis:03d}",  # 6 Erzeugt am
        "",  # 7 Importiert (filled by DATEV)
        _quote(h.origin),  # 8 Herkunft
        _text(h.created_by, CREATED_BY_MAX_LEN),  # 9 Exportiert von
        _quote(""),  # 10 Importiert von (filled by DATEV)
        str(h.consultant_number),  # 11 Beraternummer
        str(h.client_number),  # 12 Mandantennummer
        _yyyymmdd(h.fiscal_year_start),  # 13 WJ-Beginn
        str(h.account_length),  # 14 Sachkontenlänge
        _yyyymmdd(h.date_from),  # 15 Datum vom
        _yyyymmdd(h.date_to),  # 16 Datum bis
        _text(h.label, LABEL_MAX_LEN),  # 17 Bezeichnung
        _quote(h.initials or ""),  # 18 Diktatkürzel
        "1",  # 19 Buchungstyp: 1 = Finanzbuchführung
        "0",  # 20 Rechnungslegungszweck: 0 = unabhängig
        "1" if h.locked else "0",  # 21 Festschreibung
        _quote(h.currency),  # 22 WKZ
        "",  # 23 reserviert
        _quote(""),  # 24 Derivatskennzeichen
        "",  # 25 reserviert
        "",  # 26 reserviert
        _quote(h.skr or ""),  # 27 SKR
        "",  # 28 Branchen-Lösungs-ID
        "",  # 29 reserviert
        _quote(""),  # 30 reserviert
        _text(h.application_info, APPLICATION_INFO_MAX_LEN),  # 31 Anwendungsinformation
    )
    assert len(fields) == HEADER_FIELD_COUNT
    return _line(fields)


def _row_line(h: DatevHeader, row: DatevRow) -> str:
    _require(h.date_from <= row.document_date <= h.date_to,
             f"document_date {row.document_date} outside the batch period "
             f"{h.date_from}..{h.date_to} (DATEV takes the year from the header)")
    # Personenkonten may be one digit longer than Sachkonten; longer numbers DATEV rejects.
    _require(len(row.account) <= h.account_length + 1
             and len(row.contra_account) <= h.account_length + 1,
             f"account numbers must have at most {h.account_length + 1} digits")
    # Festschreibung is per batch in DATEV: a single row with 1 locks the whole batch, so a
    # row that disagrees with the header would silently change (or not change) the batch.
    _require(row.locked is None or row.locked == h.locked,
             "row.locked must match header.locked (DATEV locks whole batches)")

    fields = list(_EMPTY_ROW)
    fields[_COL_AMOUNT] = _format_amount(row.amount)
    fields[_COL_DEBIT_CREDIT] = _quote(row.debit_credit)
    fields[_COL_CURRENCY] = _quote(row.currency)
    fields[_COL_ACCOUNT] = row.account
    fields[_COL_CONTRA_ACCOUNT] = row.contra_account
    fields[_COL_BU_KEY] = _quote(row.bu_key or "")
    fields[_COL_DOCUMENT_DATE] = f"{row.document_date.day:02d}{row.document_date.month:02d}"
    fields[_COL_DOCUMENT_FIELD_1] = _quote(sanitize_document_field(row.document_field_1 or ""))
    fields[_COL_TEXT] = _text(row.text, TEXT_MAX_LEN)
    fields[_COL_DOCUMENT_LINK] = _quote(row.document_link or "")
    # Written explicitly: an empty Festschreibung means "lock" in current DATEV versions.
    fields[_COL_LOCKED] = "1" if h.locked else "0"
    return _line(fields)


def _format_amount(amount: Decimal) -> str:
    # Fixed-point with exactly two decimals, decimal comma, no thousands separator: "119,00".
    return f"{amount.quantize(_CENT):f}".replace(".", ",")


def _text(value: str | None, max_len: int) -> str:
    """A free-text field: cp1252-safe, formula-neutralised, at most ``max_len`` characters, quoted."""
    return _quote(neutralise_formula(to_cp1252_text(value or ""), max_len))


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _line(fields: Iterable[str]) -> str:
    return SEPARATOR.join(fields) + LINE_END


def _encodable(value: str) -> bool:
    try:
        value.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=4096)
def _cp1252_char(ch: str) -> str:
    """Best readable cp1252 stand-in for one character: itself, a known fallback, its NFKC form
    (ligatures, full-width forms), its accent-stripped base letter, or "?"."""
    if _encodable(ch):
        return ch
    if ch in _CP1252_FALLBACKS:
        return _CP1252_FALLBACKS[ch]
    compatible = unicodedata.normalize("NFKC", ch)
    if compatible != ch and _encodable(compatible):
        return compatible
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and base != ch and _encodable(base):
        return base
    return "?"


_GERMAN_TRANSLITERATION: Final = str.maketrans({
    "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "ss",
})


def _transliterate(value: str) -> str:
    value = value.translate(_GERMAN_TRANSLITERATION)
    value = "".join(_CP1252_FALLBACKS.get(ch, ch) for ch in value)
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _yyyymmdd(day: date) -> str:
    """YYYYMMDD with a 4-digit year: strftime's %Y drops the zeros of years before 1000 on glibc
    ("10101" for 0001-01-01), which no EXTF reader takes as a date."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _before_next_fiscal_year(day: date, fiscal_year_start: date) -> bool:
    """day < fiscal_year_start + 1 year, compared as (year, month, day) tuples: the next fiscal year of
    9999 is not a ``date`` (building it raised ValueError, a 500 on the DATEV export of 9999). Fiscal
    years start on the first of a month; a 29 February start would end on 28 February of the next year."""
    nxt = (fiscal_year_start.year + 1, fiscal_year_start.month, fiscal_year_start.day)
    return (day.year, day.month, day.day) < nxt


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
