"""German online-banking CSV exports.

Supported layouts, recognised by their header row (never by the file name):

* ``sparkasse_camt``  Sparkasse "CSV-CAMT V2" and "CSV-CAMT V8" (same 17 columns; V8 only spells
  some Buchungstexte differently, so the two cannot and need not be told apart)
* ``sparkasse_mt940`` Sparkasse "CSV-MT940"
* ``dkb``             DKB since 2023 ("Buchungsdatum";"Wertstellung";"Status";...)
* ``dkb_legacy``      DKB before 2023 ("Buchungstag";...;"Auftraggeber / Begünstigter";...)
* ``ing``             ING "Umsatzanzeige"
* ``commerzbank``     Commerzbank "Umsätze"
* ``vr``              Volksbanken Raiffeisenbanken (Atruvia online banking)

Files come as UTF-8 with or without BOM, Windows-1252 or ISO-8859-1, with a preamble (account,
balance, period) before the header, semicolon-separated, with German numbers (``1.234,56``,
``-12,50``) and dates (``31.12.2024`` or ``31.12.24``). Rows the bank marks as pending
("vorgemerkt") are skipped like pending camt entries; a row that cannot be read becomes a
``RowError`` and never stops the others.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ledgerlou.formats.statement import (
    ParsedFile,
    RowError,
    Statement,
    StatementTransaction,
    UnsupportedFormat,
    checked_amount,
    clean_text,
    looks_like_bic,
    looks_like_iban,
)

FORMAT = "bankcsv"

_HEADER_SCAN_LINES = 60
_HEADER_SCAN_BYTES = 64 * 1024
_DEFAULT_CURRENCY = "EUR"  # every layout here is a German euro account unless a column says otherwise


@dataclass(frozen=True)
class _Dialect:
    name: str
    required: frozenset[str]
    # role -> normalised header names, first present wins. Roles: account, booking_date,
    # value_date, amount, currency, name, payer, payee, iban, bic, purpose, end_to_end_id,
    # mandate_id, creditor_id, status, balance.
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _dialect(dialect: str, required: str, /, **columns: str) -> _Dialect:
    # Positional-only: "name" is also a column role.
    return _Dialect(
        name=dialect,
        required=frozenset(required.split()),
        columns={role: tuple(names.split()) for role, names in columns.items()},
    )


# Header names are normalised by _norm(): lower case, umlauts spelled out, everything but letters
# and digits dropped ("Betrag (€)" -> "betrag", "Zahlungsempfänger*in" -> "zahlungsempfaengerin").
_DIALECTS = (
    _dialect(
        "sparkasse_camt",
        "auftragskonto buchungstag valutadatum buchungstext verwendungszweck glaeubigerid mandatsreferenz "
        "kundenreferenzendtoend beguenstigterzahlungspflichtiger kontonummeriban bicswiftcode betrag waehrung",
        account="auftragskonto", booking_date="buchungstag", value_date="valutadatum",
        purpose="verwendungszweck", creditor_id="glaeubigerid", mandate_id="mandatsreferenz",
        end_to_end_id="kundenreferenzendtoend", name="beguenstigterzahlungspflichtiger",
        iban="kontonummeriban", bic="bicswiftcode", amount="betrag", currency="waehrung", status="info",
    ),
    _dialect(
        "sparkasse_mt940",
        "auftragskonto buchungstag valutadatum buchungstext verwendungszweck beguenstigterzahlungspflichtiger "
        "kontonummer blz betrag waehrung",
        account="auftragskonto", booking_date="buchungstag", value_date="valutadatum",
        purpose="verwendungszweck", name="beguenstigterzahlungspflichtiger", iban="kontonummer", bic="blz",
        amount="betrag", currency="waehrung", status="info",
    ),
    _dialect(
        "vr",
        "ibanauftragskonto buchungstag valutadatum namezahlungsbeteiligter ibanzahlungsbeteiligter "
        "buchungstext verwendungszweck betrag waehrung",
        account="ibanauftragskonto", booking_date="buchungstag", value_date="valutadatum",
        name="namezahlungsbeteiligter", iban="ibanzahlungsbeteiligter",
        bic="bicswiftcodezahlungsbeteiligter biczahlungsbeteiligter", purpose="verwendungszweck",
        amount="betrag", currency="waehrung", balance="saldonachbuchung", creditor_id="glaeubigerid",
        mandate_id="mandatsreferenz",
    ),
    _dialect(
        "dkb",
        "buchungsdatum wertstellung status zahlungspflichtiger zahlungsempfaengerin verwendungszweck "
        "umsatztyp iban betrag",
        booking_date="buchungsdatum", value_date="wertstellung", status="status", payer="zahlungspflichtiger",
        payee="zahlungsempfaengerin", purpose="verwendungszweck", iban="iban", amount="betrag betrageur",
        creditor_id="glaeubigerid", mandate_id="mandatsreferenz", end_to_end_id="kundenreferenz",
    ),
    _dialect(
        "dkb_legacy",
        "buchungstag wertstellung buchungstext auftraggeberbeguenstigter verwendungszweck kontonummer blz betrageur",
        booking_date="buchungstag", value_date="wertstellung", name="auftraggeberbeguenstigter",
        purpose="verwendungszweck", iban="kontonummer", bic="blz", amount="betrageur",
        creditor_id="glaeubigerid", mandate_id="mandatsreferenz", end_to_end_id="kundenreferenz",
    ),
    _dialect(
        "commerzbank",
        "buchungstag wertstellung umsatzart buchungstext betrag waehrung ibankontoinhaber",
        account="ibankontoinhaber", booking_date="buchungstag", value_date="wertstellung",
        purpose="buchungstext", amount="betrag", currency="waehrung",
    ),
    _dialect(
        "ing",
        "buchung auftraggeberempfaenger buchungstext verwendungszweck betrag",
        booking_date="buchung", value_date="wertstellungsdatum valuta", name="auftraggeberempfaenger",
        purpose="verwendungszweck", amount="betrag", currency="waehrung", balance="saldo",
    ),
)

# References some banks only put into the free text (Commerzbank, VR): "EREF: x", "Mandatsref: x".
_TEXT_REFERENCES = {
    "end_to_end_id": re.compile(r"(?:\bEREF[:+]|End-to-End-Ref\.?:)\s*(\S+)", re.IGNORECASE),
    "mandate_id": re.compile(r"(?:\bMREF[:+]|Mandatsref(?:erenz)?\.?:)\s*(\S+)", re.IGNORECASE),
    "creditor_id": re.compile(r"(?:\bCRED[:+]|Gl(?:ä|ae)ubiger-ID:)\s*(\S+)", re.IGNORECASE),
}
_GERMAN_AMOUNT = re.compile(r"^(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")
_POINT_AMOUNT = re.compile(r"^\d+\.\d{1,2}$")
_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


class _BadRow(ValueError):
    pass


@dataclass(frozen=True)
class _Header:
    line: int
    delimiter: str
    dialect: _Dialect
    names: list[str]


@dataclass
class _Group:
    """Rows of one account (a Sparkasse export can hold several accounts)."""

    account: str | None
    rows: list[tuple[StatementTransaction, Decimal | None]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def sniff(data: bytes) -> bool:
    """True when the bytes start like one of the supported CSV exports."""
    head = data[:_HEADER_SCAN_BYTES]
    if len(data) > len(head) and b"\n" in head:
        # Cut at a line end: a cut inside a UTF-8 sequence would make the head look like cp1252.
        head = head[: head.rindex(b"\n")]
    return _find_header(_decode(head).split("\n")) is not None


def parse(data: bytes) -> ParsedFile:
    lines = _decode(data).split("\n")
    header = _find_header(lines)
    if header is None:
        raise UnsupportedFormat("no known bank CSV header row found")

    preamble = list(csv.reader(lines[: header.line], delimiter=header.delimiter))
    index = _column_index(header)
    width = len(header.names)

    groups: dict[str | None, _Group] = {}
    data_index = 0
    for row in csv.reader(io.StringIO("\n".join(lines[header.line + 1 :])), delimiter=header.delimiter):
        if not any(cell.strip() for cell in row):
            continue
        row_index, data_index = data_index, data_index + 1
        cells = [_cell(cell) for cell in row]
        account = _account_of(cells, index)
        group = groups.setdefault(account, _Group(account=account))
        try:
            parsed = _row(cells, width, index, header.dialect)
        except _BadRow as exc:
            group.errors.append(RowError(index=row_index, reason=str(exc)))
            continue
        if parsed is not None:
            group.rows.append(parsed)

    if not groups:
        groups[None] = _Group(account=None)
    fallback_account = _preamble_iban(preamble)
    balance = _preamble_balance(preamble)
    statements = [_statement(group, fallback_account, balance, len(groups) == 1) for group in groups.values()]
    return ParsedFile(format=FORMAT, statements=statements, dialect=header.dialect.name)


# --- file level ------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Windows-1252 is what German banking front ends write when not UTF-8; it is a superset
            # of ISO-8859-1 for every printable character, so it also reads Latin-1 files (ING).
            text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.strip().lower().translate(_UMLAUTS))


def _find_header(lines: list[str]) -> _Header | None:
    for number, line in enumerate(lines[:_HEADER_SCAN_LINES]):
        for delimiter in (";", "\t", ","):
            if delimiter not in line:
                continue
            cells = next(csv.reader([line], delimiter=delimiter), [])
            names = [_norm(cell) for cell in cells]
            present = set(names)
            for dialect in _DIALECTS:
                if dialect.required <= present:
                    return _Header(line=number, delimiter=delimiter, dialect=dialect, names=names)
    return None


def _column_index(header: _Header) -> dict[str, int]:
    index: dict[str, int] = {}
    for role, candidates in header.dialect.columns.items():
        for candidate in candidates:
            if candidate in header.names:
                index[role] = header.names.index(candidate)
                break
    amount = index.get("amount")
    if amount is not None and amount + 1 < len(header.names) and header.names[amount + 1] == "waehrung":
        # ING repeats "Währung" after "Saldo" and after "Betrag"; the amount's is the one next to it.
        index["currency"] = amount + 1
    return index


def _cell(value: str) -> str:
    value = value.strip()
    if value.count('"') % 2:
        # A lone quote is a quoting slip in the export (DKB: `;Firma";`), not part of the value.
        value = value.strip('"').strip()
    return value


# --- row level -------------------------------------------------------------------------------


def _get(cells: list[str], index: dict[str, int], role: str) -> str | None:
    position = index.get(role)
    if position is None or position >= len(cells):
        return None
    return cells[position] or None


def _account_of(cells: list[str], index: dict[str, int]) -> str | None:
    value = _get(cells, index, "account")
    if value is None:
        return None
    compact = value.replace(" ", "").upper()
    return compact if looks_like_iban(compact) else value


def _row(
    cells: list[str], width: int, index: dict[str, int], dialect: _Dialect
) -> tuple[StatementTransaction, Decimal | None] | None:
    if len(cells) < width:
        raise _BadRow(f"row has {len(cells)} fields, the header has {width}")
    if any(cells[width:]):
        raise _BadRow(f"row has {len(cells)} fields, the header has {width}")

    status = (_get(cells, index, "status") or "").lower()
    if "vorgemerkt" in status or status == "pending":
        return None

    booking = _date(_get(cells, index, "booking_date"), "booking date")
    if booking is None:
        raise _BadRow("booking date is empty")
    value_date = _date(_get(cells, index, "value_date"), "value date")
    raw_amount = _get(cells, index, "amount")
    if raw_amount is None:
        raise _BadRow("amount is empty")
    amount = _amount(raw_amount)
    currency = (_get(cells, index, "currency") or _DEFAULT_CURRENCY).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise _BadRow(f"invalid currency {currency!r}")
    raw_balance = _get(cells, index, "balance")
    balance = _amount(raw_balance) if raw_balance else None

    purpose = clean_text(_get(cells, index, "purpose"))
    name = _get(cells, index, "name")
    if name is None and ("payer" in index or "payee" in index):
        # DKB names both sides; the counterparty is whoever is not us.
        name = _get(cells, index, "payee" if amount < 0 else "payer")

    references = {
        role: _reference(_get(cells, index, role)) or _from_text(purpose, role) for role in _TEXT_REFERENCES
    }
    iban = (_get(cells, index, "iban") or "").replace(" ", "").upper()
    bic = (_get(cells, index, "bic") or "").strip().upper()
    transaction = StatementTransaction(
        booking_date=booking,
        value_date=value_date,
        amount=amount,
        currency=currency,
        counterparty_name=clean_text(name),
        counterparty_iban=iban if looks_like_iban(iban) else None,
        counterparty_bic=bic if looks_like_bic(bic) else None,
        purpose=purpose,
        end_to_end_id=references["end_to_end_id"],
        mandate_id=references["mandate_id"],
        creditor_id=references["creditor_id"],
        bank_reference=None,
    )
    return transaction, balance


def _reference(value: str | None) -> str | None:
    if value is None or value.upper() in ("NOTPROVIDED", "NONREF"):
        return None
    return value


def _from_text(purpose: str | None, role: str) -> str | None:
    if not purpose:
        return None
    match = _TEXT_REFERENCES[role].search(purpose)
    return _reference(match.group(1)) if match else None


def _amount(text: str) -> Decimal:
    value = text.replace("\u00a0", "").replace(" ", "").replace("€", "")
    value = re.sub(r"(?i)eur$", "", value)
    negative = False
    if value.endswith("-"):  # trailing minus, as in "9,90-"
        negative, value = True, value[:-1]
    if value and value[0] in "+-":
        negative, value = (value[0] == "-") != negative, value[1:]
    if _GERMAN_AMOUNT.match(value):
        number = Decimal(value.replace(".", "").replace(",", "."))
    elif _POINT_AMOUNT.match(value):
        number = Decimal(value)  # a decimal point with at most two places cannot be thousands
    else:
        raise _BadRow(f"invalid amount {text!r}")
    try:
        checked_amount(number)
    except ValueError as exc:
        raise _BadRow(str(exc)) from None
    return -number if negative else number


def _date(text: str | None, what: str) -> date | None:
    if not text:
        return None
    match = _DATE.fullmatch(text.strip())
    try:
        if match:
            day, month, year = (int(part) for part in match.groups())
            if len(match.group(3)) == 2:
                year += 2000 if year < 80 else 1900
            return date(year, month, day)
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _BadRow(f"invalid {what} {text!r}") from None


# --- statement level -------------------------------------------------------------------------


def _preamble_iban(preamble: list[list[str]]) -> str | None:
    for row in preamble:
        for cell in row:
            candidates = [cell.replace(" ", ""), *cell.split()]
            for candidate in candidates:
                if looks_like_iban(candidate.upper()):
                    return candidate.upper()
    return None


def _preamble_balance(preamble: list[list[str]]) -> tuple[Decimal, date | None] | None:
    """ "Kontostand vom 09.12.2025:";"4.093,32 €" (DKB) or "Saldo;1.234,56;EUR" (ING)."""
    for row in preamble:
        cells = [cell.strip() for cell in row if cell.strip()]
        if len(cells) < 2:
            continue
        label = _norm(cells[0])
        if label.startswith("kontostand") or label == "saldo":
            try:
                amount = _amount(cells[1])
            except _BadRow:
                continue
            match = _DATE.search(cells[0])
            when = None
            if match:
                try:
                    when = _date(match.group(0), "balance date")
                except _BadRow:
                    when = None
            return amount, when
    return None


def _statement(
    group: _Group, fallback_account: str | None, stated: tuple[Decimal, date | None] | None, only: bool
) -> Statement:
    transactions = [transaction for transaction, _ in group.rows]
    opening = closing = None
    opening_date = closing_date = None

    balances = [balance for _, balance in group.rows]
    if transactions and all(balance is not None for balance in balances):
        opening, closing, opening_date, closing_date = _running_balances(group.rows)
    elif stated is not None and only:
        # A balance in the preamble belongs to the file's single account.
        closing, closing_date = stated

    account = group.account or (fallback_account if only else None)
    iban = account if account and looks_like_iban(account) else None
    return Statement(
        account_iban=iban,
        account_number=None if iban else account,
        currency=transactions[0].currency if transactions else _DEFAULT_CURRENCY,
        statement_id=None,
        opening_balance=opening,
        closing_balance=closing,
        opening_date=opening_date,
        closing_date=closing_date,
        transactions=transactions,
        row_errors=group.errors,
    )


def _running_balances(
    rows: list[tuple[StatementTransaction, Decimal | None]],
) -> tuple[Decimal, Decimal, date, date]:
    """Opening and closing balance from a "balance after booking" column.

    Exports list rows newest first or oldest first. The chain balance[i] = balance[i-1] + amount[i]
    tells which; when it holds neither way the dates decide, and balance_check() then reports it.
    """
    amounts = [transaction.amount for transaction, _ in rows]
    balances = [balance if balance is not None else Decimal(0) for _, balance in rows]
    pairs = range(1, len(rows))
    ascending = all(balances[i] == balances[i - 1] + amounts[i] for i in pairs)
    descending = all(balances[i - 1] == balances[i] + amounts[i - 1] for i in pairs)
    if ascending == descending:  # both (single row / all zero) or neither: go by the dates
        descending = rows[0][0].booking_date > rows[-1][0].booking_date
    if descending:
        first, last = len(rows) - 1, 0
    else:
        first, last = 0, len(rows) - 1
    return (
        balances[first] - amounts[first],
        balances[last],
        rows[first][0].booking_date,
        rows[last][0].booking_date,
    )
