"""Bank transactions: one by id, the list (newest first, one page), status changes (reconciliation), the
unreconciled count. They are stored in pages per account and month (store/bank/pages.py)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ledgerlou.domain.bank.accounts import get_account, list_accounts
from ledgerlou.errors import InvalidInput, NotFound, TransactionStatusChanged
from ledgerlou.money import CENT
from ledgerlou.store.bank import accounts as account_store
from ledgerlou.store.bank import pages as page_store

STATUSES = ("unreconciled", "reconciled", "dismissed")


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
    The transaction lives in a page item with others; the page's status string (conditional on its
    version) and the account's ``unreconciled_count`` change in ONE TransactWriteItems
    (``page_store.change_statuses``), so the counter is exact whatever crashes, and concurrent changes
    of one page all land. With ``expected``, 409 when the status is another (someone else changed it)."""
    if status not in STATUSES:
        raise InvalidInput.field("status", f"must be one of {', '.join(STATUSES)}")
    where = page_store.locate(tenant_id, tx_id.lower())
    if where is None:
        raise NotFound("Bank transaction not found.")
    for _attempt in range(20):
        tx = page_store.get_at(tenant_id, where)
        if tx is None:
            raise NotFound("Bank transaction not found.")
        before = tx["status"]
        if expected is not None and before != expected:
            raise TransactionStatusChanged(f"The bank transaction is {before}, not {expected}.",
                                           details=[{"field": "status", "issue": f"is {before}"}])
        if before == status:
            return tx_view(tx)
        try:
            page_store.change_statuses(tenant_id, [page_store.StatusChange(where, status, before, [])])
            return get_transaction(tenant_id, tx_id)
        except page_store.StatusMismatch:
            continue  # changed between our read and the write: read it again (and compare with expected)
    raise TransactionStatusChanged("The bank transaction's status kept changing; retry.")


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
