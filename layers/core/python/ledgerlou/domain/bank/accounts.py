"""Bank accounts (each linked to a ledger account of the chart), their transactions and balances.

Imports of transactions live in ``importing``; this module owns the accounts and the read side.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

from ledgerlou.domain.caller import Caller
from ledgerlou.domain.chart import accounts as chart_accounts
from ledgerlou.domain.chart import skr as charts
from ledgerlou.errors import (
    AccountNotFound,
    BankAccountExists,
    Conflict,
    InvalidInput,
    LedgerAccountInUse,
    NoFreeLedgerAccount,
    NotFound,
    TransactionStatusChanged,
)
from ledgerlou.money import CENT
from ledgerlou.store.bank import accounts as account_store
from ledgerlou.store.bank import claims as claim_store
from ledgerlou.store.bank import counters as counter_store
from ledgerlou.store.bank import pages as page_store
from ledgerlou.store.base import now_iso

STATUSES = ("unreconciled", "reconciled", "dismissed")
# Ledger accounts picked for a new bank account when none is given: 1200, 1210 … 1290 (SKR03),
# 1800, 1810 … 1890 (SKR04) — those of them the chart has with the category "bank".
AUTO_LEDGER_RANGE = {"skr03": range(1200, 1300, 10), "skr04": range(1800, 1900, 10)}
MAX_HISTORY_DAYS = 366


# ------------------------------------------------------------------------------------- IBAN / BIC
def normalise_iban(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def validate_iban(value: str, field: str = "iban") -> str:
    """The IBAN in its compact form, or 400 with what is wrong (country, length, checksum)."""
    from schwifty import IBAN  # lazily: its registry costs cold-start time in every other route
    from schwifty.exceptions import SchwiftyException

    try:
        return str(IBAN(normalise_iban(value)).compact)
    except SchwiftyException as ex:
        raise InvalidInput.field(field, f"not a valid IBAN: {_lower_first(str(ex))}") from None


def validate_bic(value: str, field: str = "bic") -> str:
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    try:
        # Structure and country only: the registry does not know every BIC that exists.
        return str(BIC(normalise_iban(value)).compact)
    except SchwiftyException as ex:
        raise InvalidInput.field(field, f"not a valid BIC: {_lower_first(str(ex))}") from None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


# ------------------------------------------------------------------------------------- which account a statement is
def _digits(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", value).lstrip("0").upper()


def _blz_kto(number: str) -> tuple[str, str] | None:
    """MT940 ``:25:`` in the German form BLZ/Kontonummer."""
    m = re.fullmatch(r"\s*(\d{8})\s*/\s*(\d{1,10})\s*", number)
    return (m.group(1), m.group(2)) if m else None


def statement_is_account(account_iban: str | None, account_number: str | None, statement_iban: str | None,
                         statement_number: str | None) -> bool | None:
    """Whether a statement belongs to a bank account: True, False (another account), or None when the
    two carry nothing comparable (e.g. an account without IBAN and a statement without account
    number) — then the caller's choice of account stands."""
    if statement_iban and account_iban:
        return normalise_iban(statement_iban) == account_iban
    if statement_number:
        parts = _blz_kto(statement_number)
        if account_iban and parts and account_iban.startswith("DE") and len(account_iban) == 22:
            return account_iban[4:12] == parts[0] and account_iban[12:].lstrip("0") == parts[1].lstrip("0")
        if account_number:
            theirs = _digits(parts[1] if parts else statement_number)
            return _digits(account_number) in (theirs, _digits(statement_number))
    if statement_iban and account_number:
        iban, number = normalise_iban(statement_iban), _digits(account_number)
        if number == iban:
            return True
        if iban.startswith("DE") and len(iban) == 22 and number.isdigit() and len(number) <= 10:
            return iban[12:].lstrip("0") == number  # a German account number is part of its IBAN
    return None


# ------------------------------------------------------------------------------------- accounts
def view(item: account_store.BankAccountItem) -> dict[str, Any]:
    return {
        "id": item.account_id, "name": item.name, "iban": item.iban, "bic": item.bic,
        "account_number": item.account_number, "currency": item.currency, "ledger_account": item.ledger_account,
        "tx_count": int(item.tx_count or 0), "unreconciled_count": int(item.unreconciled_count or 0),
        "last_tx_date": item.last_tx_date,
        "stated_balance": item.stated_balance.quantize(CENT) if item.stated_balance is not None else None,
        "stated_balance_date": item.stated_balance_date,
        "created_at": item.created_at, "updated_at": item.updated_at,
    }


def get_account(tenant_id: str, account_id: str) -> account_store.BankAccountItem:
    item = account_store.get_account(tenant_id, account_id.lower())
    if item is None:
        raise NotFound("Bank account not found.")
    return item


def list_accounts(tenant_id: str) -> list[account_store.BankAccountItem]:
    return sorted(account_store.list_accounts(tenant_id), key=lambda a: (a.created_at, a.account_id))


def create_account(ctx: Caller, *, name: str, iban: str | None, bic: str | None, account_number: str | None,
                   currency: str | None, ledger_account: str | None) -> account_store.BankAccountItem:
    if not iban and not account_number:
        raise InvalidInput("An iban or an account_number is required.", details=[
            {"field": "iban", "issue": "an iban or an account_number is required"},
            {"field": "account_number", "issue": "an iban or an account_number is required"}])
    compact_iban = validate_iban(iban) if iban else None
    compact_bic = validate_bic(bic) if bic else None
    if ledger_account is not None:
        acc = chart_accounts.find(ctx.tenant_id, ctx.chart, ledger_account)
        if acc is None:
            raise AccountNotFound.field("ledger_account", f"account {ledger_account} does not exist in the chart")
        if acc.category != "bank":
            raise InvalidInput.field("ledger_account", f"account {ledger_account} is not a bank account "
                                     f"(category {acc.category or 'none'})")
    account_id = str(uuid.uuid4())
    now = now_iso()
    # Unique values first, the account last: a create that fails halfway leaves at most a claim
    # without account, which the next create takes over (claims cannot be deleted).
    ledger = _claim_ledger_account(ctx, account_id, ledger_account, now)
    if compact_iban:
        _claim(ctx.tenant_id, "iban", compact_iban, account_id, now,
               BankAccountExists(f"A bank account with IBAN {compact_iban} exists already."))
    item = account_store.BankAccountItem(
        account_id=account_id, name=name, iban=compact_iban, bic=compact_bic,
        account_number=account_number.strip() if account_number else None,
        currency=currency or ctx.base_currency, ledger_account=ledger, created_at=now, created_by=ctx.actor_id,
        updated_at=now, tx_count=0, unreconciled_count=0, month_totals={}, month_counts={})
    account_store.put_account(ctx.tenant_id, item)
    return item


def _claim(tenant_id: str, kind: str, value: str, account_id: str, now: str, conflict: Conflict) -> None:
    holder = claim_store.claim(tenant_id, kind, value, account_id, now)
    if holder is None or holder == account_id:
        return
    if account_store.get_account(tenant_id, holder, consistent=True) is None and \
            claim_store.take_over_claim(tenant_id, kind, value, holder, account_id):
        return
    raise conflict


def _claim_ledger_account(ctx: Caller, account_id: str, ledger_account: str | None, now: str) -> str:
    if ledger_account is not None:
        _claim(ctx.tenant_id, "ledger", ledger_account, account_id, now,
               LedgerAccountInUse(f"Ledger account {ledger_account} is linked to another bank account already.",
                                  details=[{"field": "ledger_account", "issue": "linked to another bank account"}]))
        return ledger_account
    chart = charts.load_chart(ctx.chart)
    candidates = [str(n) for n in AUTO_LEDGER_RANGE.get(ctx.chart.lower(), ())
                  if str(n) in chart and chart[str(n)].category == "bank"]
    taken = claim_store.claims(ctx.tenant_id, "ledger")
    for number in candidates:
        if number in taken and account_store.get_account(ctx.tenant_id, taken[number], consistent=True) is not None:
            continue
        try:
            _claim(ctx.tenant_id, "ledger", number, account_id, now, Conflict("taken"))
            return number
        except Conflict:
            continue  # another create took it a moment ago: the next one
    raise NoFreeLedgerAccount("Every bank ledger account of the chart (" + ", ".join(candidates) + ") is linked "
                              "already; create a custom account with category 'bank' and pass it as ledger_account.")


def rename_account(tenant_id: str, account_id: str, name: str) -> account_store.BankAccountItem:
    item = account_store.rename_account(tenant_id, account_id.lower(), name, now_iso())
    if item is None:
        raise NotFound("Bank account not found.")
    return item


def find_account_for(tenant_id: str, statement_iban: str | None,
                     statement_number: str | None) -> account_store.BankAccountItem | None:
    for item in list_accounts(tenant_id):
        if statement_is_account(item.iban, item.account_number, statement_iban, statement_number):
            return item
    return None


# ------------------------------------------------------------------------------------- transactions
def tx_view(tx: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": tx["id"], "bank_account_id": tx["bank_account_id"], "booking_date": tx["booking_date"],
        "value_date": tx["value_date"], "amount": tx["amount"].quantize(CENT), "currency": tx["currency"],
        "counterparty_name": tx["counterparty_name"], "counterparty_iban": tx["counterparty_iban"],
        "counterparty_bic": tx["counterparty_bic"], "purpose": tx["purpose"], "end_to_end_id": tx["end_to_end_id"],
        "mandate_id": tx["mandate_id"], "creditor_id": tx["creditor_id"], "bank_reference": tx["bank_reference"],
        "status": tx["status"], "batch_id": tx["batch_id"], "document_id": tx["document_id"],
        "created_at": tx["created_at"],
    }


def get_transaction(tenant_id: str, tx_id: str) -> dict[str, Any]:
    tx = page_store.get_transaction(tenant_id, tx_id.lower())
    if tx is None:
        raise NotFound("Bank transaction not found.")
    return tx_view(tx)


def set_transaction_status(tenant_id: str, tx_id: str, status: str, expected: str | None = None) -> dict[str, Any]:
    """Change a transaction's status (reconciliation: reconciled / dismissed / back to unreconciled).
    The transaction lives in a page item with others; the change is an UpdateItem of the page's status
    string conditional on its version (``page_store.set_status``), so concurrent changes of one page all
    land, and an import never touches existing pages. With ``expected``, 409 when the status is
    another (someone else changed it). The account's ``unreconciled_count`` follows with an ADD —
    a second write: a crash between the two leaves the counter off by one (not yet reconciled)."""
    if status not in STATUSES:
        raise InvalidInput.field("status", f"must be one of {', '.join(STATUSES)}")
    try:
        changed = page_store.set_status(tenant_id, tx_id.lower(), status, expected)
    except page_store.StatusMismatch as ex:
        raise TransactionStatusChanged(f"The bank transaction is {ex.status}, not {expected}.",
                                       details=[{"field": "status", "issue": f"is {ex.status}"}]) from None
    if changed is None:
        raise NotFound("Bank transaction not found.")
    account_id, before = changed
    delta = (status == "unreconciled") - (before == "unreconciled")
    if delta:
        counter_store.add_unreconciled(tenant_id, account_id, delta)
    return get_transaction(tenant_id, tx_id)


def _months(item: account_store.BankAccountItem, start: str | None, end: str | None) -> list[str]:
    return sorted((m for m in (item.month_totals or {})
                   if (start is None or m >= start[:7]) and (end is None or m <= end[:7])), reverse=True)


def _matches(tx: dict[str, Any], needle: str) -> bool:
    haystack = " ".join(str(tx.get(f) or "") for f in (
        "counterparty_name", "counterparty_iban", "purpose", "end_to_end_id", "mandate_id", "creditor_id",
        "bank_reference"))
    if needle in haystack.casefold():
        return True
    amount = needle.replace(",", ".")
    return bool(re.fullmatch(r"-?\d+(\.\d{1,2})?", amount)) and abs(tx["amount"]) == abs(Decimal(amount))


def _newest_first(tx: dict[str, Any]) -> tuple[str, str]:
    return tx["booking_date"], tx["id"]  # the month partition's sort key order


def list_transactions(tenant_id: str, *, bank_account_id: str | None, start_date: str | None, end_date: str | None,
                      search: str | None, status: str | None, limit: int, offset: int) -> dict[str, Any]:
    """Newest first (booking date, then id). Reads only month partitions of the range that have
    transactions (the account's month counts know them), so no read grows with the whole history.
    Without ``search``/``status`` a page reads only what it shows: the total comes from the month
    counts, and months before the page are skipped by their count. With a filter every month of the
    range is read and filtered."""
    if start_date and end_date and start_date > end_date:
        raise InvalidInput.field("start_date", "must not be after end_date")
    accounts = [get_account(tenant_id, bank_account_id)] if bank_account_id else list_accounts(tenant_id)
    needle = (search or "").strip().casefold()
    by_month: dict[str, list[account_store.BankAccountItem]] = {}
    for item in accounts:
        for month in _months(item, start_date, end_date):
            by_month.setdefault(month, []).append(item)
    months = sorted(by_month, reverse=True)
    if needle or status:
        found = [tx for month in months for item in by_month[month]
                 for tx in page_store.month_transactions(tenant_id, item.account_id, month, start_date, end_date)
                 if (not status or tx["status"] == status) and (not needle or _matches(tx, needle))]
        found.sort(key=_newest_first, reverse=True)
        return {"transactions": [tx_view(t) for t in found[offset : offset + limit]], "total": len(found)}

    def count(month: str, item: account_store.BankAccountItem) -> int:
        whole = (start_date is None or start_date <= f"{month}-01") and \
            (end_date is None or end_date[:7] > month or end_date >= f"{month}-31")
        known = (item.month_counts or {}).get(month)
        if whole and known is not None:
            return int(known)
        return page_store.count_month(tenant_id, item.account_id, month, start_date, end_date)

    counts = {month: sum(count(month, item) for item in by_month[month]) for month in months}
    page: list[dict[str, Any]] = []
    skip = offset
    for month in months:
        if len(page) >= limit:
            break
        if skip >= counts[month]:
            skip -= counts[month]
            continue
        wanted = skip + limit - len(page)
        # The newest `wanted` of each account contain the newest `wanted` of the month.
        merged = [tx for item in by_month[month] for tx in page_store.month_transactions(
            tenant_id, item.account_id, month, start_date, end_date, newest_first=True, limit=wanted)]
        merged.sort(key=_newest_first, reverse=True)
        page.extend(merged[skip:wanted])
        skip = 0
    return {"transactions": [tx_view(t) for t in page[:limit]], "total": sum(counts.values())}


def unreconciled_count(tenant_id: str, bank_account_id: str | None = None) -> int:
    accounts = [get_account(tenant_id, bank_account_id)] if bank_account_id else account_store.list_accounts(tenant_id)
    return sum(int(a.unreconciled_count or 0) for a in accounts)


# ------------------------------------------------------------------------------------- balance history
class _Prefix:
    """P(d) = the sum of an account's transactions (in its currency) booked on or before d, from the
    month totals plus the day sums of d's month (one Query per month, cached)."""

    def __init__(self, tenant_id: str, item: account_store.BankAccountItem) -> None:
        self.tenant_id, self.item = tenant_id, item
        self.months = sorted((item.month_totals or {}).items())
        self.days: dict[str, dict[str, Decimal]] = {}

    def _day_sums(self, month: str) -> dict[str, Decimal]:
        if month not in self.days:
            sums: dict[str, Decimal] = {}
            if month in (self.item.month_totals or {}):
                for tx in page_store.month_transactions(self.tenant_id, self.item.account_id, month, amounts_only=True):
                    if tx["currency"] == self.item.currency:
                        sums[tx["booking_date"]] = sums.get(tx["booking_date"], Decimal(0)) + tx["amount"]
            self.days[month] = sums
        return self.days[month]

    def __call__(self, day: str) -> Decimal:
        month = day[:7]
        total = sum((t for m, t in self.months if m < month), Decimal(0))
        return total + sum((s for d, s in self._day_sums(month).items() if d <= day), Decimal(0))


def balance_history(ctx: Caller, days: int, bank_account_id: str | None = None,
                    today: dt.date | None = None) -> dict[str, Any]:
    """End-of-day balances of the last ``days`` days (today included).

    An account's balance on day d is anchored at the latest closing balance a bank statement stated
    (``stated_balance`` on ``stated_balance_date``): anchor + the transactions booked after the anchor
    date up to d, or minus those booked after d up to the anchor date. Without a stated balance, it is
    the sum of all imported transactions booked up to d (the account is taken to start at 0).
    Only transactions in the account's currency count. Without ``bank_account_id`` the balances of all
    accounts in the tenant's base currency are added up.
    """
    if not 1 <= days <= MAX_HISTORY_DAYS:
        raise InvalidInput.field("days", f"must be between 1 and {MAX_HISTORY_DAYS}")
    today = today or dt.date.today()
    if bank_account_id:
        items = [get_account(ctx.tenant_id, bank_account_id)]
    else:
        items = [a for a in list_accounts(ctx.tenant_id) if a.currency == ctx.base_currency]
    start = today - dt.timedelta(days=days)  # the day before the window: its closing balance opens it
    dates = [(start + dt.timedelta(days=i)).isoformat() for i in range(days + 1)]
    totals = [Decimal(0)] * len(dates)
    for item in items:
        prefix = _Prefix(ctx.tenant_id, item)
        if item.stated_balance is not None and item.stated_balance_date:
            offset = item.stated_balance - prefix(item.stated_balance_date)
        else:
            offset = Decimal(0)
        for i, d in enumerate(dates):
            totals[i] += offset + prefix(d)
    history = [{"date": d, "balance": b.quantize(CENT)} for d, b in zip(dates[1:], totals[1:], strict=True)]
    return {"history": history, "startBalance": totals[0].quantize(CENT), "currentBalance": totals[-1].quantize(CENT),
            "currency": items[0].currency if bank_account_id else ctx.base_currency,
            "bank_account_id": bank_account_id, "days": days}
