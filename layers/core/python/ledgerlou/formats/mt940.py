"""SWIFT MT940 reader with the German (DK / DFÜ-Abkommen) structured ``:86:`` field.

The ``mt940`` package (mt-940 on PyPI) supplies the ``:61:`` statement-line grammar, which is the
fiddly part (optional entry date, funds code, reference lengths). Splitting the file into
statements and tags is done here, because the package's own collection logic attaches a trailing
statement-level ``:86:`` to the last transaction and merges ``:61:`` lines without a type code into
their predecessor, and a bookkeeping import cannot afford either.

German ``:86:`` layout: ``GVC?00Buchungstext?10Primanota?20..?29 Verwendungszweck?30 BLZ/BIC
?31 Konto/IBAN?32..?33 Name?34 Textschlüsselergänzung?60..?63 Verwendungszweck``; inside the
Verwendungszweck, SEPA keys (``EREF+``, ``MREF+``, ``CRED+``, ``SVWZ+`` ...) carry the references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import mt940.tags

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

FORMAT = "mt940"

# A tag starts a line: ":20:", ":28C:", ":60F:", ":NS:".
_TAG = re.compile(r"^:(?P<tag>[0-9]{2}[A-Z]?|NS):", re.MULTILINE)
# Lines that are not content: the "-" statement terminator, "-}" and SWIFT {1:..}{2:..}{5:..} blocks.
_SEPARATOR = re.compile(r"^(?:-\}?|\}|\{.*)$")
_STATEMENT_LINE = re.compile(mt940.tags.Statement.pattern, mt940.tags.Tag.RE_FLAGS)
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>\d[\d,]*)", re.IGNORECASE)
_AMOUNT = re.compile(r"^\d+(?:,\d*)?$")
_STRUCTURED_86 = re.compile(r"^(?P<gvc>\d{3})\?(?=\d{2})")
_SUBFIELD = re.compile(r"\?(\d{2})")
# SEPA keys of the DK "Verwendungszweck" (Anlage 3 DFÜ-Abkommen); values run to the next key.
_SEPA_KEYS = ("EREF", "KREF", "MREF", "CRED", "DEBT", "COAM", "OAMT", "SVWZ", "ABWA", "ABWE", "IBAN", "BIC",
              "PURP", "RREF", "BREF", "DDAT")
_SEPA_KEY = re.compile(r"(?P<key>" + "|".join(_SEPA_KEYS) + r")\+")


def parse(data: bytes) -> ParsedFile:
    text = _decode(data)
    statements = [_statement(block) for block in _blocks(text)]
    if not statements:
        raise UnsupportedFormat("no MT940 statement (:20: ... :61:/:62:) found")
    return ParsedFile(format=FORMAT, statements=statements)


def _decode(data: bytes) -> str:
    data = data.removeprefix(b"\xef\xbb\xbf")
    # Banks export UTF-8 or a Windows code page; cp1252 leaves five bytes undefined, latin-1 none.
    text: str | None = None
    for encoding in ("utf-8", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- tokenising ------------------------------------------------------------------------------


def _tags(text: str) -> list[tuple[str, list[str]]]:
    """(tag, content lines) in file order; junk before the first tag and separators dropped."""
    result: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        stripped = line.strip()
        match = _TAG.match(line.lstrip())
        if match:
            # Trailing blanks are kept: a :86: line wrapped at 65 characters may end in a real space.
            result.append((match.group("tag").upper(), [line.lstrip()[match.end():]]))
        elif _SEPARATOR.match(stripped):
            # Closes the current tag: whatever follows until the next tag is not its content.
            if result:
                result.append(("-", []))
        elif result and stripped and result[-1][0] != "-":
            result[-1][1].append(line)
    return [(tag, lines) for tag, lines in result if tag != "-"]


def _blocks(text: str) -> list[list[tuple[str, list[str]]]]:
    """Group tags into statements; every :20: opens a new one."""
    blocks: list[list[tuple[str, list[str]]]] = []
    for tag, lines in _tags(text):
        if tag == "20":
            blocks.append([])
        if blocks:
            blocks[-1].append((tag, lines))
    return blocks


# --- statement -------------------------------------------------------------------------------


@dataclass
class _Line:
    index: int
    raw: str
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Balance:
    amount: Decimal
    when: date
    currency: str


def _statement(block: list[tuple[str, list[str]]]) -> Statement:
    reference: str | None = None
    account: str | None = None
    number: str | None = None
    opening: _Balance | None = None
    closing: _Balance | None = None
    lines: list[_Line] = []
    errors: list[RowError] = []
    current: _Line | None = None

    for tag, content in block:
        value = "\n".join(content).strip()
        if tag == "20":
            reference = value or None
        elif tag == "25":
            account = value or None
        elif tag in ("28C", "28"):
            number = value or None
        elif tag in ("60F", "60M", "60"):
            if opening is None:
                opening = _balance(value)
        elif tag in ("62F", "62M", "62"):
            closing = _balance(value)
            current = None  # an :86: after the closing balance describes the statement, not a line
        elif tag == "61":
            current = _Line(index=len(lines), raw=value)
            lines.append(current)
        elif tag == "86" and current is not None and not current.details:
            current.details = content

    stated = opening or closing
    currency = stated.currency if stated is not None else None
    transactions: list[StatementTransaction] = []
    for line in lines:
        try:
            transactions.append(_transaction(line, currency))
        except ValueError as exc:
            errors.append(RowError(index=line.index, reason=str(exc)))

    account_iban, account_number = _account(account)
    return Statement(
        account_iban=account_iban,
        account_number=account_number,
        currency=currency,
        statement_id=number or reference,
        opening_balance=opening.amount if opening else None,
        closing_balance=closing.amount if closing else None,
        opening_date=opening.when if opening else None,
        closing_date=closing.when if closing else None,
        transactions=transactions,
        row_errors=errors,
    )


def _account(value: str | None) -> tuple[str | None, str | None]:
    """(IBAN, other account number) from :25:, which is "BLZ/Konto", an IBAN or "BIC/IBAN"."""
    if not value:
        return None, None
    compact = value.replace(" ", "").upper()
    for candidate in (compact, compact.rsplit("/", 1)[-1]):
        if looks_like_iban(candidate):
            return _strip_currency_suffix(candidate), None
    return None, value


def _strip_currency_suffix(iban: str) -> str:
    # Some banks append the account currency to the IBAN in :25: ("DE89...3000EUR").
    from schwifty import IBAN  # imported here: only this rare branch needs it
    from schwifty.exceptions import SchwiftyException

    if iban[-3:].isalpha():
        try:
            IBAN(iban)
        except SchwiftyException:
            try:
                return str(IBAN(iban[:-3]).compact)
            except SchwiftyException:
                pass
    return iban


def _balance(value: str) -> _Balance | None:
    match = _BALANCE.match(value.replace("\n", ""))
    if match is None:
        return None
    try:
        amount = _amount(match.group("amount"))
        when = _yymmdd(match.group("date"))
    except ValueError:
        return None
    if match.group("mark").upper() == "D":
        amount = -amount
    return _Balance(amount=amount, when=when, currency=match.group("currency").upper())


# --- :61: + :86: -----------------------------------------------------------------------------


def _transaction(line: _Line, currency: str | None) -> StatementTransaction:
    # The grammar covers the statement line and one line of supplementary details; some banks add
    # more lines (/OCMT/, /CHGS/ ...) that carry nothing this model keeps.
    match = _STATEMENT_LINE.match("\n".join(line.raw.split("\n")[:2]))
    if match is None:
        raise ValueError(f"unreadable :61: statement line {line.raw.split(chr(10), 1)[0]!r}")
    groups = match.groupdict()
    if not currency:
        raise ValueError("statement has no opening/closing balance to take the currency from")

    value_date = _yymmdd(groups["year"] + groups["month"] + groups["day"])
    booking_date = value_date
    entry_month, entry_day = (groups.get("entry_month") or "").strip(), (groups.get("entry_day") or "").strip()
    if entry_month and entry_day:
        booking_date = _entry_date(value_date, int(entry_month), int(entry_day))

    amount = _amount(groups["amount"])
    # D = debit, C = credit, RC = reversal of a credit (money leaves again), RD = reversal of a debit.
    if groups["status"].upper() in ("D", "RC"):
        amount = -amount

    details = _details(line.details)
    bank_reference = (groups.get("bank_reference") or "").strip() or None
    return StatementTransaction(
        booking_date=booking_date,
        value_date=value_date,
        amount=amount,
        currency=currency,
        counterparty_name=details.name,
        counterparty_iban=details.iban,
        counterparty_bic=details.bic,
        purpose=details.purpose,
        end_to_end_id=details.end_to_end_id,
        mandate_id=details.mandate_id,
        creditor_id=details.creditor_id,
        bank_reference=bank_reference if bank_reference and bank_reference.upper() != "NONREF" else None,
    )


@dataclass(frozen=True)
class _Details:
    purpose: str | None = None
    name: str | None = None
    iban: str | None = None
    bic: str | None = None
    end_to_end_id: str | None = None
    mandate_id: str | None = None
    creditor_id: str | None = None


def _details(lines: list[str]) -> _Details:
    # Lines of a structured :86: are wrapped at 65 characters, mid-word and even mid-"?2x" marker,
    # so they are glued together without a separator before splitting into subfields.
    joined = "".join(lines)
    if not _STRUCTURED_86.match(joined):
        # Unstructured (e.g. Dutch banks): the lines are the purpose.
        return _Details(purpose=clean_text(*lines))

    fields: dict[str, list[str]] = {}
    pieces = _SUBFIELD.split(joined[3:])
    for code, content in zip(pieces[1::2], pieces[2::2], strict=True):
        fields.setdefault(code, []).append(content)

    # The DK rules fill ?20..?29 and ?60..?63 as one continuous text cut into 27-character pieces
    # (often mid-word, even mid-IBAN), so they are glued without a separator. Banks that end a
    # field early at a word boundary lose that blank; no rule fits every bank, this one is the spec.
    purpose_fields = [fields[code][0] for code in sorted(fields) if "20" <= code <= "29" or "60" <= code <= "63"]
    sepa = _sepa(purpose_fields)
    purpose = clean_text(sepa.get("SVWZ")) or clean_text(sepa.get("")) or clean_text("".join(purpose_fields))

    bic = clean_text(*fields.get("30", []))
    iban = clean_text(*fields.get("31", []))
    end_to_end = clean_text(sepa.get("EREF"))
    return _Details(
        purpose=purpose,
        # ?32 and ?33 are one name cut into two 27-character fields.
        name=clean_text("".join(fields.get("32", []) + fields.get("33", []))),
        iban=iban.replace(" ", "") if iban and looks_like_iban(iban) else None,
        bic=bic if looks_like_bic(bic) else None,
        end_to_end_id=end_to_end if end_to_end and end_to_end.upper() != "NOTPROVIDED" else None,
        mandate_id=clean_text(sepa.get("MREF")),
        creditor_id=clean_text(sepa.get("CRED")),
    )


def _sepa(purpose_fields: list[str]) -> dict[str, str]:
    """SEPA key -> value from the ?2x/?6x fields; key "" holds the text before the first key."""
    # A key counts at the start of a field or after a blank, so "KREF+" inside a value
    # ("ABCKREF+1") is not mistaken for one.
    text = ""
    starts: set[int] = set()
    for content in purpose_fields:
        starts.add(len(text))
        text += content
    keys = [m for m in _SEPA_KEY.finditer(text) if m.start() in starts or text[m.start() - 1].isspace()]
    if not keys:
        return {"": text}
    values: dict[str, str] = {"": text[: keys[0].start()]}
    for this, following in zip(keys, [*keys[1:], None], strict=True):
        end = following.start() if following is not None else len(text)
        values.setdefault(this.group("key"), text[this.end():end])
    return values


# --- small helpers ---------------------------------------------------------------------------


def _amount(text: str) -> Decimal:
    text = text.strip()
    if not _AMOUNT.match(text):
        raise ValueError(f"invalid amount {text!r}")
    # MT940 amounts use a decimal comma and may end in it ("300," is 300.00).
    return checked_amount(Decimal(text.replace(",", ".").rstrip(".") or "0"))


def _yymmdd(text: str) -> date:
    year = int(text[0:2])
    # SWIFT dates carry two-digit years; nothing older than 1980 is imported.
    return date(2000 + year if year < 80 else 1900 + year, int(text[2:4]), int(text[4:6]))


def _entry_date(value_date: date, month: int, day: int) -> date:
    """The booking date (MMDD only) lies within a few days of the value date, maybe across New Year."""
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError(f"invalid booking date {month:02d}{day:02d}")
    return min(candidates, key=lambda d: abs((d - value_date).days))

