"""The rows of each report (docs/api-contract.md "Periods and reports"), which the domain builds
(domain/reports/statements.py): response models, so they live below the domain. The seed fixes a report's
body as an array of rows; how current it is travels in headers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ledgerlou.models.out import ExactOut
from ledgerlou.money import MoneyOut


class TrialBalanceRow(ExactOut):
    """One account of the Summen- und Saldenliste. Balances are signed, debit positive."""

    account_number: str
    account_name: str | None
    opening_balance: MoneyOut = Field(description="Balance before the first month of the range")
    debit: MoneyOut = Field(description="Debit sum within the range")
    credit: MoneyOut = Field(description="Credit sum within the range")
    closing_balance: MoneyOut = Field(description="opening_balance + debit - credit")


class ReportAccount(ExactOut):
    """An account's share of a report group; the balance sheet's current result has no account number."""

    account_number: str | None
    account_name: str | None
    amount: MoneyOut


class ProfitAndLossRow(ExactOut):
    """A group of the GuV (§ 275 HGB order), income positive; the last row (report_group "result") is the
    Jahresüberschuss/-fehlbetrag."""

    report_group: str
    label: str
    amount: MoneyOut
    accounts: list[ReportAccount]


class BalanceSheetRow(ExactOut):
    """A group of the Bilanz (§ 266 HGB) at the end of the range; the last two rows (report_group "total")
    are the sums of both sides. Equity includes the result not yet closed into equity."""

    side: Literal["assets", "equity_liabilities"]
    report_group: str
    label: str
    amount: MoneyOut
    accounts: list[ReportAccount]


class VatReturnRow(ExactOut):
    """A Kennzahl of the Umsatzsteuer-Voranmeldung; the last row (83) is the tax payable (negative: refund)."""

    kennzahl: str
    label: str
    base: MoneyOut | None = Field(description="Bemessungsgrundlage, where the Kennzahl has one")
    tax: MoneyOut | None


class MonthlyRow(ExactOut):
    month: str = Field(description="YYYY-MM")
    revenue: MoneyOut
    expenses: MoneyOut
    result: MoneyOut = Field(description="revenue - expenses")


# The answer of GET /v1/reports: the rows of the report its `type` query parameter names.
ReportRows = list[TrialBalanceRow] | list[ProfitAndLossRow] | list[BalanceSheetRow] | list[VatReturnRow]
