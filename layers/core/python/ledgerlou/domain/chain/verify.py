"""The journal hash chain: canonical form, hashing, streaming verification and the period closing hash.

Pure code (stdlib only), so that an auditor can run the same verifier offline against an export
(``python -m ledgerlou.verify export.jsonl``) and recompute every hash by hand from this docstring.

Entry hash (``audit_hash``)
===========================

The journal entries of a tenant are numbered ``journal_number`` 1, 2, 3, ... without gaps. Every entry
carries ``prev_hash`` (the ``audit_hash`` of entry ``journal_number - 1``; 64 zeros for entry 1) and::

    audit_hash = lowercase_hex(SHA-256(UTF-8(JCS(canonical_object))))

JCS is the JSON Canonicalization Scheme, RFC 8785. ``canonical_object`` has exactly these 14 members
(no more, no fewer; ``null`` where a value is absent)::

    journal_number      JSON integer (1, 2, 3, ...)
    intent_id           string
    booking_date        string "YYYY-MM-DD"
    account_debit       string
    account_credit      string
    amount              string, plain decimal with exactly 2 decimals ("119.00", never a JSON number);
                        rounded half-up to cents; "-0.00" is written "0.00"
    currency            string ("EUR")
    description         string or null
    created_at          string, ISO 8601 UTC with milliseconds and "Z" ("2026-01-15T10:30:00.000Z")
    created_by          string or null
    source              string or null
    document_id         string or null
    reverses_intent_id  string or null
    prev_hash           string, 64 lowercase hex digits

Because every value is a string, an integer or null, JCS reduces to: members sorted by key (all keys are
ASCII, so plain byte order), no whitespace, integers in plain decimal, strings in double quotes with
only ``"`` ``\\`` and the control characters U+0000..U+001F escaped (``\\b \\f \\n \\r \\t``, the rest as
``\\u00xx`` with lowercase hex), every other character (including non-ASCII) written literally in
UTF-8. The resulting member order is::

    account_credit, account_debit, amount, booking_date, created_at, created_by, currency,
    description, document_id, intent_id, journal_number, prev_hash, reverses_intent_id, source

Known-answer vector (the byte string is one line; it is spelled out in ``tests/unit/test_chain.py``)::

    {"account_credit":"8400","account_debit":"1200","amount":"119.00","booking_date":"2026-01-15",
    "created_at":"2026-01-15T10:30:00.000Z","created_by":"key_live_01","currency":"EUR",
    "description":"Rechnung 2026-001 Müller GmbH","document_id":null,"intent_id":"int_01",
    "journal_number":1,"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000",
    "reverses_intent_id":null,"source":"api"}
    -> audit_hash a51d241d3daf0e949ba3c92e1ea11b008ac3c2e793581e3154cfaa7f12bf6c33

Export (``GET /v1/journal/export``)
===================================

JSON Lines, one entry per line in ``journal_number`` order, each line a JSON object with exactly the 14
canonical members plus ``audit_hash``. ``export_line`` writes each line as the JCS form of those 15
members; the verifier then checks such a line with a single regular expression plus one SHA-256 (the
canonical bytes are the line minus its ``"audit_hash":"...",`` member). Any other valid JSON layout of a
line (other key order, whitespace, ``\\u00e9`` escapes) verifies just the same, only slower. A line is
*malformed* if it is not a UTF-8 JSON object, has duplicate, missing or extra members, has a value of
the wrong type, or an ``amount`` that is not already in the canonical form above. Blank lines are skipped.

Verification checks, per line and in this order: ``journal_number`` is the next expected number
(``journal_number_gap``: gaps, duplicates, reordering), ``prev_hash`` equals the previous ``audit_hash``
(``prev_hash_mismatch``), the recomputed hash equals ``audit_hash`` (``audit_hash_mismatch``). The first
failure is reported as ``{"journal_number": <the number expected at that position>, "reason": ...}``
plus ``line`` (export line number) and ``expected``/``got`` or ``detail``; later lines are only counted,
and ``head_hash`` is the ``audit_hash`` of the last verified entry. The chain alone cannot reveal a
truncated tail: that is what ``chain_length``/``chain_head`` in the closing hash anchor.

Because every line carries its own ``prev_hash``, the links inside any run of lines can be checked
without the lines before it: ``verify_file`` cuts a large export into one run per CPU, verifies them at
once and joins them (each run must start with the number and hash the run before ended with), and
falls back to one sequential pass whenever a run is not clean, so its reports are the sequential ones.

Period closing hash (monthly Festschreibung)
============================================

When period ``P`` ("YYYY-MM") is closed, the chain has ``chain_length`` entries (the highest
``journal_number`` at closing time; 0 for an empty journal) and::

    entries_digest = lowercase_hex(SHA-256(ASCII(h_1 + "\\n" + h_2 + "\\n" + ... + h_n + "\\n")))

where ``h_1..h_n`` are the ``audit_hash`` values of every entry with ``journal_number <= chain_length``
whose ``booking_date`` lies in ``P`` (``booking_date`` starts with ``P + "-"``), in ``journal_number``
order (n = 0 gives SHA-256 of the empty string). Then::

    closing_hash = lowercase_hex(SHA-256(UTF-8(JCS({
        "period":                P,               # string "YYYY-MM"
        "entry_count":           n,               # integer
        "entries_digest":        entries_digest,  # string
        "chain_head":            audit_hash of entry chain_length (64 zeros if chain_length is 0),
        "chain_length":          chain_length,    # integer
        "previous_closing_hash": closing_hash of the previously closed period, or null for the first
    }))))

JCS puts the members in the order chain_head, chain_length, entries_digest, entry_count, period,
previous_closing_hash, e.g. (one line)::

    {"chain_head":"<64 hex>","chain_length":8,"entries_digest":"<64 hex>","entry_count":5,
    "period":"2026-01","previous_closing_hash":null}

``entries_digest`` pins the period's own entries; ``chain_head``/``chain_length`` pin the entire chain
as it stood at closing time (so a later change to any earlier entry, in any period, or a truncated export
also breaks the closing); ``previous_closing_hash`` links the closings into their own chain. After
closing no entry may be booked into ``P``: an export that contains an entry with
``journal_number > chain_length`` and a ``booking_date`` in ``P`` fails the closing check
(``entry_after_closing``). Reversals of closed entries are booked into an open period.

Recomputing a closing from an export (``check_closing``/``verify_closing``, CLI ``--closing``) needs the
chain to verify through ``chain_length``; the reasons it fails with are ``chain_broken_before_closing``,
``chain_shorter_than_closing``, ``entry_after_closing`` and ``closing_hash_mismatch``.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import io
import itertools
import json
import operator
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any, Final

GENESIS_HASH: Final = "0" * 64

CANONICAL_FIELDS: Final = (
    "journal_number",
    "intent_id",
    "booking_date",
    "account_debit",
    "account_credit",
    "amount",
    "currency",
    "description",
    "created_at",
    "created_by",
    "source",
    "document_id",
    "reverses_intent_id",
    "prev_hash",
)
EXPORT_FIELDS: Final = (*CANONICAL_FIELDS, "audit_hash")

# Reasons reported in VerifyResult.first_break["reason"].
GAP: Final = "journal_number_gap"
PREV_MISMATCH: Final = "prev_hash_mismatch"
HASH_MISMATCH: Final = "audit_hash_mismatch"
MALFORMED_LINE: Final = "malformed_line"  # verify_jsonl: a line that is not a well-formed export entry
MALFORMED_ENTRY: Final = "malformed_entry"  # ChainVerifier.feed: a mapping that cannot be canonicalised

_CENT = Decimal("0.01")
# Enough digits for any amount the export fast path accepts (<= 31 integer digits, see _EXPORT_LINE);
# the default context (28 digits) would make the verdict depend on the caller's decimal context.
_AMOUNT_CONTEXT = Context(prec=64, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
# JCS (RFC 8785 3.2.2.3) serialises numbers as IEEE 754 doubles: integers beyond 2**53 - 1 would
# silently lose precision in other implementations, so they are refused rather than guessed.
_MAX_SAFE_INT = 2**53 - 1
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PERIOD = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")
# Decimal() also accepts "1_000", " 1.5 ", "١٢" and "Infinity"; an amount string must be plain ASCII.
_AMOUNT_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

# json's C string encoder (ensure_ascii=False flavour) produces exactly the RFC 8785 string form:
# it escapes only '"', '\\' and U+0000..U+001F, uses \b \f \n \r \t and lowercase \u00xx for the
# rest of the control characters, and writes everything else literally. tests/unit/test_chain.py
# proves byte equality with rfc8785.dumps. Lone surrogates pass through here and are rejected by the
# final .encode("utf-8"), as RFC 8785 requires.
_encode_str: Callable[[str], str] = json.encoder.encode_basestring


def _utf16_key(key: str) -> bytes:
    # RFC 8785 3.2.3: members are sorted by the UTF-16 code units of their names. Big-endian UTF-16
    # bytes compare exactly like the code-unit sequences (this differs from code-point order for
    # astral characters versus U+E000..U+FFFF).
    return key.encode("utf-16-be")


_SORTED_FIELDS: Final = tuple(sorted(CANONICAL_FIELDS, key=_utf16_key))
_SORTED_EXPORT_FIELDS: Final = tuple(sorted(EXPORT_FIELDS, key=_utf16_key))
_EXPORT_KEYSET: Final = frozenset(EXPORT_FIELDS)
_TEXT_FIELDS: Final = frozenset(CANONICAL_FIELDS) - {"journal_number", "amount"}


# --------------------------------------------------------------------------------------------------
# Canonical form
# --------------------------------------------------------------------------------------------------


def format_amount(amount: Decimal) -> str:
    """``Decimal("119")`` -> ``"119.00"``: half-up to cents, plain notation, never ``-0.00``."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError("amount must be finite")
    try:
        q = amount.quantize(_CENT, context=_AMOUNT_CONTEXT)
    except InvalidOperation:
        raise ValueError("amount is out of range") from None
    if q.is_zero():
        # Decimal keeps the sign of zero; the canonical form must not depend on how zero was computed.
        return "0.00"
    return format(q, "f")


def _amount_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, str):
        if not _AMOUNT_TEXT.fullmatch(value):
            raise ValueError(f"amount {value!r} is not a plain decimal number")
        return format_amount(Decimal(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return format_amount(Decimal(value))
    # float is refused on purpose: binary floating point cannot represent cents exactly.
    raise TypeError(f"amount must be Decimal, str or int, not {type(value).__name__}")


def _journal_number_text(value: Any) -> str:
    if type(value) is not int:  # bool is an int subclass; True must not pass for 1
        raise TypeError(f"journal_number must be an int, not {type(value).__name__}")
    if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        raise ValueError("journal_number exceeds the JSON safe integer range")
    return str(value)


def _canonical_text(entry: Mapping[str, Any], audit_hash: str | None = None) -> str:
    parts: list[str] = []
    get = entry.get
    for key in _SORTED_FIELDS:
        if key == "booking_date" and audit_hash is not None:
            # Export lines only: "audit_hash" sorts between "amount" and "booking_date".
            parts.append('"audit_hash":' + _encode_str(audit_hash))
        value = get(key)
        if key == "amount":
            if value is None:
                raise ValueError("amount is required")
            text = '"' + _amount_text(value) + '"'
        elif key == "journal_number":
            text = _journal_number_text(value)
        elif value is None:
            text = "null"
        elif isinstance(value, str):
            text = _encode_str(value)
        else:
            raise TypeError(f"{key} must be a str or None, not {type(value).__name__}")
        parts.append('"' + key + '":' + text)
    return "{" + ",".join(parts) + "}"


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text contains a lone surrogate (not valid Unicode)") from None


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """The RFC 8785 bytes of the 14 canonical fields of ``entry`` (missing -> null; others ignored).

    ``journal_number`` must be an int and ``amount`` a Decimal, int or plain decimal string (formatted
    to 2 decimals); every other field a str or None. Raises TypeError/ValueError otherwise.
    """
    return _utf8(_canonical_text(entry))


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The ``audit_hash`` of ``entry``: lowercase hex SHA-256 of ``canonical_bytes(entry)``."""
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


def jcs_flat(obj: Mapping[str, str | int | bool | None]) -> bytes:
    """RFC 8785 for a flat object whose values are str, int, bool or None (used for the closing hash)."""
    parts: list[str] = []
    for key, value in sorted(obj.items(), key=lambda kv: _utf16_key(kv[0])):
        if value is None:
            text = "null"
        elif value is True:
            text = "true"
        elif value is False:
            text = "false"
        elif isinstance(value, int):
            if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
                raise ValueError(f"{key} exceeds the JSON safe integer range")
            text = str(int(value))  # int(): an IntEnum's repr must not leak into the output
        elif isinstance(value, str):
            text = _encode_str(value)
        else:
            raise TypeError(f"{key} must be str, int, bool or None, not {type(value).__name__}")
        parts.append(_encode_str(key) + ":" + text)
    return _utf8("{" + ",".join(parts) + "}")


def export_line(entry: Mapping[str, Any]) -> bytes:
    """One export line (with trailing newline): the JCS form of the 14 canonical fields plus audit_hash.

    Written this way the verifier takes its fast path; ``audit_hash`` is copied, not recomputed, so an
    export shows what is stored.
    """
    audit_hash = entry.get("audit_hash")
    if not isinstance(audit_hash, str):
        raise ValueError("entry has no audit_hash")
    return _utf8(_canonical_text(entry, audit_hash)) + b"\n"


def format_timestamp(value: dt.datetime) -> str:
    """``created_at`` in the canonical form: UTC, milliseconds (truncated), "Z"."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware")
    utc = value.astimezone(dt.UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


def _check_hash(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ValueError(f"{name} must be 64 lowercase hex digits")
    return value


def chain_entries(prev_hash: str, first_number: int, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Continue a chain: copies of ``entries`` with journal_number, prev_hash and audit_hash assigned.

    ``prev_hash`` is the audit_hash of entry ``first_number - 1`` (GENESIS_HASH for ``first_number`` 1).
    Other keys of the input dicts are kept as they are; the inputs are not modified.
    """
    _check_hash("prev_hash", prev_hash)
    if type(first_number) is not int or first_number < 1:
        raise ValueError("first_number must be an int >= 1")
    if first_number == 1 and prev_hash != GENESIS_HASH:
        raise ValueError("entry 1 must chain to GENESIS_HASH")
    out: list[dict[str, Any]] = []
    for number, entry in enumerate(entries, start=first_number):
        chained = {**entry, "journal_number": number, "prev_hash": prev_hash}
        prev_hash = hashlib.sha256(canonical_bytes(chained)).hexdigest()
        chained["audit_hash"] = prev_hash
        out.append(chained)
    return out


# --------------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    """``head_hash`` is the audit_hash of the last entry of the verified prefix (the starting prev_hash
    if none verified); ``entries`` counts every entry/line seen, including those after a break."""

    verified: bool
    entries: int
    head_hash: str
    first_break: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "entries": self.entries,
            "head_hash": self.head_hash,
            "first_break": None if self.first_break is None else dict(self.first_break),
        }


# Called for every entry that verified, in order: (journal_number, booking_date, audit_hash).
EntryObserver = Callable[[int, "str | None", str], None]

# A JCS export line (see export_line), recognised without parsing. A JCS string: runs of anything but
# '"', '\\' and control characters, separated by the canonical escapes (\u00xx only where no short form
# exists); written as normal*(escape normal*)* with possessive quantifiers so the scan stays linear.
# The 64-character hash slots are not checked for hex here: a line only takes the fast path when they
# equal the recomputed hex digest resp. the previous audit_hash, which are hex. Anything this does not
# match (other layouts, negative amounts, null prev_hash, ...) takes the general path, which reaches the
# same verdict, only slower. sre cost matters here: character-class repeats like [0-9a-f]{64} are
# several times slower than '.', and this regex is most of the verifier's time.
_S = (rb'"[^"\\\x00-\x1f]*+(?:\\(?:["\\bfnrt]|u00(?:0[0-7bef]|1[0-9a-f]))[^"\\\x00-\x1f]*+)*+"')
_SN = rb"(?:" + _S + rb"|null)"
_EXPORT_LINE = re.compile(
    rb'(\{"account_credit":' + _SN + rb',"account_debit":' + _SN
    + rb',"amount":"(?:0|[1-9][0-9]{0,30})\.[0-9][0-9]",)'
    + rb'"audit_hash":"(.{64})",'
    + rb'("booking_date":(?:null|"([^"\\\x00-\x1f]*+)"),"created_at":' + _SN
    + rb',"created_by":' + _SN + rb',"currency":' + _SN + rb',"description":' + _SN
    + rb',"document_id":' + _SN + rb',"intent_id":' + _SN
    + rb',"journal_number":([1-9][0-9]{0,14})'  # <= 15 digits stays below 2**53 - 1
    + rb',"prev_hash":"(.{64})","reverses_intent_id":' + _SN + rb',"source":' + _SN + rb"\})"
    + rb"\n?",
    re.DOTALL,
)


class _MalformedError(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicate members are refused: other parsers keep the first value, json keeps the last, so the
    # verified value and the value a reader sees could differ.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member")
    return obj


def _parse_export_line(raw: bytes | None) -> dict[str, Any]:
    """The general path: a strict parse of one export line, raising _MalformedError with a reason."""
    if raw is None:
        raise _MalformedError("line is not valid Unicode")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _MalformedError("line is not valid UTF-8") from None
    try:
        obj = json.loads(text, object_pairs_hook=_unique_object, parse_float=Decimal,
                         parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError; deep nesting recurses
        raise _MalformedError(f"invalid JSON: {exc}") from None
    if type(obj) is not dict:
        raise _MalformedError("line is not a JSON object")
    keys = obj.keys()
    if keys != _EXPORT_KEYSET:
        missing = sorted(_EXPORT_KEYSET - keys)
        extra = sorted(keys - _EXPORT_KEYSET)
        raise _MalformedError(f"members differ from the export contract (missing {missing}, unexpected {extra})")
    if type(obj["journal_number"]) is not int:
        raise _MalformedError("journal_number is not an integer")
    if not isinstance(obj["audit_hash"], str):
        raise _MalformedError("audit_hash is not a string")
    amount = obj["amount"]
    try:
        canonical_amount = isinstance(amount, str) and _amount_text(amount) == amount
    except ValueError:
        canonical_amount = False
    if not canonical_amount:
        # The hash covers "119.00"; a line showing "119.0", "119.004" or 119 must not verify as that.
        raise _MalformedError("amount is not a string in canonical form")
    for key in _TEXT_FIELDS:
        value = obj[key]
        if value is not None and not isinstance(value, str):
            raise _MalformedError(f"{key} is not a string or null")
    return obj


class ChainVerifier:
    """Incremental chain verifier: ``feed`` entries (or ``feed_lines``) in journal order, then ``result``.

    Starts at entry 1 after GENESIS_HASH by default; pass ``expected_number``/``prev_hash`` to verify a
    continuation (e.g. only the entries after the last closing). After the first break nothing more is
    checked, entries are only counted.
    """

    __slots__ = ("_entries", "_expected", "_first_break", "_head", "_lines", "_observer")

    def __init__(self, expected_number: int = 1, prev_hash: str = GENESIS_HASH, *,
                 observer: EntryObserver | None = None) -> None:
        if type(expected_number) is not int or expected_number < 1:
            raise ValueError("expected_number must be an int >= 1")
        self._expected = expected_number
        self._head = _check_hash("prev_hash", prev_hash)
        self._entries = 0
        self._lines = 0
        self._first_break: dict[str, Any] | None = None
        self._observer = observer

    @property
    def broken(self) -> bool:
        return self._first_break is not None

    @property
    def expected_number(self) -> int:
        return self._expected

    @property
    def head_hash(self) -> str:
        return self._head

    def result(self) -> VerifyResult:
        return VerifyResult(
            verified=self._first_break is None,
            entries=self._entries,
            head_hash=self._head,
            first_break=None if self._first_break is None else dict(self._first_break),
        )

    def _break(self, reason: str, line: int | None, **detail: Any) -> None:
        first_break: dict[str, Any] = {"journal_number": self._expected, "reason": reason}
        if line is not None:
            first_break["line"] = line
        first_break.update(detail)
        self._first_break = first_break

    def feed(self, entry: Mapping[str, Any]) -> bool:
        """Check the next entry; returns whether the chain is still intact."""
        self._entries += 1
        if self._first_break is None:
            self._check(entry, MALFORMED_ENTRY, None)
        return self._first_break is None

    def _check(self, entry: Mapping[str, Any], malformed: str, line: int | None) -> None:
        number = entry.get("journal_number")
        if type(number) is not int or number != self._expected:
            self._break(GAP, line, expected=self._expected, got=_json_safe(number))
            return
        prev = entry.get("prev_hash")
        if prev != self._head:
            self._break(PREV_MISMATCH, line, expected=self._head, got=_json_safe(prev))
            return
        try:
            digest = hashlib.sha256(canonical_bytes(entry)).hexdigest()
        except (TypeError, ValueError) as exc:
            self._break(malformed, line, detail=str(exc))
            return
        claimed = entry.get("audit_hash")
        if claimed != digest:
            self._break(HASH_MISMATCH, line, expected=digest, got=_json_safe(claimed))
            return
        self._head = digest
        self._expected = number + 1
        if self._observer is not None:
            booking_date = entry.get("booking_date")
            self._observer(number, booking_date if isinstance(booking_date, str) else None, digest)

    def feed_lines(self, lines: Iterable[bytes | str]) -> bool:
        """Check export lines (JSON Lines, see module docstring); returns whether still intact.

        ``lines`` is any iterable of lines; a binary stream (e.g. a file opened with ``"rb"``) is read
        in blocks instead, which is faster and reaches the same verdict. Blank lines are skipped;
        ``entries`` counts every other line, also after a break.
        """
        rest: Iterator[bytes | str]
        if isinstance(lines, io.BufferedIOBase):
            rest = self._scan_stream(lines)
        else:
            rest = iter(lines)
            if self._first_break is None:
                self._scan(rest)
        if self._first_break is not None:
            # Past the first break nothing is checked; the rest of the lines are only counted.
            entries, line_no = self._entries, self._lines
            for raw in rest:
                line_no += 1
                if raw.strip():
                    entries += 1
            self._entries, self._lines = entries, line_no
        return self._first_break is None

    def _scan_stream(self, stream: io.BufferedIOBase) -> Iterator[bytes]:
        # Block by block: a block whose lines all pass the fast path is accepted in one go by
        # _accept_block; any other block is re-checked line by line by _scan, which alone reports.
        # Returns the lines left unchecked after a break (to be counted), else an exhausted iterator.
        blocks = _read_blocks(stream)
        for lines, newline in blocks:
            if self._first_break is None and self._accept_block(lines):
                continue
            # The per-line path sees each line exactly as iterating the stream would have yielded it.
            it = iter([line + newline for line in lines] if newline else lines)
            if self._first_break is None:
                self._scan(it)
            if self._first_break is not None:
                return itertools.chain(it, itertools.chain.from_iterable(later for later, _ in blocks))
        return iter(())

    def _accept_block(self, lines: list[bytes]) -> bool:
        """Accept ``lines`` iff _scan's fast path would accept every one of them, in order.

        The same checks as the fast path, but each done once for the whole block in C (map, join,
        one comparison) instead of once per line in Python bytecode. Touches no state unless it
        accepts; a False return means only "check these lines one by one".
        """
        found = list(map(_EXPORT_LINE.fullmatch, lines))
        if None in found:
            return False
        # Joined with newlines (ASCII), the block is valid UTF-8 iff every line is. Strict decoding
        # refuses encoded surrogates and overlong forms, as the fast path's per-line decode does.
        if not (text := b"\n".join(lines)).isascii():
            try:
                text.decode("utf-8")
            except UnicodeDecodeError:
                return False
        befores, audits, afters, bookings, numbers, prevs = zip(*map(_GROUPS, found), strict=True)
        # The line is JCS, so its canonical bytes are the line minus its audit_hash member. Every
        # hash slot is exactly 64 bytes wide, so comparing the concatenations compares line by line.
        digests = b"".join(map(_DIGEST, map(hashlib.sha256, map(operator.add, befores, afters))))
        audit_run = b"".join(audits)
        if binascii.hexlify(digests) != audit_run:
            return False
        if b"".join(prevs) != self._head.encode("ascii") + audit_run[:-64]:
            return False
        # Canonical digit strings (no sign, no leading zero, see _EXPORT_LINE) joined with a
        # separator they cannot contain: equal iff every number is the expected one.
        first = self._expected
        expected = ",".join(map(str, range(first, first + len(lines)))).encode("ascii")
        if b",".join(numbers) != expected:
            return False
        self._head = audit_run[-64:].decode("ascii")
        self._expected = first + len(lines)
        self._entries += len(lines)
        self._lines += len(lines)
        if self._observer is not None:
            for number, booking, audit in zip(range(first, self._expected), bookings, audits, strict=True):
                self._observer(number, None if booking is None else booking.decode("utf-8"), audit.decode("ascii"))
        return True

    def _scan(self, it: Iterator[bytes | str]) -> None:
        # The hot loop, state in locals. The fast path only ever *accepts* a JCS line; every other
        # line, including every break, goes through the general path, which alone writes reports.
        match = _EXPORT_LINE.fullmatch
        sha256 = hashlib.sha256
        observer = self._observer
        expected = self._expected
        head = self._head.encode("ascii")
        entries = self._entries
        line_no = self._lines
        raw: bytes | None
        for item in it:
            line_no += 1
            if isinstance(item, bytes):
                raw = item
            else:
                try:
                    raw = item.encode("utf-8")
                except UnicodeEncodeError:
                    raw = None  # lone surrogate: malformed, reported by the general path
            if raw is not None:
                m = match(raw)
                if m is not None:
                    before, audit, after, booking, number, prev = m.groups()
                    # The line is JCS, so the canonical bytes are the line minus its audit_hash member.
                    if (prev == head and int(number) == expected
                            and sha256(before + after).hexdigest().encode("ascii") == audit):
                        valid = True
                        if not raw.isascii():
                            try:
                                raw.decode("utf-8")  # strict: refuses encoded surrogates, overlong forms
                            except UnicodeDecodeError:
                                valid = False
                        if valid:
                            entries += 1
                            head = audit
                            expected += 1
                            if observer is not None:
                                observer(expected - 1, None if booking is None else booking.decode("utf-8"),
                                         audit.decode("ascii"))
                            continue
                elif not raw.strip():
                    continue  # blank line
            entries += 1
            self._expected, self._head = expected, head.decode("ascii")
            try:
                entry = _parse_export_line(raw)
            except _MalformedError as exc:
                self._break(MALFORMED_LINE, line_no, detail=str(exc))
            else:
                self._check(entry, MALFORMED_LINE, line_no)
            expected, head = self._expected, self._head.encode("ascii")
            if self._first_break is not None:
                break
        self._expected, self._head = expected, head.decode("ascii")
        self._entries, self._lines = entries, line_no


def _json_safe(value: Any) -> Any:
    # first_break is printed as JSON by the CLI; whatever was found must survive that, and a hostile
    # export must not be able to blow the report up.
    if value is None or type(value) is bool:
        return value
    if type(value) is int:
        return value if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT else "<integer out of range>"
    text = value if type(value) is str else repr(value)
    return text if len(text) <= 128 else text[:128] + "..."


# Bytes per read() of a binary stream: a few hundred lines per block, enough to amortise the
# per-block work, few enough that a block stays in the CPU caches between its passes.
_READ_SIZE: Final = 1 << 17
_GROUPS: Final = operator.methodcaller("groups")
_DIGEST: Final = operator.methodcaller("digest")


def _read_blocks(stream: io.BufferedIOBase) -> Iterator[tuple[list[bytes], bytes]]:
    """The stream's lines in blocks, as (lines without their b"\\n", the newline to put back).

    Only b"\\n" ends a line, as when iterating a binary file (bytes.splitlines would also split at
    b"\\r"). Memory stays bounded by the longest line plus one read.
    """
    pending: list[bytes] = []
    while block := stream.read(_READ_SIZE):
        cut = block.rfind(b"\n")
        if cut < 0:
            pending.append(block)  # a line longer than one read: joined once, when it ends
            continue
        pending.append(block[:cut])
        yield b"".join(pending).split(b"\n"), b"\n"
        pending = [block[cut + 1:]]
    if tail := b"".join(pending):
        yield [tail], b""  # the last line had no newline


def verify_jsonl(lines: Iterable[bytes | str], *, expected_number: int = 1, prev_hash: str = GENESIS_HASH,
                 observer: EntryObserver | None = None) -> VerifyResult:
    """Verify an export (an iterable of lines, e.g. a file opened in binary mode) in one streaming pass."""
    verifier = ChainVerifier(expected_number, prev_hash, observer=observer)
    verifier.feed_lines(lines)
    return verifier.result()


# An export file of at least this size is split across processes by verify_file; below it forking and
# joining cost more than they save (measured on 2 cores, one process vs two: 1 MiB 10 vs 17 ms, 2 MiB
# 19 vs 18 ms, 4 MiB 35 vs 31 ms, 16 MiB 95 vs 80 ms).
PARALLEL_MIN_BYTES: Final = 4 << 20


class _SegmentReader(io.BufferedIOBase):
    """``length`` bytes of an open binary file from its current position, as a binary stream."""

    def __init__(self, raw: io.BufferedIOBase, length: int) -> None:
        super().__init__()
        self._raw = raw
        self._left = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._left <= 0:
            return b""
        if size is None or size < 0 or size > self._left:
            size = self._left
        data = self._raw.read(size)
        self._left -= len(data)
        return data


def _segment_bounds(path: str, size: int, parts: int) -> list[int]:
    """Offsets cutting the file into ``parts`` runs of whole lines (each cut just after a b"\n")."""
    bounds = [0]
    with open(path, "rb") as f:
        for i in range(1, parts):
            f.seek(max(size * i // parts - 1, bounds[-1]))
            f.readline()  # to the end of the line the cut falls into
            cut = f.tell()
            if cut >= size:
                break
            if cut > bounds[-1]:
                bounds.append(cut)
    bounds.append(size)
    return bounds


def _verify_segment(path: str, start: int, end: int) -> dict[str, Any]:
    """Verify the lines in [start, end) as a continuation of whatever chain their first line claims.

    The first line's own journal_number and prev_hash are taken as the starting point, so only the
    links *inside* the segment are checked here; verify_file checks the links between segments.
    ``ok`` False means "not a clean run of fast-path lines": verify_file then verifies sequentially.
    """
    with open(path, "rb") as f:
        f.seek(start)
        first = f.readline()
        m = _EXPORT_LINE.fullmatch(first)
        if m is None or f.tell() > end:
            return {"ok": False}
        # The hash slot matches any 64 bytes; non-ASCII must end up "not clean", not an exception.
        number, prev = int(m.group(5)), m.group(6).decode("ascii", "replace")
        if not _HEX64.fullmatch(prev):
            return {"ok": False}
        verifier = ChainVerifier(number, prev)
        f.seek(start)
        verifier.feed_lines(_SegmentReader(f, end - start))
    if verifier.broken:
        return {"ok": False}
    return {"ok": True, "first_number": number, "first_prev": prev, "next_number": verifier.expected_number,
            "head": verifier.head_hash, "entries": verifier.result().entries}


def _fork_segment(path: str, start: int, end: int) -> tuple[int, int]:
    """Verify a segment in a forked child; returns (pid, read end of the pipe carrying its JSON result)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: verify, write one small JSON object, and never return into the caller
        try:
            os.close(read_fd)
            payload = json.dumps(_verify_segment(path, start, end)).encode("ascii")
            while payload:
                payload = payload[os.write(write_fd, payload):]
        finally:
            os._exit(0)
    os.close(write_fd)
    return pid, read_fd


def _collect(pid: int, read_fd: int) -> dict[str, Any]:
    chunks = []
    try:
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    try:
        result = json.loads(b"".join(chunks))
    except ValueError:  # the child died before writing (killed, out of memory): verify sequentially
        return {"ok": False}
    return result if isinstance(result, dict) else {"ok": False}


def default_jobs() -> int:
    """The CPUs this process may run on (at most 8): the default parallelism of verify_file."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def verify_file(path: str | os.PathLike[str], *, jobs: int | None = None,
                min_parallel_bytes: int = PARALLEL_MIN_BYTES) -> VerifyResult:
    """Verify an export file; the same result as ``verify_jsonl(open(path, "rb"))``, sooner on several CPUs.

    Every line carries its own ``prev_hash``, so the links inside any run of lines can be checked
    without the lines before it. A file of at least ``min_parallel_bytes`` is cut into ``jobs``
    (default: ``default_jobs()``) runs of whole lines; each run but the first is verified in a forked
    process while this process verifies the first. Then the runs are joined: each must start with the
    journal_number and prev_hash the run before it ended with, which are exactly the checks a
    sequential pass makes at that line. Any run that is not clean (a break, a blank or non-JCS first
    line, a child that died) makes the whole file be verified again sequentially, so every report,
    first break and count is the sequential pass's own. Without ``os.fork`` (Windows), in a process
    that runs other threads (forking those is unsafe), or below the size limit, it is the sequential pass.
    """
    path = os.fspath(path)
    jobs = default_jobs() if jobs is None else jobs
    size = os.path.getsize(path)
    parallel = (jobs > 1 and size >= max(min_parallel_bytes, 1) and hasattr(os, "fork")
                and threading.active_count() == 1)
    bounds = _segment_bounds(path, size, jobs) if parallel else [0, size]
    if len(bounds) > 2:
        children = [_fork_segment(path, start, end) for start, end in itertools.pairwise(bounds[1:])]
        try:
            with open(path, "rb") as f:
                verifier = ChainVerifier()
                verifier.feed_lines(_SegmentReader(f, bounds[1]))
        finally:
            segments = [_collect(pid, fd) for pid, fd in children]
        expected, head, entries = verifier.expected_number, verifier.head_hash, verifier.result().entries
        joined = not verifier.broken
        for segment in segments:
            if not (joined and segment.get("ok") and segment.get("first_number") == expected
                    and segment.get("first_prev") == head):
                joined = False
                break
            expected, head, entries = segment["next_number"], segment["head"], entries + segment["entries"]
        if joined:
            return VerifyResult(verified=True, entries=entries, head_hash=head)
    with open(path, "rb") as f:
        return verify_jsonl(f)


# --------------------------------------------------------------------------------------------------
# Period closing hash
# --------------------------------------------------------------------------------------------------


def _check_period(period: str) -> str:
    if not isinstance(period, str) or not _PERIOD.fullmatch(period):
        raise ValueError("period must be 'YYYY-MM'")
    return period


def period_entries_digest(hashes: Iterable[str]) -> str:
    """SHA-256 (hex) over the audit_hashes, each as 64 ASCII hex digits followed by "\\n"."""
    digest = hashlib.sha256()
    for h in hashes:
        digest.update(_check_hash("audit_hash", h).encode("ascii") + b"\n")
    return digest.hexdigest()


def closing_hash(period: str, entry_count: int, entries_digest: str, chain_head: str, chain_length: int,
                 previous_closing_hash: str | None) -> str:
    """The closing hash of ``period`` as defined in the module docstring."""
    for name, value in (("entry_count", entry_count), ("chain_length", chain_length)):
        if type(value) is not int or value < 0:
            raise ValueError(f"{name} must be an int >= 0")
    if previous_closing_hash is not None:
        _check_hash("previous_closing_hash", previous_closing_hash)
    preimage = jcs_flat({
        "period": _check_period(period),
        "entry_count": entry_count,
        "entries_digest": _check_hash("entries_digest", entries_digest),
        "chain_head": _check_hash("chain_head", chain_head),
        "chain_length": chain_length,
        "previous_closing_hash": previous_closing_hash,
    })
    return hashlib.sha256(preimage).hexdigest()


@dataclass
class ClosingCheck:
    """Outcome of recomputing a closing hash from an export; ``reason`` is None when ``ok``."""

    ok: bool
    period: str
    chain_length: int
    expected_closing_hash: str
    closing_hash: str | None = None
    entry_count: int | None = None
    entries_digest: str | None = None
    chain_head: str | None = None
    previous_closing_hash: str | None = None
    reason: str | None = None
    journal_number: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "period": self.period,
            "chain_length": self.chain_length,
            "expected_closing_hash": self.expected_closing_hash,
            "closing_hash": self.closing_hash,
            "entry_count": self.entry_count,
            "entries_digest": self.entries_digest,
            "chain_head": self.chain_head,
            "previous_closing_hash": self.previous_closing_hash,
            "reason": self.reason,
            "journal_number": self.journal_number,
        }


class ClosingAccumulator:
    """Collects what a closing needs while the chain is verified (use ``observe`` as the observer)."""

    def __init__(self, period: str, chain_length: int) -> None:
        self.period = _check_period(period)
        if type(chain_length) is not int or chain_length < 0:
            raise ValueError("chain_length must be an int >= 0")
        self.chain_length = chain_length
        self._prefix = period + "-"
        self._digest = hashlib.sha256()
        self._count = 0
        self._head: str | None = GENESIS_HASH if chain_length == 0 else None
        self._late: int | None = None

    def observe(self, journal_number: int, booking_date: str | None, audit_hash: str) -> None:
        in_period = booking_date is not None and booking_date.startswith(self._prefix)
        if journal_number <= self.chain_length:
            if in_period:
                self._digest.update(audit_hash.encode("ascii") + b"\n")
                self._count += 1
            if journal_number == self.chain_length:
                self._head = audit_hash
        elif in_period and self._late is None:
            self._late = journal_number

    def result(self, chain: VerifyResult, expected_closing_hash: str,
               previous_closing_hash: str | None) -> ClosingCheck:
        check = ClosingCheck(ok=False, period=self.period, chain_length=self.chain_length,
                             expected_closing_hash=expected_closing_hash,
                             previous_closing_hash=previous_closing_hash)
        if self._head is None:
            # The verified prefix ended before chain_length: broken or truncated chain.
            broke_at = chain.first_break["journal_number"] if chain.first_break else None
            check.reason = "chain_broken_before_closing" if broke_at is not None else "chain_shorter_than_closing"
            check.journal_number = broke_at
            return check
        check.entry_count = self._count
        check.entries_digest = self._digest.hexdigest()
        check.chain_head = self._head
        check.closing_hash = closing_hash(self.period, self._count, check.entries_digest, self._head,
                                          self.chain_length, previous_closing_hash)
        if self._late is not None:
            check.reason = "entry_after_closing"
            check.journal_number = self._late
        elif check.closing_hash != expected_closing_hash:
            check.reason = "closing_hash_mismatch"
        else:
            check.ok = True
        return check


def check_closing(lines: Iterable[bytes | str], period: str, expected_closing_hash: str, chain_length: int,
                  previous_closing_hash: str | None) -> tuple[VerifyResult, ClosingCheck]:
    """Verify the chain and recompute the closing of ``period`` in one streaming pass over an export."""
    accumulator = ClosingAccumulator(period, chain_length)
    result = verify_jsonl(lines, observer=accumulator.observe)
    return result, accumulator.result(result, expected_closing_hash, previous_closing_hash)


def verify_closing(lines: Iterable[bytes | str], period: str, expected_closing_hash: str, chain_length: int,
                   previous_closing_hash: str | None) -> bool:
    """True iff the chain verifies through ``chain_length``, the recomputed closing hash equals
    ``expected_closing_hash`` and no later entry was booked into the closed period."""
    return check_closing(lines, period, expected_closing_hash, chain_length, previous_closing_hash)[1].ok
