"""Journal hash chain: canonical form, hashing, streaming verification, closing hash and the CLI.

The reference for every canonical byte string is ``rfc8785.dumps`` (an independent JCS implementation);
the production code uses a hand-written fast path that must be byte-identical to it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from ledgerlou import verify as offline
from ledgerlou.domain.chain import canonical
from ledgerlou.domain.chain import verify as chain_verify
from ledgerlou.domain.chain.canonical import (
    CANONICAL_FIELDS,
    EXPORT_FIELDS,
    GENESIS_HASH,
    canonical_bytes,
    chain_entries,
    entry_hash,
    export_line,
    format_amount,
    format_timestamp,
    jcs_flat,
)
from ledgerlou.domain.chain.closing import check_closing, closing_hash, period_entries_digest, verify_closing
from ledgerlou.domain.chain.verify import ChainVerifier, VerifyResult, verify_jsonl

REPO = Path(__file__).resolve().parents[3]
CORE = REPO / "layers" / "core" / "python"


# --------------------------------------------------------------------------------------------------
# Builders and an independent reference implementation
# --------------------------------------------------------------------------------------------------


def make_raw(i: int, *, booking_date: str | None = None) -> dict[str, Any]:
    """Entry i (0-based) without chain fields; a mix of nulls, umlauts and characters that need escaping."""
    return {
        "intent_id": f"int_{i:06d}",
        "booking_date": booking_date or f"2026-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
        "account_debit": "1200" if i % 2 else "4930",
        "account_credit": "8400" if i % 2 else "1800",
        "amount": Decimal(i % 997) + Decimal("0.19"),
        "currency": "EUR",
        "description": [f"Rechnung {i} Müller GmbH", f'Bewirtung "Schäfer" {i}', f"Zeile\t{i}\\x", None][i % 4],
        "created_at": f"2026-01-{i % 28 + 1:02d}T10:{i % 60:02d}:00.{i % 1000:03d}Z",
        "created_by": "key_live_01" if i % 5 else None,
        "source": "api",
        "document_id": None if i % 3 else f"doc_{i}",
        "reverses_intent_id": None,
    }


def build_chain(n: int, *, dates: list[str] | None = None) -> list[dict[str, Any]]:
    raw = [make_raw(i, booking_date=dates[i] if dates else None) for i in range(n)]
    return chain_entries(GENESIS_HASH, 1, raw)


def lines_of(entries: list[dict[str, Any]]) -> list[bytes]:
    return [export_line(e) for e in entries]


def reference_jcs(entry: dict[str, Any]) -> bytes:
    obj = {k: entry.get(k) for k in CANONICAL_FIELDS}
    if isinstance(obj["amount"], Decimal):
        obj["amount"] = format_amount(obj["amount"])
    return rfc8785.dumps(obj)


_REF_AMOUNT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]{2}")


def _ref_parse(raw: bytes) -> dict[str, Any]:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in items}) != len(items):
            raise ValueError("duplicate")
        return dict(items)

    def constant(name: str) -> Any:
        raise ValueError(name)

    obj = json.loads(raw.decode("utf-8"), object_pairs_hook=pairs, parse_float=Decimal, parse_constant=constant)
    if not isinstance(obj, dict) or set(obj) != set(EXPORT_FIELDS):
        raise ValueError("members")
    if type(obj["journal_number"]) is not int or not isinstance(obj["audit_hash"], str):
        raise ValueError("types")
    amount = obj["amount"]
    if not isinstance(amount, str) or not _REF_AMOUNT.fullmatch(amount) or amount == "-0.00":
        raise ValueError("amount")
    for key in set(CANONICAL_FIELDS) - {"journal_number", "amount"}:
        if obj[key] is not None and not isinstance(obj[key], str):
            raise ValueError(key)
    return obj


def reference_verify(lines: list[bytes]) -> dict[str, Any]:
    """The export contract implemented naively with json + rfc8785, for differential testing."""
    expected, head, entries, first_break = 1, GENESIS_HASH, 0, None
    for line_no, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        entries += 1
        if first_break is not None:
            continue
        try:
            obj = _ref_parse(raw)
        except (ValueError, UnicodeDecodeError):
            first_break = {"journal_number": expected, "reason": "malformed_line", "line": line_no}
            continue
        if obj["journal_number"] != expected:
            first_break = {"journal_number": expected, "reason": "journal_number_gap", "line": line_no}
        elif obj["prev_hash"] != head:
            first_break = {"journal_number": expected, "reason": "prev_hash_mismatch", "line": line_no}
        else:
            try:
                digest = hashlib.sha256(rfc8785.dumps({k: obj[k] for k in CANONICAL_FIELDS})).hexdigest()
            except rfc8785.CanonicalizationError:
                first_break = {"journal_number": expected, "reason": "malformed_line", "line": line_no}
                continue
            if digest != obj["audit_hash"]:
                first_break = {"journal_number": expected, "reason": "audit_hash_mismatch", "line": line_no}
            else:
                head, expected = digest, expected + 1
    return {"verified": first_break is None, "entries": entries, "head_hash": head, "first_break": first_break}


def summary(result: VerifyResult) -> dict[str, Any]:
    d = result.to_dict()
    if d["first_break"] is not None:
        d["first_break"] = {k: d["first_break"][k] for k in ("journal_number", "reason", "line")}
    return d


# Random text over the ranges that matter for JCS: controls (escaped), quotes and backslashes, DEL and
# C1 controls (not escaped), BMP incl. U+2028/U+2029/U+FEFF, U+E000..U+FFFD (sorts *after* astral
# characters in UTF-16 order), and astral characters. No surrogates: they are not text.
_RANGES = [(0x20, 0x7E), (0x00, 0x1F), (0x7F, 0x9F), (0xA0, 0xFF), (0x100, 0x7FF), (0x800, 0xD7FF),
           (0xE000, 0xFFFD), (0x10000, 0x10FFFF)]
_SPECIALS = '"\\/\b\f\n\r\t\x00\x1f\x7f\u2028\u2029\ufeff\U0001f600\U0001f1e9\U0001f1ea\u00e4\u20ac\uffff'


def random_text(rng: random.Random, max_len: int = 24) -> str:
    out = []
    for _ in range(rng.randint(0, max_len)):
        if rng.random() < 0.3:
            out.append(rng.choice(_SPECIALS))
        else:
            lo, hi = rng.choice(_RANGES)
            out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def random_entry(rng: random.Random) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for key in CANONICAL_FIELDS:
        if key == "journal_number":
            entry[key] = rng.choice([1, 2, rng.randint(1, 10**6), 2**53 - 1])
        elif key == "amount":
            cents = rng.choice([0, 1, 11900, rng.randint(-10**14, 10**14)])
            entry[key] = Decimal(cents).scaleb(-2)
        else:
            entry[key] = None if rng.random() < 0.2 else random_text(rng)
    return entry


# --------------------------------------------------------------------------------------------------
# Canonical form
# --------------------------------------------------------------------------------------------------


# The known-answer vector of the module docstring, spelled out byte for byte (ü is C3 BC in UTF-8).
VECTOR_ENTRY = {
    "journal_number": 1,
    "intent_id": "int_01",
    "booking_date": "2026-01-15",
    "account_debit": "1200",
    "account_credit": "8400",
    "amount": Decimal("119"),
    "currency": "EUR",
    "description": "Rechnung 2026-001 Müller GmbH",
    "created_at": "2026-01-15T10:30:00.000Z",
    "created_by": "key_live_01",
    "source": "api",
    "document_id": None,
    "reverses_intent_id": None,
    "prev_hash": GENESIS_HASH,
}
VECTOR_BYTES = (
    b'{"account_credit":"8400","account_debit":"1200","amount":"119.00","booking_date":"2026-01-15",'
    b'"created_at":"2026-01-15T10:30:00.000Z","created_by":"key_live_01","currency":"EUR",'
    b'"description":"Rechnung 2026-001 M\xc3\xbcller GmbH","document_id":null,"intent_id":"int_01",'
    b'"journal_number":1,"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000",'
    b'"reverses_intent_id":null,"source":"api"}'
)
# Computed outside Python as well: printf '%s' '<the line above>' | sha256sum
VECTOR_HASH = "a51d241d3daf0e949ba3c92e1ea11b008ac3c2e793581e3154cfaa7f12bf6c33"


def test_known_answer_vector() -> None:
    # Given the documented entry and its canonical bytes written out by hand
    expected = hashlib.sha256(VECTOR_BYTES).hexdigest()
    # When it is canonicalised and hashed
    got_bytes = canonical_bytes(VECTOR_ENTRY)
    got_hash = entry_hash(VECTOR_ENTRY)
    # Then bytes and hash are exactly the documented ones
    assert got_bytes == VECTOR_BYTES
    assert got_hash == expected == VECTOR_HASH
    assert VECTOR_HASH in (canonical.__doc__ or "")


def test_genesis() -> None:
    # Given a fresh journal
    # When the first entry is chained
    (first,) = chain_entries(GENESIS_HASH, 1, [make_raw(0)])
    # Then it is number 1, points at 64 zeros and carries the hash of its canonical form
    assert GENESIS_HASH.count("0") == len(GENESIS_HASH) == 64
    assert first["journal_number"] == 1
    assert first["prev_hash"] == GENESIS_HASH
    assert first["audit_hash"] == hashlib.sha256(reference_jcs(first)).hexdigest()
    # And an empty export verifies with the genesis hash as head
    assert verify_jsonl([]).to_dict() == {"verified": True, "entries": 0, "head_hash": GENESIS_HASH,
                                          "first_break": None}
    # And entry 1 cannot be chained to anything but the genesis hash
    with pytest.raises(ValueError):
        chain_entries("a" * 64, 1, [make_raw(0)])


def test_canonical_fields_and_member_order() -> None:
    # Given the contract's field list
    # Then the tuple is the contract's order and the JCS member order is plain ASCII order
    assert CANONICAL_FIELDS == ("journal_number", "intent_id", "booking_date", "account_debit",
                                "account_credit", "amount", "currency", "description", "created_at",
                                "created_by", "source", "document_id", "reverses_intent_id", "prev_hash")
    assert EXPORT_FIELDS[:-1] == CANONICAL_FIELDS
    assert EXPORT_FIELDS[-1] == "audit_hash"
    members = re.findall(rb'"([a-z_]+)":', canonical_bytes(VECTOR_ENTRY))
    assert [m.decode() for m in members] == sorted(CANONICAL_FIELDS)


def test_fast_canonical_bytes_equal_rfc8785_on_random_entries() -> None:
    # Given thousands of random entries with control characters, quotes, backslashes, BMP and astral text
    rng = random.Random(8785)
    for _ in range(5000):
        entry = random_entry(rng)
        # When both implementations serialise the entry
        # Then the bytes are identical
        assert canonical_bytes(entry) == reference_jcs(entry), entry


def test_fast_canonical_bytes_cover_every_single_code_point_class() -> None:
    # Given one string per interesting code point (all controls, DEL, C1, separators, BOM, astral ends)
    points = [*range(0x80), 0x80, 0x9F, 0xA0, 0xFF, 0x2028, 0x2029, 0xD7FF, 0xE000, 0xFEFF, 0xFFFD, 0xFFFF,
              0x10000, 0x1F600, 0x10FFFF]
    for cp in points:
        entry = dict(VECTOR_ENTRY, description=f"a{chr(cp)}b")
        # Then each serialises exactly as RFC 8785 does
        assert canonical_bytes(entry) == reference_jcs(entry), hex(cp)


def test_jcs_flat_sorts_keys_by_utf16_code_units() -> None:
    # Given the key-sorting example of RFC 8785 section 3.2.3
    obj = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
           "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control",
           "\u00f6": "Latin Small Letter O With Diaeresis"}
    # When serialised
    out = jcs_flat(obj).decode("utf-8")
    # Then the order is the RFC's (the emoji, surrogate D83D, sorts before U+FB33)
    keys = list(json.loads(out))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert out.encode("utf-8") == rfc8785.dumps(obj)


def test_jcs_flat_equals_rfc8785_on_random_objects() -> None:
    # Given random flat objects with random (unicode, astral, empty) keys and scalar values
    rng = random.Random(3785)
    for _ in range(3000):
        obj: dict[str, Any] = {}
        for _ in range(rng.randint(0, 8)):
            value = rng.choice([None, True, False, rng.randint(-(2**53) + 1, 2**53 - 1), random_text(rng)])
            obj[random_text(rng, 6)] = value
        # Then the bytes equal rfc8785's
        assert jcs_flat(obj) == rfc8785.dumps(obj), obj


def test_lone_surrogates_are_rejected_like_rfc8785() -> None:
    # Given text that is not valid Unicode
    entry = dict(VECTOR_ENTRY, description="x\ud800y")
    # Then both implementations refuse it
    with pytest.raises(rfc8785.CanonicalizationError):
        reference_jcs(entry)
    with pytest.raises(ValueError):
        canonical_bytes(entry)


@pytest.mark.parametrize(("amount", "text"), [
    (Decimal("119"), "119.00"), (Decimal("119.0"), "119.00"), (Decimal("1.005"), "1.01"),
    (Decimal("2.675"), "2.68"), (Decimal("-1.005"), "-1.01"), (Decimal("-0.001"), "0.00"),
    (Decimal("-0"), "0.00"), (Decimal("1E+3"), "1000.00"), (Decimal("999999999999.99"), "999999999999.99"),
])
def test_format_amount(amount: Decimal, text: str) -> None:
    # Given a Decimal  When formatted  Then two decimals, half-up, plain notation, no negative zero
    assert format_amount(amount) == text


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("1E+70")])
def test_format_amount_rejects_non_finite_and_huge(amount: Decimal) -> None:
    with pytest.raises(ValueError):
        format_amount(amount)


@pytest.mark.parametrize(("amount", "ok"), [
    ("119", "119.00"), ("119.5", "119.50"), (119, "119.00"), (Decimal("119"), "119.00"),
    (119.0, TypeError), (True, TypeError), ("1_000", ValueError), (" 1", ValueError), ("1e3", ValueError),
    ("NaN", ValueError), ("\u0661", ValueError), (None, ValueError),
])
def test_canonical_amount_inputs(amount: Any, ok: Any) -> None:
    # Given an entry whose amount comes in various types
    entry = dict(VECTOR_ENTRY, amount=amount)
    if isinstance(ok, str):
        # Then Decimal, int and plain decimal strings are formatted; floats never
        assert f'"amount":"{ok}"'.encode() in canonical_bytes(entry)
    else:
        with pytest.raises(ok):
            canonical_bytes(entry)


@pytest.mark.parametrize(("field", "value"), [
    ("journal_number", True), ("journal_number", "1"), ("journal_number", 2**53), ("description", 5),
    ("booking_date", Decimal("1")),
])
def test_canonical_rejects_wrong_types(field: str, value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical_bytes(dict(VECTOR_ENTRY, **{field: value}))


def test_missing_fields_are_null_and_extra_keys_ignored() -> None:
    # Given an entry without the optional fields but with store-internal extras
    entry = {k: v for k, v in VECTOR_ENTRY.items() if k not in ("document_id", "reverses_intent_id")}
    entry["tenant_id"] = "t_1"
    # Then it hashes exactly like the entry with explicit nulls
    assert canonical_bytes(entry) == VECTOR_BYTES


def test_format_timestamp() -> None:
    import datetime as dt

    # Given an aware timestamp with microseconds in another zone
    value = dt.datetime(2026, 1, 15, 11, 30, 0, 123987, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    # Then it is UTC, milliseconds (truncated), Z
    assert format_timestamp(value) == "2026-01-15T10:30:00.123Z"
    with pytest.raises(ValueError):
        format_timestamp(dt.datetime(2026, 1, 15))


def test_export_line_is_jcs_of_export_fields() -> None:
    # Given a chained entry
    (entry,) = build_chain(1)
    # When exported
    line = export_line(entry)
    # Then the line is the JCS of the 15 export fields plus a newline, and nothing else
    obj = {k: entry[k] for k in EXPORT_FIELDS}
    obj["amount"] = format_amount(obj["amount"])
    assert line == rfc8785.dumps(obj) + b"\n"


# --------------------------------------------------------------------------------------------------
# Chaining and verification
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chain_1000() -> list[dict[str, Any]]:
    return build_chain(1000)


def test_chain_of_1000_verifies(chain_1000: list[dict[str, Any]]) -> None:
    # Given 1,000 chained entries
    entries = chain_1000
    # When verified from the export lines, from str lines and entry by entry
    from_lines = verify_jsonl(lines_of(entries))
    from_text = verify_jsonl(line.decode("utf-8") for line in lines_of(entries))
    verifier = ChainVerifier()
    for entry in entries:
        verifier.feed(entry)
    # Then all agree: verified, 1,000 entries, head is the last audit_hash
    expected = {"verified": True, "entries": 1000, "head_hash": entries[-1]["audit_hash"], "first_break": None}
    assert from_lines.to_dict() == from_text.to_dict() == verifier.result().to_dict() == expected
    # And every link is what the contract says
    for prev, entry in zip([None, *entries], entries, strict=False):
        assert entry["prev_hash"] == (GENESIS_HASH if prev is None else prev["audit_hash"])
        assert entry["audit_hash"] == hashlib.sha256(reference_jcs(entry)).hexdigest()


def test_chain_entries_continues_and_does_not_mutate(chain_1000: list[dict[str, Any]]) -> None:
    # Given the first 600 entries and the raw inputs of the remaining 400
    raw = [make_raw(i) for i in range(600, 1000)]
    snapshot = [dict(r) for r in raw]
    # When the rest is chained onto entry 600
    rest = chain_entries(chain_1000[599]["audit_hash"], 601, raw)
    # Then the result equals chaining all at once and the inputs are untouched
    assert rest == chain_1000[600:]
    assert raw == snapshot


def test_verifier_can_start_mid_chain(chain_1000: list[dict[str, Any]]) -> None:
    # Given a verifier that starts after entry 500
    verifier = ChainVerifier(expected_number=501, prev_hash=chain_1000[499]["audit_hash"])
    # When fed entries 501..1000
    for entry in chain_1000[500:]:
        verifier.feed(entry)
    # Then they verify
    assert verifier.result().to_dict() == {"verified": True, "entries": 500,
                                           "head_hash": chain_1000[-1]["audit_hash"], "first_break": None}
    # And the same with verify_jsonl
    result = verify_jsonl(lines_of(chain_1000[500:]), expected_number=501, prev_hash=chain_1000[499]["audit_hash"])
    assert result.verified and result.entries == 500


def _tampered(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value + Decimal("0.01")
    if isinstance(value, int):
        return value + 1
    if value is None:
        return "x"
    if len(value) == 64 and set(value) <= set("0123456789abcdef"):
        return ("1" if value[0] != "1" else "2") + value[1:]
    if value == "2026-01-15" or re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return value[:-1] + ("1" if value[-1] != "1" else "2")
    return value + "x"


_EXPECTED_REASON = {"journal_number": "journal_number_gap", "prev_hash": "prev_hash_mismatch"}


@pytest.mark.parametrize("field", EXPORT_FIELDS)
@pytest.mark.parametrize("position", [1, 2, 500, 1000])
def test_tampering_any_field_of_any_entry_is_detected(chain_1000: list[dict[str, Any]], field: str,
                                                      position: int) -> None:
    # Given the chain with one field of one entry changed
    entries = [dict(e) for e in chain_1000]
    entries[position - 1][field] = _tampered(entries[position - 1][field])
    reason = _EXPECTED_REASON.get(field, "audit_hash_mismatch")
    # When verified from the export and entry by entry
    result = verify_jsonl(lines_of(entries))
    verifier = ChainVerifier()
    for entry in entries:
        verifier.feed(entry)
    # Then the break is reported at exactly that entry with the right reason, and counting goes on
    for res in (result, verifier.result()):
        assert not res.verified
        assert res.first_break is not None
        assert (res.first_break["journal_number"], res.first_break["reason"]) == (position, reason)
        assert res.entries == 1000
        assert res.head_hash == (GENESIS_HASH if position == 1 else chain_1000[position - 2]["audit_hash"])
    assert result.first_break is not None and result.first_break["line"] == position


def test_tampering_with_a_recomputed_hash_breaks_the_next_link(chain_1000: list[dict[str, Any]]) -> None:
    # Given an entry whose amount was changed and whose audit_hash was recomputed to match
    entries = [dict(e) for e in chain_1000]
    entries[41]["amount"] = Decimal("0.01")
    entries[41]["audit_hash"] = entry_hash(entries[41])
    # When verified
    result = verify_jsonl(lines_of(entries))
    # Then the next entry's prev_hash no longer matches
    assert result.first_break == {"journal_number": 43, "reason": "prev_hash_mismatch", "line": 43,
                                  "expected": entries[41]["audit_hash"], "got": chain_1000[41]["audit_hash"]}


def test_deleted_entry_is_a_gap(chain_1000: list[dict[str, Any]]) -> None:
    # Given an export without entry 300
    lines = lines_of(chain_1000)
    del lines[299]
    # When verified
    result = verify_jsonl(lines)
    # Then a gap is reported where 300 was expected
    assert result.first_break == {"journal_number": 300, "reason": "journal_number_gap", "line": 300,
                                  "expected": 300, "got": 301}
    assert result.entries == 999


def test_swapped_entries_are_detected(chain_1000: list[dict[str, Any]]) -> None:
    # Given an export with entries 10 and 11 swapped
    lines = lines_of(chain_1000)
    lines[9], lines[10] = lines[10], lines[9]
    # When verified
    result = verify_jsonl(lines)
    # Then the first out-of-order entry is reported
    assert result.first_break == {"journal_number": 10, "reason": "journal_number_gap", "line": 10,
                                  "expected": 10, "got": 11}


def test_swapped_entries_with_renumbering_are_detected(chain_1000: list[dict[str, Any]]) -> None:
    # Given entries 10 and 11 swapped and renumbered so that journal_number is consecutive again
    entries = [dict(e) for e in chain_1000]
    entries[9], entries[10] = entries[10], entries[9]
    entries[9]["journal_number"], entries[10]["journal_number"] = 10, 11
    # When verified
    result = verify_jsonl(lines_of(entries))
    # Then the links betray it
    assert result.first_break is not None
    assert (result.first_break["journal_number"], result.first_break["reason"]) == (10, "prev_hash_mismatch")


def test_duplicated_entry_is_a_gap(chain_1000: list[dict[str, Any]]) -> None:
    lines = lines_of(chain_1000[:20])
    lines.insert(5, lines[4])
    result = verify_jsonl(lines)
    assert result.first_break == {"journal_number": 6, "reason": "journal_number_gap", "line": 6,
                                  "expected": 6, "got": 5}
    assert result.entries == 21


def test_truncated_tail_is_not_visible_to_the_chain_alone(chain_1000: list[dict[str, Any]]) -> None:
    # Given an export missing its last 10 entries
    # Then the chain still verifies (the closing hash is what anchors the length, see below)
    result = verify_jsonl(lines_of(chain_1000[:990]))
    assert result.verified and result.head_hash == chain_1000[989]["audit_hash"]


@pytest.mark.parametrize(("line", "detail"), [
    (b"not json\n", "invalid JSON"),
    (b"[1,2]\n", "not a JSON object"),
    (b'{"journal_number":1}\n', "members differ"),
    (b"\xff\xfe\n", "UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000 + b"\n", "invalid JSON"),  # hostile nesting must not crash
])
def test_malformed_line(chain_1000: list[dict[str, Any]], line: bytes, detail: str) -> None:
    # Given an export with a broken third line
    lines = lines_of(chain_1000[:10])
    lines.insert(2, line)
    # When verified
    result = verify_jsonl(lines)
    # Then the line is reported as malformed where entry 3 was expected, and the rest is still counted
    assert result.first_break is not None
    assert result.first_break["reason"] == "malformed_line"
    assert (result.first_break["journal_number"], result.first_break["line"]) == (3, 3)
    assert detail in result.first_break["detail"]
    assert result.entries == 11
    assert result.head_hash == chain_1000[1]["audit_hash"]


def _rewrite(line: bytes, **changes: Any) -> bytes:
    obj = json.loads(line)
    obj.update(changes)
    return json.dumps(obj).encode() + b"\n"


@pytest.mark.parametrize("change", [
    {"amount": "119.0"}, {"amount": 119}, {"amount": "0119.00"}, {"amount": "-0.00"}, {"journal_number": 1.0},
    {"journal_number": True}, {"description": 5}, {"extra": None},
])
def test_non_canonical_values_in_an_export_are_malformed(chain_1000: list[dict[str, Any]],
                                                         change: dict[str, Any]) -> None:
    # Given entry 1 rewritten with a value that is not in canonical form (or an extra member)
    lines = lines_of(chain_1000[:3])
    lines[0] = _rewrite(lines[0], **change)
    # Then it does not verify as that value
    result = verify_jsonl(lines)
    assert result.first_break is not None
    assert (result.first_break["journal_number"], result.first_break["reason"]) == (1, "malformed_line")


def test_duplicate_members_are_malformed(chain_1000: list[dict[str, Any]]) -> None:
    # Given a line that repeats "amount" (json would silently keep the last one)
    line = lines_of(chain_1000[:1])[0]
    doctored = line.replace(b'{"account_credit"', b'{"amount":"999.00","account_credit"', 1)
    # Then it is malformed
    result = verify_jsonl([doctored])
    assert result.first_break is not None and result.first_break["reason"] == "malformed_line"


def test_other_json_layouts_verify_too(chain_1000: list[dict[str, Any]]) -> None:
    # Given an export written in contract order, with whitespace and \\u escapes (not JCS)
    lines = []
    for entry in chain_1000[:50]:
        obj = {k: entry[k] for k in EXPORT_FIELDS}
        obj["amount"] = format_amount(obj["amount"])
        lines.append((json.dumps(obj, ensure_ascii=True, indent=None) + "\r\n").encode())
    lines.insert(7, b"   \n")
    # When verified
    result = verify_jsonl(lines)
    # Then it verifies: the hash is over the canonical form, not the bytes of the line
    assert result.to_dict() == {"verified": True, "entries": 50, "head_hash": chain_1000[49]["audit_hash"],
                                "first_break": None}


def test_malformed_entry_from_feed() -> None:
    # Given a stored entry with a float amount
    (entry,) = build_chain(1)
    entry = dict(entry, amount=119.0)
    verifier = ChainVerifier()
    # When fed  Then it is reported, not hashed
    assert verifier.feed(entry) is False
    first_break = verifier.result().first_break
    assert first_break is not None
    assert first_break["reason"] == "malformed_entry"


_MUTATIONS = ("replace_byte", "insert_byte", "delete_byte", "escape_char", "escape_slash", "space",
              "reorder", "amount", "control", "surrogate", "overlong", "swap", "duplicate", "drop", "blank",
              "hash_case", "null_prev")


def _mutate(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    lines = list(lines)
    i = rng.randrange(len(lines))
    line = lines[i]
    kind = rng.choice(_MUTATIONS)
    if kind == "replace_byte":
        p = rng.randrange(len(line) - 1)
        line = line[:p] + bytes([rng.randrange(256)]) + line[p + 1:]
    elif kind == "insert_byte":
        p = rng.randrange(len(line))
        line = line[:p] + bytes([rng.choice([0x20, 0x22, 0x5C, 0x00, 0x0A, 0xC3, 0x7F, rng.randrange(256)])]) + line[p:]
    elif kind == "delete_byte":
        p = rng.randrange(len(line) - 1)
        line = line[:p] + line[p + 1:]
    elif kind == "escape_char":  # semantics-preserving, not canonical
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return lines
        text = re.sub(r"[^\x00-\x7f]|[A-Za-z]", lambda m: f"\\u{ord(m.group()):04x}", text, count=rng.randint(1, 3))
        line = text.encode("utf-8")
    elif kind == "escape_slash":
        line = line.replace(b"-", b"\\u002d", 1)
    elif kind == "space":
        line = line.replace(b":", b": ", 1)
    elif kind == "reorder":
        try:
            obj = json.loads(line)
        except ValueError:  # already broken by an earlier mutation
            return lines
        keys = list(obj)
        rng.shuffle(keys)
        line = json.dumps({k: obj[k] for k in keys}, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass") + b"\n"
    elif kind == "amount":
        line = re.sub(rb'"amount":"([0-9]+)\.([0-9]{2})"', rb'"amount":"\1.\g<2>0"', line)
    elif kind == "control":
        line = line.replace(b"Rechnung", b"Rech\x01nung", 1).replace(b"Zeile\\t", b"Zeile\t", 1)
    elif kind == "surrogate":
        line = line.replace(b"M\xc3\xbcller", b"M\xed\xa0\x80ller", 1).replace(b"Zeile", b"Ze\\ud800ile", 1)
    elif kind == "overlong":
        line = line.replace(b"Rechnung", b"Rech\xc1\xaenung", 1)
    elif kind == "swap" and i + 1 < len(lines):
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
        return lines
    elif kind == "duplicate":
        lines.insert(i, line)
        return lines
    elif kind == "drop":
        del lines[i]
        return lines
    elif kind == "blank":
        lines.insert(i, rng.choice([b"\n", b" \n", b"\t\r\n"]))
        return lines
    elif kind == "hash_case":
        field = rng.choice([b"prev_hash", b"audit_hash"])
        line = re.sub(b'"' + field + rb'":"([0-9a-f]{64})"', lambda m: m.group(0).upper(), line)
    elif kind == "null_prev":
        line = re.sub(rb'"prev_hash":"[0-9a-f]{64}"', b'"prev_hash":null', line)
    lines[i] = line
    return lines


def _mutated_exports(seed: int, count: int) -> Iterator[list[bytes]]:
    """``count`` exports of a 12-entry chain, each with one or (30 %) two random mutations."""
    rng = random.Random(seed)
    base = lines_of(build_chain(12))
    for _ in range(count):
        lines = _mutate(rng, base)
        if rng.random() < 0.3:
            lines = _mutate(rng, lines)
        yield lines


def test_fast_path_and_reference_agree_on_mutated_exports() -> None:
    # Given many exports, each with one or two random mutations (some semantics-preserving)
    for lines in _mutated_exports(seed=2026, count=1500):
        # When verified by the production verifier and by the naive json + rfc8785 reference
        # Then both reach the same verdict at the same place
        assert summary(verify_jsonl(lines)) == reference_verify(lines), lines


_AUDIT_MEMBER = re.compile(rb'"audit_hash":"[^"]{64}",')


def _rehash_raw(line: bytes) -> bytes:
    """What a forger or a buggy writer would do: hash the line's own bytes instead of the JCS form."""
    m = _AUDIT_MEMBER.search(line)
    if m is None:
        return line
    body = line[:m.start()] + line[m.end():]
    body = body[:-1] if body.endswith(b"\n") else body
    digest = hashlib.sha256(body).hexdigest().encode()
    return line[:m.start()] + b'"audit_hash":"' + digest + b'",' + line[m.end():]


_NON_CANONICAL = [
    (b"Rechnung", b"Rech\x01nung"),            # raw control character
    (b"Rechnung", b"Rech\x7fnung"),            # DEL is canonical as it is: must still verify
    (b"Rechnung", b"Rech\\u007fnung"),         # ... but not escaped
    (b"Rechnung", b"\\u0052echnung"),          # escaped ASCII letter
    (b"Rechnung", b"Rech\\/nung"),             # escaped solidus
    (b"Zeile\\t", b"Zeile\\u0009"),           # long form where a short one exists
    (b"Zeile\\t", b"Zeile\\u001F"),           # uppercase hex
    (b"Zeile\\t", b"Zeile\\u001f"),           # canonical: must still verify
    (b"M\xc3\xbcller", b"M\\u00fcller"),       # escaped non-ASCII
    (b"M\xc3\xbcller", b"M\xed\xa0\x80ller"),   # encoded surrogate
    (b"M\xc3\xbcller", b"M\xc1\xbcller"),       # invalid UTF-8
    (b"M\xc3\xbcller", b"M\xe0\x81\xbcller"),   # overlong form
    (b"M\xc3\xbcller", b"M\xf0\x9f\x98\x80ller"),  # astral, canonical: must still verify
    (b'"amount":"', b'"amount": "'),         # whitespace
    (b'"amount":"', b'"amounx":"'),          # wrong key
    (b'"amount":"1', b'"amount":"01'),       # leading zero
    (b'.19"', b'.190"'),                     # three decimals
    (b'"journal_number":1,', b'"journal_number":01,'),
    (b'"journal_number":1,', b'"journal_number":1.0,'),
    (b'"document_id":null', b'"document_id":nul'),
    (b'"source":"api"}', b'"source":"api"} '),
    (b'"source":"api"}', b'"source":"api","source":"api"}'),
]


@pytest.mark.parametrize(("old", "new"), _NON_CANONICAL)
def test_hash_over_non_canonical_bytes_is_never_accepted(old: bytes, new: bytes) -> None:
    # Given entry 1 whose line was altered and whose audit_hash was then computed over the raw line
    lines = lines_of(build_chain(4))
    index = next(i for i, line in enumerate(lines) if old in line)
    forged = [_rehash_raw(line.replace(old, new, 1)) if i == index else line for i, line in enumerate(lines)]
    # When verified  Then the verdict is the reference's: only genuinely canonical bytes verify
    assert summary(verify_jsonl(forged[: index + 1])) == reference_verify(forged[: index + 1])


def test_hash_over_randomly_altered_bytes_is_never_accepted() -> None:
    # Given many single-entry exports altered at random and re-hashed over their raw bytes
    rng = random.Random(58)
    base = lines_of(build_chain(4))
    for _ in range(3000):
        line = base[rng.randrange(4)]
        p = rng.randrange(len(line) - 1)
        replacement = bytes(rng.choice([rng.randrange(256), rng.randrange(32), 0x5C, 0x22, 0x20, 0xC3, 0xED])
                            for _ in range(rng.randint(0, 3)))
        line = line[:p] + replacement + line[p + rng.randint(0, 2):]
        line = re.sub(rb'"journal_number":[0-9]+,', b'"journal_number":1,', line)
        line = re.sub(rb'"prev_hash":"[0-9a-f]{64}"', b'"prev_hash":"' + GENESIS_HASH.encode() + b'"', line)
        forged = [_rehash_raw(line)]
        # Then the production verifier and the reference always agree
        assert summary(verify_jsonl(forged)) == reference_verify(forged), forged


# --------------------------------------------------------------------------------------------------
# Binary streams: verified block by block (ChainVerifier._accept_block), per line on any doubt
# --------------------------------------------------------------------------------------------------


def stream_result(data: bytes) -> dict[str, Any]:
    """Verify ``data`` as a binary stream (the block path) and, as a list of the lines iterating that
    stream yields, line by line; the two must agree exactly, detail texts included."""
    from_stream = verify_jsonl(io.BytesIO(data)).to_dict()
    assert from_stream == verify_jsonl(list(io.BytesIO(data))).to_dict(), data
    return from_stream


@pytest.fixture(params=[1 << 17, 700, 64], ids=["one_block", "a_line_per_block", "lines_span_reads"])
def read_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    # Small reads force many blocks, block boundaries inside lines and lines longer than one read.
    monkeypatch.setattr(chain_verify, "_READ_SIZE", request.param)
    return int(request.param)


def test_stream_of_a_good_export_is_accepted_block_by_block(chain_1000: list[dict[str, Any]], read_size: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the export of 1,000 entries as a binary stream
    data = b"".join(lines_of(chain_1000))
    scanned: list[int] = []
    scan = ChainVerifier._scan
    monkeypatch.setattr(ChainVerifier, "_scan", lambda self, it: scanned.append(1) or scan(self, it))
    # When verified
    result = stream_result(data)
    # Then it verifies like the line list, and no line needed the per-line path
    assert result == {"verified": True, "entries": 1000, "head_hash": chain_1000[-1]["audit_hash"],
                      "first_break": None}
    assert scanned == [1]  # only the list in stream_result went line by line


def test_stream_observer_sees_every_entry_in_order(chain_1000: list[dict[str, Any]], read_size: int) -> None:
    # Given an observer and the export as a stream
    seen: list[tuple[int, str | None, str]] = []
    expected: list[tuple[int, str | None, str]] = []
    data = b"".join(lines_of(chain_1000))
    # When verified from the stream and from the lines
    verify_jsonl(io.BytesIO(data), observer=lambda *args: seen.append(args))
    verify_jsonl(lines_of(chain_1000), observer=lambda *args: expected.append(args))
    # Then the observer got the same (journal_number, booking_date, audit_hash) calls
    assert seen == expected
    assert [n for n, _, _ in seen] == list(range(1, 1001))
    assert seen[0] == (1, chain_1000[0]["booking_date"], chain_1000[0]["audit_hash"])


def test_stream_continues_a_chain_and_can_be_fed_twice(chain_1000: list[dict[str, Any]]) -> None:
    # Given a verifier that starts after entry 500
    verifier = ChainVerifier(expected_number=501, prev_hash=chain_1000[499]["audit_hash"])
    # When entries 501..750 and 751..1000 arrive as two streams
    assert verifier.feed_lines(io.BytesIO(b"".join(lines_of(chain_1000[500:750]))))
    assert verifier.feed_lines(io.BytesIO(b"".join(lines_of(chain_1000[750:]))))
    # Then the chain verifies through 1000
    assert verifier.result().to_dict() == {"verified": True, "entries": 500,
                                           "head_hash": chain_1000[-1]["audit_hash"], "first_break": None}


def _forge(line: bytes, old: bytes, new: bytes) -> bytes:
    return _rehash_raw(line.replace(old, new, 1))


def _reorder(line: bytes) -> bytes:
    obj = json.loads(line)
    return _rehash_raw(json.dumps(dict(reversed(obj.items())), ensure_ascii=False,
                                  separators=(",", ":")).encode() + b"\n")


_STREAM_TAMPERING = {
    # kind: (entry whose line is tampered with, the line as a forger would write it). Where the
    # forger recomputes audit_hash, it is computed over the altered bytes (_rehash_raw).
    "escaped_non_ascii": (5, lambda line: _forge(line, b"M\xc3\xbcller", b"M\\u00fcller")),
    "escaped_ascii": (5, lambda line: _forge(line, b"Rechnung", b"\\u0052echnung")),
    "escaped_quote_as_unicode": (6, lambda line: _forge(line, b'\\"Sch', b"\\u0022Sch")),
    "long_form_escape": (7, lambda line: _forge(line, b"Zeile\\t", b"Zeile\\u0009")),
    "raw_control_character": (7, lambda line: _forge(line, b"Zeile\\t", b"Zeile\t")),
    "invalid_utf8": (5, lambda line: _forge(line, b"M\xc3\xbcller", b"M\xc3ller")),
    "encoded_surrogate": (5, lambda line: _forge(line, b"M\xc3\xbcller", b"M\xed\xa0\x80ller")),
    "swapped_key_order": (5, _reorder),
    "space_after_colon": (5, lambda line: _forge(line, b'"amount":"', b'"amount": "')),
    "trailing_space": (5, lambda line: _forge(line, b"}\n", b"} \n")),
    "crlf_line_end": (5, lambda line: _forge(line, b"}\n", b"}\r\n")),
    "missing_member": (5, lambda line: _forge(line, b',"currency":"EUR"', b"")),
    "extra_member": (5, lambda line: _forge(line, b',"source":', b',"x":null,"source":')),
    "wrong_audit_hash": (5, lambda line: re.sub(rb'"audit_hash":"[0-9a-f]', b'"audit_hash":"f', line)),
    "wrong_prev_hash": (5, lambda line: re.sub(rb'"prev_hash":"[0-9a-f]', b'"prev_hash":"f', line)),
    "journal_number_gap": (5, lambda line: _forge(line, b'"journal_number":5,', b'"journal_number":6,')),
}


@pytest.mark.parametrize("kind", sorted(_STREAM_TAMPERING))
def test_stream_rejects_each_kind_of_tampering_like_the_line_path(kind: str, read_size: int) -> None:
    # Given a 12-entry export with one line tampered with (JCS-looking or not)
    position, tamper = _STREAM_TAMPERING[kind]
    lines = lines_of(build_chain(12))
    original = lines[position - 1]
    lines[position - 1] = tamper(original)
    assert lines[position - 1] != original
    data = b"".join(lines)
    # When verified as a stream
    result = stream_result(data)
    # Then the break is at that entry and line, as the reference reports it, and later lines are counted
    first_break = result["first_break"]
    assert first_break is not None
    assert (first_break["journal_number"], first_break["line"]) == (position, position)
    assert summary(verify_jsonl(io.BytesIO(data))) == reference_verify(list(io.BytesIO(data)))
    assert result["entries"] == 12
    assert result["head_hash"] == json.loads(lines[position - 2])["audit_hash"]


def test_stream_reencoded_but_equivalent_lines_still_verify(read_size: int) -> None:
    # Given an export whose 5th line uses an escape JCS would not write, but keeps the honest hash
    entries = build_chain(12)
    lines = lines_of(entries)
    lines[4] = lines[4].replace(b"M\xc3\xbcller", b"M\\u00fcller", 1)
    assert b"\\u00fc" in lines[4]
    # When verified as a stream  Then it verifies: the hash is over the canonical form, not the bytes
    assert stream_result(b"".join(lines))["verified"] is True


@pytest.mark.parametrize("tail", [b"", b"\n", b"\n\n", b"   \n"], ids=["no_final_newline", "newline", "blank_line",
                                                                       "whitespace_line"])
def test_stream_end_of_file_variants(tail: bytes, read_size: int) -> None:
    # Given an export whose last line ends without a newline, or is followed by blank lines
    entries = build_chain(12)
    data = b"".join(lines_of(entries))[:-1] + tail
    # When verified as a stream  Then the chain verifies, blank lines skipped
    assert stream_result(data) == {"verified": True, "entries": 12, "head_hash": entries[-1]["audit_hash"],
                                   "first_break": None}


def test_stream_truncated_last_line_is_malformed(read_size: int) -> None:
    # Given an export cut off in the middle of its last line
    entries = build_chain(12)
    data = b"".join(lines_of(entries))[:-40]
    # When verified as a stream  Then entry 12 is malformed, the 11 before it verified
    result = stream_result(data)
    assert result["first_break"] is not None
    assert (result["first_break"]["journal_number"], result["first_break"]["reason"]) == (12, "malformed_line")
    assert result["head_hash"] == entries[10]["audit_hash"]


def test_stream_break_late_in_a_long_export_counts_the_rest(chain_1000: list[dict[str, Any]]) -> None:
    # Given 1,000 entries (many blocks) with entry 900 deleted
    lines = lines_of(chain_1000)
    del lines[899]
    # When verified as a stream
    result = stream_result(b"".join(lines))
    # Then the gap is reported at 900 and every later line is still counted
    assert result["first_break"] == {"journal_number": 900, "reason": "journal_number_gap", "line": 900,
                                     "expected": 900, "got": 901}
    assert result["entries"] == 999


def test_stream_agrees_with_the_line_path_and_the_reference_on_mutated_exports(read_size: int) -> None:
    # Given many exports with one or two random mutations (some semantics-preserving)
    for lines in _mutated_exports(seed=4711, count=400):
        data = b"".join(lines)
        # When verified as a stream  Then line path, stream path and reference reach the same verdict
        stream_result(data)
        assert summary(verify_jsonl(io.BytesIO(data))) == reference_verify(list(io.BytesIO(data))), data


# --------------------------------------------------------------------------------------------------
# Verifying a file on several CPUs (verify_file)
# --------------------------------------------------------------------------------------------------


def file_result(tmp_path: Path, data: bytes, jobs: int) -> dict[str, Any]:
    """verify_file on ``data`` with ``jobs`` processes (no size floor), checked against the sequential pass."""
    path = tmp_path / "export.jsonl"
    path.write_bytes(data)
    result = offline.verify_file(path, jobs=jobs, min_parallel_bytes=0).to_dict()
    assert result == verify_jsonl(io.BytesIO(data)).to_dict(), data
    return result


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the children verify_file forks (os.fork still forks)."""
    pids: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(offline.os, "fork", counting_fork)
    return pids


@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_file_verified_in_segments_gives_the_sequential_result(tmp_path: Path, chain_1000: list[dict[str, Any]],
                                                               jobs: int, forks: list[int],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a good 1,000-entry export, and no sequential pass to fall back on
    data = b"".join(lines_of(chain_1000))

    def no_fallback(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a clean file must not be verified a second time")

    monkeypatch.setattr(offline, "verify_jsonl", no_fallback)
    # When verified with several processes
    result = file_result(tmp_path, data, jobs)
    # Then it verifies, with the count and head of the sequential pass, and the work was really split
    assert result == {"verified": True, "entries": 1000, "head_hash": chain_1000[-1]["audit_hash"],
                      "first_break": None}
    assert len(forks) == jobs - 1


@pytest.mark.parametrize("position", [1, 2, 333, 334, 500, 501, 667, 999, 1000])
@pytest.mark.parametrize("kind", ["delete", "tamper", "blank", "swap"])
def test_file_breaks_in_any_segment_are_reported_as_sequentially(tmp_path: Path, chain_1000: list[dict[str, Any]],
                                                                 position: int, kind: str) -> None:
    # Given a 1,000-entry export changed at an entry near a segment boundary of 2 or 3 processes
    lines = lines_of(chain_1000)
    i = position - 1
    if kind == "delete":
        del lines[i]
    elif kind == "tamper":
        lines[i] = lines[i].replace(b'"source":"api"', b'"source":"apx"')
    elif kind == "blank":
        lines.insert(i, b"\n")
    elif i + 1 < len(lines):
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    data = b"".join(lines)
    for jobs in (2, 3):
        # When verified in segments  Then the result is the sequential pass's, break report included
        result = file_result(tmp_path, data, jobs)
        if kind != "blank":  # a blank line is skipped, not a break
            # (deleting the last entry is a truncation, which the chain alone cannot see; "swapping" it is a no-op)
            assert result["verified"] is (position == 1000 and kind in ("delete", "swap"))


def test_file_verification_agrees_with_the_reference_on_mutated_exports(tmp_path: Path) -> None:
    # Given many 12-entry exports with one or two random mutations, cut into 2-4 segments of 3-6 lines
    for number, lines in enumerate(_mutated_exports(seed=8128, count=150)):
        data = b"".join(lines)
        # When verified in segments  Then the verdict is the sequential pass's and the reference's
        result = file_result(tmp_path, data, 2 + number % 3)
        assert {k: result[k] for k in ("verified", "entries")} == {
            k: reference_verify(list(io.BytesIO(data)))[k] for k in ("verified", "entries")}


@pytest.mark.parametrize("data", [b"", b"\n", b"\n\n\n", b"x", b"{}\n{}\n{}\n"], ids=repr)
def test_file_odd_contents_give_the_sequential_result(tmp_path: Path, data: bytes) -> None:
    # Given an empty, blank or garbage file  When verified in segments  Then as sequentially
    for jobs in (2, 4):
        file_result(tmp_path, data, jobs)


def test_file_without_final_newline_and_a_long_last_line(tmp_path: Path, chain_1000: list[dict[str, Any]]) -> None:
    # Given exports whose last line has no newline, or where one line is longer than a segment
    data = b"".join(lines_of(chain_1000))
    file_result(tmp_path, data[:-1], 3)
    lines = lines_of(build_chain(3))
    lines[1] = lines[1].replace(b"Rechnung", b"Rechnung" + b"x" * 5000)
    file_result(tmp_path, b"".join(lines), 8)


def test_a_child_that_dies_means_a_sequential_pass(tmp_path: Path, chain_1000: list[dict[str, Any]],
                                                   monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> None:
    # Given a good export, and segment children that die before they report
    def die(path: str, start: int, end: int) -> dict[str, Any]:
        os._exit(3)

    monkeypatch.setattr(offline, "_verify_segment", die)
    data = b"".join(lines_of(chain_1000))
    # When verified in segments  Then it still verifies (sequentially, after the children were reaped)
    assert file_result(tmp_path, data, 3)["verified"] is True
    assert len(forks) == 2
    for pid in forks:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_small_files_and_one_job_do_not_fork(tmp_path: Path, chain_1000: list[dict[str, Any]],
                                             forks: list[int]) -> None:
    # Given a 1,000-entry export (about half a megabyte)
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(lines_of(chain_1000)))
    # When verified below the size floor, or with one job  Then no process is forked
    assert offline.verify_file(path, jobs=4).verified
    assert offline.verify_file(path, jobs=1, min_parallel_bytes=0).verified
    assert forks == []


# --------------------------------------------------------------------------------------------------
# Period closing hash
# --------------------------------------------------------------------------------------------------


def _closing_fixture() -> tuple[list[dict[str, Any]], list[bytes]]:
    # January and February bookings interleaved, as backdated bookings are: entries 1..8 exist when
    # January is closed; 9..12 come later and belong to February/March.
    dates = ["2026-01-05", "2026-01-31", "2026-02-01", "2026-01-15", "2025-12-31", "2026-01-20", "2026-02-03",
             "2026-01-02", "2026-02-10", "2026-03-01", "2026-02-28", "2026-03-02"]
    entries = build_chain(len(dates), dates=dates)
    return entries, lines_of(entries)


def test_closing_hash_literal_preimage() -> None:
    # Given fixed inputs, with the JCS preimage spelled out by hand
    head, digest = "ab" * 32, "cd" * 32
    preimage = (b'{"chain_head":"' + head.encode() + b'","chain_length":8,"entries_digest":"' + digest.encode()
                + b'","entry_count":5,"period":"2026-01","previous_closing_hash":null}')
    # When the closing hash is computed  Then it is SHA-256 of exactly those bytes
    assert closing_hash("2026-01", 5, digest, head, 8, None) == hashlib.sha256(preimage).hexdigest()
    assert preimage == rfc8785.dumps({"period": "2026-01", "entry_count": 5, "entries_digest": digest,
                                      "chain_head": head, "chain_length": 8, "previous_closing_hash": None})
    # And the entries digest is SHA-256 over "<hash>\n" per entry
    assert period_entries_digest([head, digest]) == hashlib.sha256((head + "\n" + digest + "\n").encode()).hexdigest()
    assert period_entries_digest([]) == hashlib.sha256(b"").hexdigest()


def test_closing_hash_recomputation_from_an_export() -> None:
    # Given a journal where January was closed when it had 8 entries
    entries, lines = _closing_fixture()
    january = [e["audit_hash"] for e in entries[:8] if e["booking_date"].startswith("2026-01-")]
    assert len(january) == 5
    digest = hashlib.sha256("".join(h + "\n" for h in january).encode()).hexdigest()
    expected = hashlib.sha256(rfc8785.dumps({
        "period": "2026-01", "entry_count": 5, "entries_digest": digest, "chain_head": entries[7]["audit_hash"],
        "chain_length": 8, "previous_closing_hash": None})).hexdigest()
    # When the closing is recomputed from the full, later export
    result, check = check_closing(lines, "2026-01", expected, 8, None)
    # Then it matches, and so does the boolean helper
    assert result.verified
    assert check.ok and check.reason is None
    assert (check.closing_hash, check.entry_count, check.entries_digest, check.chain_head) == (
        expected, 5, digest, entries[7]["audit_hash"])
    assert verify_closing(lines, "2026-01", expected, 8, None) is True

    # And February, closed at 11 entries, chains to January's closing hash
    february = [e["audit_hash"] for e in entries[:11] if e["booking_date"].startswith("2026-02-")]
    feb_expected = closing_hash("2026-02", len(february), period_entries_digest(february),
                                entries[10]["audit_hash"], 11, expected)
    assert verify_closing(lines, "2026-02", feb_expected, 11, expected) is True
    assert verify_closing(lines, "2026-02", feb_expected, 11, None) is False


def test_closing_detects_changes_truncation_and_late_entries() -> None:
    # Given January's closing at 8 entries
    entries, lines = _closing_fixture()
    expected = check_closing(lines, "2026-01", "0" * 64, 8, None)[1].closing_hash
    assert expected is not None

    # When an entry of another period, before the closing, is rewritten consistently (hashes recomputed)
    forged_raw = [{k: v for k, v in e.items() if k not in ("journal_number", "prev_hash", "audit_hash")}
                  for e in entries]
    forged_raw[4]["amount"] = Decimal("1.00")  # the December entry
    forged = chain_entries(GENESIS_HASH, 1, forged_raw)
    result, check = check_closing(lines_of(forged), "2026-01", expected, 8, None)
    # Then the chain itself verifies but the closing does not
    assert result.verified
    assert not check.ok and check.reason == "closing_hash_mismatch"

    # When the export is truncated before the closing point
    check = check_closing(lines[:7], "2026-01", expected, 8, None)[1]
    assert not check.ok and check.reason == "chain_shorter_than_closing"

    # When the chain is broken before the closing point
    broken = list(lines)
    del broken[3]
    check = check_closing(broken, "2026-01", expected, 8, None)[1]
    assert not check.ok and (check.reason, check.journal_number) == ("chain_broken_before_closing", 4)

    # When an entry was booked into January after the closing
    late = chain_entries(entries[-1]["audit_hash"], 13, [make_raw(99, booking_date="2026-01-31")])
    check = check_closing([*lines, *lines_of(late)], "2026-01", expected, 8, None)[1]
    assert not check.ok and (check.reason, check.journal_number) == ("entry_after_closing", 13)

    # When the expected hash or the chain length is wrong
    assert verify_closing(lines, "2026-01", "f" * 64, 8, None) is False
    assert verify_closing(lines, "2026-01", expected, 9, None) is False


def test_closing_of_an_empty_journal() -> None:
    expected = closing_hash("2026-01", 0, period_entries_digest([]), GENESIS_HASH, 0, None)
    assert verify_closing([], "2026-01", expected, 0, None) is True


@pytest.mark.parametrize("args", [
    ("2026-13", 0, "0" * 64, "0" * 64, 0, None), ("2026-1", 0, "0" * 64, "0" * 64, 0, None),
    ("2026-01", -1, "0" * 64, "0" * 64, 0, None), ("2026-01", 0, "0" * 63, "0" * 64, 0, None),
    ("2026-01", 0, "0" * 64, "A" * 64, 0, None), ("2026-01", 0, "0" * 64, "0" * 64, 0, "x"),
])
def test_closing_hash_validates_inputs(args: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        closing_hash(*args)


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(CORE)}
    return subprocess.run([sys.executable, "-m", "ledgerlou.verify", *args], input=stdin, capture_output=True,
                          env=env, cwd=REPO, timeout=60, check=False)


def test_cli_exit_codes(tmp_path: Path) -> None:
    # Given a good export, a tampered one and January's closing
    entries, lines = _closing_fixture()
    good = tmp_path / "good.jsonl"
    good.write_bytes(b"".join(lines))
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"".join(lines).replace(b"Rechnung 4 ", b"Rechnung 5 ", 1))
    jan = check_closing(lines, "2026-01", "0" * 64, 8, None)[1].closing_hash
    assert jan is not None

    # When the good export is verified  Then exit 0 and the result as JSON
    proc = run_cli(str(good))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"verified": True, "entries": 12, "head_hash": entries[-1]["audit_hash"],
                                       "first_break": None}

    # When the tampered export is verified  Then exit 1 with the break
    proc = run_cli(str(bad))
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["verified"] is False
    assert (out["first_break"]["journal_number"], out["first_break"]["reason"]) == (5, "audit_hash_mismatch")

    # When a closing is checked  Then 0 if it matches, 1 if not
    proc = run_cli(str(good), "--closing", "2026-01", jan, "--chain-length", "8")
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["closing"]["ok"] is True
    proc = run_cli(str(good), "--closing", "2026-01", jan, "--chain-length", "8", "--previous", "1" * 64)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["closing"]["reason"] == "closing_hash_mismatch"

    # When the export comes on standard input  Then the same
    assert run_cli("-", stdin=b"".join(lines)).returncode == 0

    # When the number of processes is chosen  Then the same result; fewer than 1 is a usage error
    for jobs in ("1", "3"):
        proc = run_cli(str(bad), "--jobs", jobs)
        assert proc.returncode == 1
        assert json.loads(proc.stdout) == out
    assert run_cli(str(good), "--jobs", "0").returncode == 2

    # When used wrongly  Then exit 2
    assert run_cli().returncode == 2
    assert run_cli(str(tmp_path / "missing.jsonl")).returncode == 2
    assert run_cli(str(good), "--closing", "2026-01", jan).returncode == 2
    assert run_cli(str(good), "--closing", "2026-1", jan, "--chain-length", "8").returncode == 2
    assert run_cli(str(good), "--chain-length", "8").returncode == 2
