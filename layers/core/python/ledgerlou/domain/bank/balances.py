"""Balance history of the bank accounts: end-of-day balances anchored at the latest stated statement
balance, from the month totals and the day sums of one month (no read grows with the account's history)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ledgerlou.domain.bank.accounts import get_account, list_accounts
from ledgerlou.domain.caller import Caller
from ledgerlou.errors import InvalidInput
from ledgerlou.money import CENT
from ledgerlou.store.bank import accounts as account_store
from ledgerlou.store.bank import pages as page_store

MAX_HISTORY_DAYS = 366


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
