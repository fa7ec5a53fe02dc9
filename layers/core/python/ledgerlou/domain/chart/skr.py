"""The system charts of accounts SKR03 and SKR04, read from the project's own data files.

`ledgerlou/data/skr03.csv` and `skr04.csv` (UTF-8, header `number,name,type,category,report_group`)
are a curated selection of the DATEV standard charts for a small GmbH or sole trader. Every row
carries the account type, a functional category (e.g. `input_vat`, `bank`, `opening_balance`) and
the HGB line it reports under (`REPORT_GROUPS`: § 266 balance sheet, § 275 Gesamtkostenverfahren).

Imported on Lambda cold starts: stdlib only, and the file is parsed once per process (and chart).
The files are checked while loading, so a broken data file fails loudly instead of booking onto a
half-read chart.
"""

from __future__ import annotations

import csv
import functools
import io
import os
from dataclasses import dataclass

ACCOUNT_TYPES: tuple[str, ...] = ("asset", "liability", "equity", "revenue", "expense")

# HGB line → German label, in the order of the statements (§ 266 Abs. 2/3, § 275 Abs. 2 HGB).
REPORT_GROUPS: dict[str, str] = {
    "bs_a_intangible": "Immaterielle Vermögensgegenstände",
    "bs_a_tangible": "Sachanlagen",
    "bs_a_financial": "Finanzanlagen",
    "bs_b_inventory": "Vorräte",
    "bs_b_receivables": "Forderungen und sonstige Vermögensgegenstände",
    "bs_b_securities": "Wertpapiere",
    "bs_b_cash": "Kassenbestand, Bundesbankguthaben, Guthaben bei Kreditinstituten und Schecks",
    "bs_c_prepaid": "Aktive Rechnungsabgrenzungsposten",
    "bs_equity": "Eigenkapital",
    "bs_provisions": "Rückstellungen",
    "bs_liabilities_bank": "Verbindlichkeiten gegenüber Kreditinstituten",
    "bs_liabilities_trade": "Verbindlichkeiten aus Lieferungen und Leistungen",
    "bs_liabilities_other": "Sonstige Verbindlichkeiten",
    "bs_deferred_income": "Passive Rechnungsabgrenzungsposten",
    "pl_revenue": "Umsatzerlöse",
    "pl_inventory_change": "Erhöhung oder Verminderung des Bestands an fertigen und unfertigen Erzeugnissen",
    "pl_other_income": "Sonstige betriebliche Erträge",
    "pl_material": "Materialaufwand",
    "pl_personnel": "Personalaufwand",
    "pl_depreciation": "Abschreibungen",
    "pl_other_expenses": "Sonstige betriebliche Aufwendungen",
    "pl_financial_income": ("Erträge aus Beteiligungen, Wertpapieren und Ausleihungen, "
                            "sonstige Zinsen und ähnliche Erträge"),
    "pl_interest_expense": "Zinsen und ähnliche Aufwendungen",
    "pl_income_taxes": "Steuern vom Einkommen und vom Ertrag",
    "pl_other_taxes": "Sonstige Steuern",
}

# Both charts: the opening balances of the general-ledger accounts are booked against 9000
# ("Saldenvorträge Sachkonten").
OPENING_BALANCE_ACCOUNT = "9000"

CHARTS: tuple[str, ...] = ("skr03", "skr04")
_ACCOUNT_LENGTH = 4  # DATEV standard length of general-ledger accounts in SKR03 and SKR04
_HEADER = ["number", "name", "type", "category", "report_group"]
_DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data")


@dataclass(frozen=True)
class ChartAccount:
    number: str
    name: str
    type: str
    category: str
    report_group: str
    is_system: bool = True


def _chart_name(chart: str) -> str:
    name = chart.strip().lower() if isinstance(chart, str) else ""
    if name not in CHARTS:
        raise ValueError(f"unknown chart of accounts {chart!r}; expected one of {', '.join(CHARTS)}")
    return name


def account_length(chart: str) -> int:
    """Digits of a general-ledger account number in `chart`."""
    _chart_name(chart)
    return _ACCOUNT_LENGTH


def load_chart(chart: str) -> dict[str, ChartAccount]:
    """The system accounts of `chart` ("skr03"/"skr04", any case), keyed by account number.

    The dict is shared by every caller in the process (cached): read it, never change it.
    """
    return _load(_chart_name(chart))


@functools.lru_cache(maxsize=len(CHARTS))
def _load(name: str) -> dict[str, ChartAccount]:
    path = os.path.join(_DATA_DIR, f"{name}.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    return _parse(name, text)


def _parse(name: str, text: str) -> dict[str, ChartAccount]:
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header != _HEADER:
        raise ValueError(f"{name}.csv: header must be {','.join(_HEADER)}, got {header}")
    accounts: dict[str, ChartAccount] = {}
    for line_no, row in enumerate(rows, start=2):
        if len(row) != len(_HEADER):
            raise ValueError(f"{name}.csv line {line_no}: expected {len(_HEADER)} fields, got {len(row)}")
        number, acc_name, type_, category, group = (field.strip() for field in row)
        problem = _problem(number, acc_name, type_, category, group)
        if problem is None and number in accounts:
            problem = f"duplicate account number {number}"
        if problem is not None:
            raise ValueError(f"{name}.csv line {line_no}: {problem}")
        accounts[number] = ChartAccount(number, acc_name, type_, category, group)
    if OPENING_BALANCE_ACCOUNT not in accounts:
        raise ValueError(f"{name}.csv: opening balance account {OPENING_BALANCE_ACCOUNT} is missing")
    return accounts


def _problem(number: str, name: str, type_: str, category: str, group: str) -> str | None:
    if len(number) != _ACCOUNT_LENGTH or not number.isdigit():
        return f"account number {number!r} is not {_ACCOUNT_LENGTH} digits"
    if not name:
        return f"account {number} has no name"
    if type_ not in ACCOUNT_TYPES:
        return f"account {number}: unknown type {type_!r}"
    if not category or not (category.replace("_", "").isalnum() and category == category.lower()):
        return f"account {number}: category {category!r} is not a snake_case tag"
    if group not in REPORT_GROUPS:
        return f"account {number}: unknown report group {group!r}"
    if group.startswith("pl_") != (type_ in ("revenue", "expense")):
        return f"account {number}: report group {group} does not fit type {type_}"
    return None
