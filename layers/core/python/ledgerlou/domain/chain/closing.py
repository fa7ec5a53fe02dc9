"""The period closing hash (monthly Festschreibung) and its recomputation from an export.

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

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledgerlou.domain.chain.canonical import _PERIOD, GENESIS_HASH, _check_hash, jcs_flat
from ledgerlou.domain.chain.verify import VerifyResult, verify_jsonl

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
