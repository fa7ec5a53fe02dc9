"""Bank accounts, each linked to a ledger account of the chart: IBAN/BIC rules, which account a statement
is for, creating and renaming. Their transactions are in ``transactions``, the balances in ``balances``,
imports in ``importing``.
"""

from __future__ import annotations

import re
import uuid
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
)
from ledgerlou.money import CENT
from ledgerlou.store.bank import accounts as account_store
from ledgerlou.store.bank import claims as claim_store
from ledgerlou.store.base import now_iso

# Ledger accounts picked for a new bank account when none is given: 1200, 1210 … 1290 (SKR03),
# 1800, 1810 … 1890 (SKR04) — those of them the chart has with the category "bank".
AUTO_LEDGER_RANGE = {"skr03": range(1200, 1300, 10), "skr04": range(1800, 1900, 10)}


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
        updated_at=now, tx_count=0, unreconciled_count=0, month_totals={}, month_counts={}, month_open={},
        dismissed_count=0)
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
