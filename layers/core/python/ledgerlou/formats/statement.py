"""Common model for parsed bank statements (camt.053, MT940, German bank CSV exports).

The parsers in this package are pure: bytes in, these frozen dataclasses out. Nothing here talks to
AWS or HTTP, so the model can be unit-tested and reused by any import path.

Amounts are ``Decimal`` and signed from the account holder's point of view: money coming into the
account is positive, money leaving it is negative. Balances use the same sign convention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

_WHITESPACE = re.compile(r"\s+")
# The largest amount a statement can state: the API's amount range (docs/api-contract.md "Values"). The formats
# allow less (MT940 15 characters, camt 18 digits, CSV no limit), and Decimal arithmetic on the
# default 28-digit context fails on more (quantize to cents raised InvalidOperation: a 500).
MAX_STATEMENT_AMOUNT = Decimal("999999999999.99")


class UnsupportedFormat(ValueError):
    """The bytes are not a bank statement format we can read (or are too damaged to read)."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One entry/row that could not be read. The rest of the statement is still returned.

    ``index`` is 0-based and counted per source: the data row of a CSV file (after the header,
    blank lines not counted), the ``:61:`` line within an MT940 statement, or the ``<Ntry>``
    within a camt.053 ``<Stmt>``.
    """

    index: int
    reason: str


@dataclass(frozen=True, slots=True)
class StatementTransaction:
    booking_date: date
    value_date: date | None
    amount: Decimal  # signed: money in is positive
    currency: str
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    counterparty_bic: str | None = None
    purpose: str | None = None
    end_to_end_id: str | None = None
    mandate_id: str | None = None
    creditor_id: str | None = None
    bank_reference: str | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    account_iban: str | None
    account_number: str | None
    currency: str | None
    statement_id: str | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    opening_date: date | None
    closing_date: date | None
    transactions: list[StatementTransaction] = field(default_factory=list)
    row_errors: list[RowError] = field(default_factory=list)

    def balance_check(self) -> list[str]:
        """Human-readable mismatches between the stated balances and the transactions.

        Returns an empty list when opening + sum(transactions) == closing, or when the statement
        does not state both balances (nothing to check then). Only transactions in the statement
        currency can be added to its balances; others are reported instead of silently summed.
        """
        if self.opening_balance is None or self.closing_balance is None:
            return []
        problems: list[str] = []
        in_currency = [t for t in self.transactions if self.currency is None or t.currency == self.currency]
        foreign = len(self.transactions) - len(in_currency)
        if foreign:
            problems.append(
                f"{foreign} transaction(s) are not in the statement currency {self.currency} "
                "and cannot be checked against its balances"
            )
        total = sum((t.amount for t in in_currency), Decimal(0))
        expected = self.opening_balance + total
        if expected != self.closing_balance:
            problems.append(
                f"opening balance {_fmt(self.opening_balance)} + transactions {_fmt(total)} "
                f"= {_fmt(expected)}, but the closing balance is {_fmt(self.closing_balance)} "
                f"(difference {_fmt(self.closing_balance - expected)})"
            )
        return problems


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """Result of :func:`ledgerlou.formats.detect.parse_statement`.

    ``format`` is one of ``"camt053"``, ``"mt940"``, ``"bankcsv"``. ``dialect`` refines it where the
    content tells us more: the camt.053 schema version (``"camt.053.001.08"``) or the bank CSV
    layout (``"sparkasse_camt"``, ``"dkb"``, ...).
    """

    format: str
    statements: list[Statement]
    dialect: str | None = None

    def balance_check(self) -> list[str]:
        """All statements' balance mismatches, each prefixed with which statement it is about."""
        messages: list[str] = []
        for number, statement in enumerate(self.statements, start=1):
            label = f"statement {number}"
            if statement.statement_id:
                label += f" ({statement.statement_id})"
            messages.extend(f"{label}: {problem}" for problem in statement.balance_check())
        return messages


def checked_amount(value: Decimal) -> Decimal:
    """An amount or balance as read from a statement, refused (ValueError) beyond MAX_STATEMENT_AMOUNT.

    The parsers treat the ValueError as they treat any unreadable amount: the row becomes a RowError,
    a balance is dropped (which only disables the balance check)."""
    if not value.is_finite() or abs(value) > MAX_STATEMENT_AMOUNT:
        raise ValueError(f"amount {value} is out of range (at most {MAX_STATEMENT_AMOUNT})")
    return value


def _fmt(value: Decimal) -> str:
    # Two decimals at least, so "0" and "0.00" read the same in messages; more are kept as stated.
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(Decimal("0.01"))
    return f"{value:f}"


def clean_text(*parts: str | None, sep: str = " ") -> str | None:
    """Join text parts and collapse whitespace runs; ``None`` when nothing is left.

    Bank formats pad fields with blanks and wrap long texts at fixed widths, so purposes and names
    are normalised the same way for every format; matching and display both want that.
    """
    joined = sep.join(p for p in parts if p)
    text = _WHITESPACE.sub(" ", joined).strip()
    return text or None


def first(values: Iterable[str | None]) -> str | None:
    """The first non-empty value."""
    for value in values:
        if value:
            return value
    return None


_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")
_BIC_SHAPE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")


def looks_like_iban(value: str | None) -> bool:
    """Shape check only (no checksum): the samples and real exports carry anonymised IBANs."""
    if not value:
        return False
    return _IBAN_SHAPE.match(value.replace(" ", "")) is not None


def looks_like_bic(value: str | None) -> bool:
    if not value:
        return False
    return _BIC_SHAPE.match(value.strip()) is not None
