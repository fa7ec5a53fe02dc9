"""Reports: Summen- und Saldenliste, GuV, Bilanz, UStVA, monthly revenue/expenses, DATEV export.

Reports never scan the journal: they read the projected month summaries (one item per month, one
BatchGetItem for a year; cost follows accounts and months, not entries) plus the few blocks not yet
projected, and say up to which journal_number they are current. Reports cover whole months (periods).
The DATEV export, which must list every entry of its range, reads the journal blocks of the range's
months (their block spans) with BatchGetItem, in journal order, ~100 blocks at a time.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ledgerlou.domain.caller import Caller as AuthContext
from ledgerlou.domain.chart import accounts
from ledgerlou.domain.chart.skr import REPORT_GROUPS
from ledgerlou.domain.journal import appender as ledger
from ledgerlou.domain.journal import projector
from ledgerlou.domain.ranges import MAX_REPORT_MONTHS, check_range
from ledgerlou.errors import DatevAmountTooLarge, InvalidInput, RangeTooLarge
from ledgerlou.models.reports import (
    BalanceSheetRow,
    MonthlyRow,
    ProfitAndLossRow,
    ReportAccount,
    TrialBalanceRow,
    VatReturnRow,
)
from ledgerlou.store.journal import month_summary
from ledgerlou.store.journal import projections as views

ZERO = Decimal(0)
PL_ORDER = ("pl_revenue", "pl_inventory_change", "pl_other_income", "pl_material", "pl_personnel",
            "pl_depreciation", "pl_other_expenses", "pl_financial_income", "pl_interest_expense",
            "pl_income_taxes", "pl_other_taxes")
ASSET_GROUPS = ("bs_a_intangible", "bs_a_tangible", "bs_a_financial", "bs_b_inventory", "bs_b_receivables",
                "bs_b_securities", "bs_b_cash", "bs_c_prepaid")
EQUITY_LIABILITY_GROUPS = ("bs_equity", "bs_provisions", "bs_liabilities_bank", "bs_liabilities_trade",
                           "bs_liabilities_other", "bs_deferred_income")
# DATEV Automatikkonten: DATEV derives the tax from the account itself; a BU key on them is an error
# in the import, so rows on these accounts with their own rate are sent gross without a key.
AUTOMATIC_ACCOUNTS = {
    "skr03": {"8400": "USt19", "8300": "USt7", "3400": "VSt19", "3300": "VSt7"},
    "skr04": {"4400": "USt19", "4300": "USt7", "5400": "VSt19", "5300": "VSt7"},
}
DEFAULT_GROUP = {"asset": "bs_b_receivables", "liability": "bs_liabilities_other", "equity": "bs_equity",
                 "revenue": "pl_other_income", "expense": "pl_other_expenses"}


@dataclass(frozen=True)
class Range:
    start_month: str
    end_month: str

    @property
    def months_label(self) -> str:
        return f"{self.start_month}..{self.end_month}"


def month_range(start: dt.date | None, end: dt.date | None, today: dt.date | None = None) -> Range:
    """Whole months only: a period report from the 15th would silently mix periods."""
    today = today or dt.datetime.now(dt.UTC).date()
    end = end or dt.date(today.year, 12, 31)
    start = start or dt.date(end.year, 1, 1)
    if start.day != 1:
        raise InvalidInput.field("startDate", "reports cover whole months: must be the first day of a month")
    if end.day != calendar.monthrange(end.year, end.month)[1]:
        raise InvalidInput.field("endDate", "reports cover whole months: must be the last day of a month")
    check_range(start, end, max_months=MAX_REPORT_MONTHS, what="A report")
    return Range(start.isoformat()[:7], end.isoformat()[:7])


@dataclass
class Snapshot:
    """Per-month balances and tax sums: projections plus the unprojected tail, consistently merged."""

    balances: dict[str, dict[str, list[Decimal]]] = field(default_factory=dict)  # month → acct → [d, c]
    taxsums: dict[str, dict[str, list[Decimal]]] = field(default_factory=dict)  # month → code → [base, tax]
    current_through: int = 0

    def months(self) -> list[str]:
        return sorted(self.balances)


def snapshot(tenant_id: str, through_month: str | None = None) -> Snapshot:
    state = ledger.read_state(tenant_id)
    snap = Snapshot(current_through=state.head.last_journal_number)
    months = set(views.months(tenant_id))
    for block in state.tail.blocks:
        months.update(e["booking_date"][:7] for e in block.entries)
    wanted = sorted(m for m in months if through_month is None or m <= through_month)
    summaries = month_summary.get_many(tenant_id, wanted)
    for block in state.tail.blocks:
        for month, terms in projector.month_terms(block.entries).items():
            if month in summaries:
                summaries[month].add_unapplied(terms, block.seq)
    for month in wanted:
        snap.balances[month] = summaries[month].accounts
        snap.taxsums[month] = summaries[month].taxes
    return snap


def _sum(snap: Snapshot, months: list[str]) -> dict[str, list[Decimal]]:
    out: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for m in months:
        for acct, (d, c) in snap.balances.get(m, {}).items():
            out[acct][0] += d
            out[acct][1] += c
    return out


class _Names:
    def __init__(self, ctx: AuthContext) -> None:
        self.ctx = ctx
        self.cache: dict[str, accounts.Account | None] = {}

    def get(self, number: str) -> accounts.Account | None:
        if number not in self.cache:
            self.cache[number] = accounts.find(self.ctx.tenant_id, self.ctx.chart, number)
        return self.cache[number]

    def group(self, number: str) -> str:
        acc = self.get(number)
        if acc is None:
            return "bs_b_receivables"
        return acc.report_group or DEFAULT_GROUP.get(acc.type, "bs_b_receivables")


def trial_balance(ctx: AuthContext, rng: Range) -> tuple[list[TrialBalanceRow], int]:
    snap = snapshot(ctx.tenant_id, rng.end_month)
    before = _sum(snap, [m for m in snap.months() if m < rng.start_month])
    within = _sum(snap, [m for m in snap.months() if rng.start_month <= m <= rng.end_month])
    names = _Names(ctx)
    rows = []
    for acct in sorted(set(before) | set(within)):
        opening = before[acct][0] - before[acct][1] if acct in before else ZERO
        debit, credit = within.get(acct, (ZERO, ZERO))
        if opening == 0 and debit == 0 and credit == 0:
            continue
        acc = names.get(acct)
        rows.append(TrialBalanceRow(account_number=acct, account_name=acc.name if acc else None,
                                    opening_balance=opening, debit=debit, credit=credit,
                                    closing_balance=opening + debit - credit))
    return rows, snap.current_through


def _pl_rows(ctx: AuthContext, sums: dict[str, list[Decimal]], names: _Names) -> list[ProfitAndLossRow]:
    groups: dict[str, list[ReportAccount]] = defaultdict(list)
    for acct, (d, c) in sorted(sums.items()):
        group = names.group(acct)
        if not group.startswith("pl_") or d == c:
            continue
        acc = names.get(acct)
        groups[group].append(ReportAccount(account_number=acct, account_name=acc.name if acc else None, amount=c - d))
    rows = []
    for group in PL_ORDER:
        if group in groups:
            rows.append(ProfitAndLossRow(report_group=group, label=REPORT_GROUPS.get(group, group),
                                         amount=sum((a.amount for a in groups[group]), ZERO), accounts=groups[group]))
    return rows


def profit_and_loss(ctx: AuthContext, rng: Range) -> tuple[list[ProfitAndLossRow], int]:
    snap = snapshot(ctx.tenant_id, rng.end_month)
    sums = _sum(snap, [m for m in snap.months() if rng.start_month <= m <= rng.end_month])
    rows = _pl_rows(ctx, sums, _Names(ctx))
    result = sum((r.amount for r in rows), ZERO)
    rows.append(ProfitAndLossRow(report_group="result", label="Jahresüberschuss/Jahresfehlbetrag", amount=result,
                                 accounts=[]))
    return rows, snap.current_through


def balance_sheet(ctx: AuthContext, rng: Range) -> tuple[list[BalanceSheetRow], int]:
    """Bilanz at the end of the range; equity includes the result not yet closed into equity."""
    snap = snapshot(ctx.tenant_id, rng.end_month)
    sums = _sum(snap, [m for m in snap.months() if m <= rng.end_month])
    names = _Names(ctx)
    groups: dict[str, list[ReportAccount]] = defaultdict(list)
    result = ZERO
    for acct, (d, c) in sorted(sums.items()):
        group = names.group(acct)
        if group.startswith("pl_"):
            result += c - d
            continue
        amount = d - c if group in ASSET_GROUPS else c - d
        if amount == 0:
            continue
        acc = names.get(acct)
        groups[group].append(ReportAccount(account_number=acct, account_name=acc.name if acc else None,
                                           amount=amount))
    rows: list[BalanceSheetRow] = []
    total_assets = total_el = ZERO
    sides: tuple[tuple[Literal["assets", "equity_liabilities"], tuple[str, ...]], ...] = (
        ("assets", ASSET_GROUPS), ("equity_liabilities", EQUITY_LIABILITY_GROUPS))
    for side, order in sides:
        for group in order:
            accts = groups.get(group, [])
            amount = sum((a.amount for a in accts), ZERO)
            if group == "bs_equity":
                current = ReportAccount(account_number=None, account_name="Jahresüberschuss/-fehlbetrag (laufend)",
                                        amount=result)
                accts = [*accts, current]
                amount += result
            if not accts:
                continue
            rows.append(BalanceSheetRow(side=side, report_group=group, label=REPORT_GROUPS.get(group, group),
                                        amount=amount, accounts=accts))
            if side == "assets":
                total_assets += amount
            else:
                total_el += amount
    rows.append(BalanceSheetRow(side="assets", report_group="total", label="Summe Aktiva", amount=total_assets,
                                accounts=[]))
    rows.append(BalanceSheetRow(side="equity_liabilities", report_group="total", label="Summe Passiva",
                                amount=total_el, accounts=[]))
    return rows, snap.current_through


# UStVA Kennzahlen (form 2025/2026): output tax bases 81 (19 %), 86 (7 %), 35/36 (other rates);
# intra-EU acquisitions 89 (+ input VAT 61); §13b recipient 84/85 (+ input VAT 67); input VAT 66; 83 payable.
def vat_return(ctx: AuthContext, rng: Range) -> tuple[list[VatReturnRow], int]:
    from ledgerlou.domain.chart import tax_codes

    snap = snapshot(ctx.tenant_id, rng.end_month)
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for month in snap.months():
        if rng.start_month <= month <= rng.end_month:
            for code, (base, tax) in snap.taxsums.get(month, {}).items():
                totals[code][0] += base
                totals[code][1] += tax
    boxes: dict[str, dict[str, Any]] = {}

    def add(kz: str, label: str, base: Decimal | None, tax: Decimal | None) -> None:
        box = boxes.setdefault(kz, {"kennzahl": kz, "label": label, "base": None, "tax": None})
        if base is not None:
            box["base"] = (box["base"] or ZERO) + base
        if tax is not None:
            box["tax"] = (box["tax"] or ZERO) + tax

    output_tax = input_tax = ZERO
    for code, (base, tax) in sorted(totals.items()):
        item = tax_codes.get_code(ctx.tenant_id, code) if _exists(ctx, code) else None
        if item is None:
            continue
        rate = Decimal(item.rate)
        if item.self_assess_account:
            if code == "IGE19" or item.vat_account in ("1574", "1404"):
                add("89", "Innergemeinschaftliche Erwerbe zum Steuersatz von 19 %", base, tax)
                add("61", "Vorsteuer aus innergemeinschaftlichem Erwerb", None, tax)
            else:
                add("84", "Leistungen nach § 13b UStG (Leistungsempfänger schuldet die Steuer)", base, None)
                add("85", "Steuer nach § 13b UStG", None, tax)
                add("67", "Vorsteuer nach § 13b UStG", None, tax)
            output_tax += tax
            input_tax += tax
        elif item.direction == "output":
            if rate == 19:
                add("81", "Steuerpflichtige Umsätze zum Steuersatz von 19 %", base, tax)
            elif rate == 7:
                add("86", "Steuerpflichtige Umsätze zum Steuersatz von 7 %", base, tax)
            else:
                add("35", "Umsätze zu anderen Steuersätzen (Bemessungsgrundlage)", base, None)
                add("36", "Steuer zu anderen Steuersätzen", None, tax)
            output_tax += tax
        else:
            add("66", "Vorsteuerbeträge aus Rechnungen von anderen Unternehmern", None, tax)
            input_tax += tax
    rows = [VatReturnRow(**boxes[k]) for k in sorted(boxes, key=int)]
    rows.append(VatReturnRow(kennzahl="83", label="Verbleibende Umsatzsteuer-Vorauszahlung / Überschuss (−)",
                             base=None, tax=output_tax - input_tax))
    return rows, snap.current_through


def _exists(ctx: AuthContext, code: str) -> bool:
    from ledgerlou.store.chart import tax_codes as store

    return store.get(ctx.tenant_id, code) is not None


def monthly_revenue_expenses(ctx: AuthContext, rng: Range) -> tuple[list[MonthlyRow], int]:
    snap = snapshot(ctx.tenant_id, rng.end_month)
    names = _Names(ctx)
    rows = []
    # The months are counted as integers (month_range bounds how many): a "YYYY-MM" string loop once ran
    # from 9000 to "99989-12" because "10000-01" <= "9999-12" lexically.
    first, last = dt.date.fromisoformat(f"{rng.start_month}-01"), dt.date.fromisoformat(f"{rng.end_month}-01")
    for key in _months(first, last):
        revenue = expenses = ZERO
        for acct, (d, c) in snap.balances.get(key, {}).items():
            acc = names.get(acct)
            if acc is None:
                continue
            if acc.type == "revenue":
                revenue += c - d
            elif acc.type == "expense":
                expenses += d - c
        rows.append(MonthlyRow(month=key, revenue=revenue, expenses=expenses, result=revenue - expenses))
    return rows, snap.current_through


# ------------------------------------------------------------------------------------------ DATEV
def datev_export(ctx: AuthContext, start: dt.date, end: dt.date) -> tuple[str, Iterator[bytes]]:
    """EXTF Buchungsstapel: one row per entry, or per tax-split line (gross + BU-Schlüssel), in journal order."""
    from ledgerlou.domain.chart.skr import account_length
    from ledgerlou.formats import datev
    from ledgerlou.store.admin import tenants

    check_range(start, end)
    tenant = tenants.get(ctx.tenant_id)
    fy_month = int(tenant.fiscal_year_start_month) if tenant else 1
    fy_start, fy_end = _fiscal_year(start, fy_month)
    if end > fy_end:
        # DATEV's own rule: Belegdatum is DDMM and takes its year from the header's WJ-Beginn, so one
        # EXTF file holds one fiscal year (at most 12 months) and a longer range is several files.
        raise RangeTooLarge(
            f"A DATEV Buchungsstapel covers at most one fiscal year (12 months); startDate {start.isoformat()} "
            f"lies in the fiscal year {fy_start.isoformat()}..{fy_end.isoformat()}, endDate "
            f"{end.isoformat()} does not. Export each fiscal year separately.",
            details=[{"field": "endDate", "issue": f"must not be after {fy_end.isoformat()} (one fiscal year)"}])
    state = ledger.read_state(ctx.tenant_id)
    months = _months(start, end)
    locked = all(state.locks.get(m) == "locked" for m in months)
    header = datev.DatevHeader(
        consultant_number=int(tenant.datev_consultant_number) if tenant else 1001,
        client_number=int(tenant.datev_client_number) if tenant else 1, fiscal_year_start=fy_start,
        account_length=account_length(ctx.chart), date_from=start, date_to=end,
        label=f"LedgerLou {start.isoformat()[:7]}", created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        locked=locked, skr=ctx.chart[-2:], created_by="LedgerLou")
    return datev.extf_filename(header), datev.iter_extf(header, _datev_rows(ctx, state, months, start, end))


def _fiscal_year(day: dt.date, fy_month: int) -> tuple[dt.date, dt.date]:
    """First and last day of the fiscal year holding ``day``, clamped to what ``date`` can hold: bookings
    may be dated in 0001 or 9999, and the fiscal year of 9999 would otherwise end in 10000 (ValueError,
    a 500 on GET /v1/reports/datev-export?startDate=9999-12-01&endDate=9999-12-31)."""
    year = day.year if day.month >= fy_month else day.year - 1
    fy_start = dt.date(year, fy_month, 1) if year >= dt.MINYEAR else dt.date.min
    if year + 1 > dt.MAXYEAR:
        return fy_start, dt.date.max
    return fy_start, dt.date(year + 1, fy_month, 1) - dt.timedelta(days=1)


def _months(start: dt.date, end: dt.date) -> list[str]:
    """The months YYYY-MM from start's to end's, counted in integers: stepping a date past 9999-12 would
    raise (see _fiscal_year)."""
    first, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, last + 1)]


READ_BLOCKS_AT_ONCE = 100  # one BatchGetItem; bounds the export's memory to ~100 blocks of entries


def _datev_blocks(ctx: AuthContext, state: ledger.JournalState, months: list[str]) -> Iterator[Any]:
    """The journal blocks that can hold entries of these months, in journal order: the projected ones
    by the months' block spans (store/month_summary.py), read with BatchGetItem, then the unprojected
    tail. No Query over per-entry items: the cost follows the blocks of the range."""
    from ledgerlou.store.journal import blocks as journal_store

    spans = []
    for summary in month_summary.get_many(ctx.tenant_id, months).values():
        if summary.first_block is not None and summary.last_block is not None:
            spans.append((summary.first_block, min(summary.last_block, state.watermark)))
        elif summary.accounts:  # written before block spans existed: fall back to every projected block
            spans.append((1, state.watermark))
    seqs = sorted({seq for lo, hi in spans for seq in range(lo, hi + 1)})
    for i in range(0, len(seqs), READ_BLOCKS_AT_ONCE):
        chunk = seqs[i: i + READ_BLOCKS_AT_ONCE]
        found = journal_store.get_blocks(ctx.tenant_id, chunk)
        for seq in chunk:
            if seq in found:
                yield found[seq]
    yield from state.tail.blocks


def _datev_rows(ctx: AuthContext, state: ledger.JournalState, months: list[str], start: dt.date,
                end: dt.date) -> Iterator[Any]:
    """One row per entry (per tax-split line for BU keys), in journal order."""
    from ledgerlou.domain.receivables import projection as receivables
    from ledgerlou.formats import datev

    first, last = start.isoformat(), end.isoformat()
    # Belegfeld 1 of a booking an invoice links is the invoice's number (its own bookings carry it already)
    invoice_numbers = receivables.invoice_numbers(ctx.tenant_id, months, state.tail)
    for block in _datev_blocks(ctx, state, months):
        entries = [e for e in block.entries if first <= e["booking_date"] <= last]
        if not entries:
            continue
        refs = {i["intent_id"]: i.get("external_reference") for i in block.intents}
        # A booking lies within one block, so its tax-split lines are grouped here.
        grouped: dict[tuple[str, Any], list[dict[str, Any]]] = {}
        for e in sorted(entries, key=lambda e: e["journal_number"]):
            key = (e["intent_id"], e.get("line_index")) if e.get("tax_code") in datev.BU_KEYS else (
                e["intent_id"], f"#{e['journal_number']}")
            grouped.setdefault(key, []).append(e)
        for group in grouped.values():
            main = next((e for e in group if e.get("role", "main") == "main"), group[0])
            code = main.get("tax_code")
            bu = datev.BU_KEYS.get(code) if code else None
            automatic = AUTOMATIC_ACCOUNTS.get(ctx.chart, {})
            if code and code in (automatic.get(main["account_debit"]), automatic.get(main["account_credit"])):
                bu = None
                code = "automatic"
            self_assess = bu is not None and code in ("RC19", "IGE19")
            # DATEV splits gross amounts with the BU key itself; for §13b/IGE the tax is computed on top.
            gross = code == "automatic" or (bu is not None and not self_assess)
            amount = sum((Decimal(e["amount"]) for e in group), ZERO) if gross else Decimal(main["amount"])
            if amount > datev.MAX_AMOUNT:
                # DATEV's Umsatz has at most 10 integer digits; the journal allows 12. Splitting the row
                # would change what the tax advisor sees, so the export says which entry cannot go.
                raise DatevAmountTooLarge(
                    f"Entry {main['journal_number']} has an amount above 9,999,999,999.99, which a DATEV "
                    "Buchungsstapel cannot carry; export the other entries by choosing another period.",
                    details=[{"field": "journal_number", "issue": str(main["journal_number"])}])
            yield datev.DatevRow(amount=amount, debit_credit="S", account=main["account_debit"],
                                 contra_account=main["account_credit"], bu_key=bu,
                                 document_date=dt.date.fromisoformat(main["booking_date"]),
                                 document_field_1=invoice_numbers.get(main["intent_id"]) or refs.get(main["intent_id"]),
                                 text=main["description"],
                                 currency=main.get("currency") or "EUR")
