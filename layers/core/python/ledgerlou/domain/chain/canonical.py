"""The journal hash chain's canonical form: how an entry is hashed and how an export line is written.

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

Known-answer vector (the byte string is one line; it is spelled out in ``tests/unit/chain/test_chain.py``)::

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
without the lines before it: ``ledgerlou.verify.verify_file`` cuts a large export into one run per CPU, verifies them at
once and joins them (each run must start with the number and hash the run before ended with), and
falls back to one sequential pass whenever a run is not clean, so its reports are the sequential ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
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
# rest of the control characters, and writes everything else literally. tests/unit/chain/test_chain.py
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
