"""Streaming verification of the journal hash chain (an export or a run of entries).

Pure code (stdlib only), shared by the API (``GET /v1/journal/verify``) and the offline verifier
(``python -m ledgerlou.verify``); the chain is defined in ``ledgerlou.domain.chain.canonical``.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import itertools
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from ledgerlou.domain.chain.canonical import (
    _EXPORT_KEYSET,
    _MAX_SAFE_INT,
    _TEXT_FIELDS,
    GENESIS_HASH,
    _amount_text,
    _check_hash,
    canonical_bytes,
)

# Reasons reported in VerifyResult.first_break["reason"].
GAP: Final = "journal_number_gap"
PREV_MISMATCH: Final = "prev_hash_mismatch"
HASH_MISMATCH: Final = "audit_hash_mismatch"
MALFORMED_LINE: Final = "malformed_line"  # verify_jsonl: a line that is not a well-formed export entry
MALFORMED_ENTRY: Final = "malformed_entry"  # ChainVerifier.feed: a mapping that cannot be canonicalised



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
