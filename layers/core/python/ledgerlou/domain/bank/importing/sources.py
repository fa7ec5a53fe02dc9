"""Where an import's rows come from: JSON rows or parsed statement files, both made a ``Prepared``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ledgerlou.domain.bank.importing.keys import Row, assign_keys
from ledgerlou.models.bank import BankTransactionIn
from ledgerlou.money import CENT, parse_money
from ledgerlou.store.bank import accounts as account_store


@dataclass
class Prepared:
    """What an import needs from its source, whatever the source was."""

    rows: list[Row]
    errors: list[dict[str, Any]]
    statements: list[dict[str, Any]] = field(default_factory=list)
    balance_mismatches: list[str] = field(default_factory=list)
    # per bank account: the latest closing balance its statements state (date, amount)
    stated: dict[str, tuple[str, Decimal]] = field(default_factory=dict)
    format: str | None = None
    dialect: str | None = None
    # per bank account: rows the request found stored already (``drop_known``), not handed on
    known: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return len(self.rows) + len(self.errors) + sum(self.known.values())

    @property
    def account_ids(self) -> list[str]:
        """The bank accounts the rows go to, in the order of the file (a multi-account MT940 export
        has several)."""
        in_file = [s["bank_account_id"] for s in self.statements if s.get("bank_account_id")]
        return list(dict.fromkeys(in_file + [r.tx["bank_account_id"] for r in self.rows] + list(self.known)
                                  + list(self.stated)))



# ------------------------------------------------------------------------------------- sources
def _tx(account: account_store.BankAccountItem, *, booking_date: dt.date, value_date: dt.date | None, amount: Decimal,
        currency: str | None, **texts: str | None) -> dict[str, Any]:
    tx: dict[str, Any] = {"bank_account_id": account.account_id, "booking_date": booking_date.isoformat(),
                          "value_date": value_date.isoformat() if value_date else None, "amount": amount,
                          "currency": currency or account.currency}
    for name in ("counterparty_name", "counterparty_iban", "counterparty_bic", "purpose", "end_to_end_id",
                 "mandate_id", "creditor_id", "bank_reference"):
        value = texts.get(name)
        tx[name] = value.strip() if isinstance(value, str) and value.strip() else None
    return tx


def _reason(ex: ValidationError) -> str:
    parts = []
    for err in ex.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "row"
        parts.append(f"{where}: {str(err.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "; ".join(parts)


def from_json(account: account_store.BankAccountItem, raw_rows: list[Any]) -> Prepared:
    rows: list[Row] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_rows):
        if not isinstance(raw, dict):
            errors.append({"index": index, "reason": "row: must be an object"})
            continue
        try:
            parsed = BankTransactionIn.model_validate(raw)
        except ValidationError as ex:
            errors.append({"index": index, "reason": _reason(ex)})
            continue
        rows.append(Row(_tx(account, **parsed.model_dump(exclude={"booking_date", "value_date", "amount",
                                                                  "currency"}),
                            booking_date=parsed.booking_date, value_date=parsed.value_date, amount=parsed.amount,
                            currency=parsed.currency)))
    assign_keys(rows)
    return Prepared(rows, errors)


def from_statements(targets: list[account_store.BankAccountItem], parsed: Any) -> Prepared:
    """Rows of a parsed statement file (``ledgerlou.formats.statement.ParsedFile``); ``targets`` is
    the bank account of each statement."""
    rows: list[Row] = []
    errors: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    stated: dict[str, tuple[str, Decimal]] = {}
    for number, (statement, account) in enumerate(zip(parsed.statements, targets, strict=True)):
        errors.extend({"index": e.index, "reason": e.reason, "statement": number} for e in statement.row_errors)
        statement_rows: list[Row] = []
        for position, t in enumerate(statement.transactions):
            try:
                amount = parse_money(t.amount)
            except ValueError as ex:
                errors.append({"index": position, "reason": f"transaction {position}: amount {ex}",
                               "statement": number})
                continue
            statement_rows.append(Row(_tx(
                account, booking_date=t.booking_date, value_date=t.value_date, amount=amount, currency=t.currency,
                counterparty_name=t.counterparty_name, counterparty_iban=t.counterparty_iban,
                counterparty_bic=t.counterparty_bic, purpose=t.purpose, end_to_end_id=t.end_to_end_id,
                mandate_id=t.mandate_id, creditor_id=t.creditor_id, bank_reference=t.bank_reference)))
        assign_keys(statement_rows)
        rows.extend(statement_rows)
        summaries.append({
            "statement_id": statement.statement_id, "account_iban": statement.account_iban,
            "account_number": statement.account_number, "currency": statement.currency,
            "opening_balance": _cents(statement.opening_balance), "closing_balance": _cents(statement.closing_balance),
            "opening_date": statement.opening_date.isoformat() if statement.opening_date else None,
            "closing_date": statement.closing_date.isoformat() if statement.closing_date else None,
            "transactions": len(statement.transactions), "bank_account_id": account.account_id})
        if statement.closing_balance is not None and statement.closing_date is not None and \
                statement.currency in (None, account.currency):
            when, before = statement.closing_date.isoformat(), stated.get(account.account_id)
            if before is None or when >= before[0]:
                stated[account.account_id] = (when, statement.closing_balance)
    return Prepared(rows, errors, summaries, parsed.balance_check(), stated, parsed.format, parsed.dialect)



def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)
