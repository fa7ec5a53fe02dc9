"""The reconciliation view of a bank account: the bank's side (balance, open transactions, counts) against
the ledger's (the balance of its ledger account, the entries no transaction is matched to).

Nothing here reads the journal's history: the ledger balance and the unmatched entries are the
projection of domain/reconciliation/ledger.py (plus the blocks not projected yet, folded in with the
same functions: read-your-writes), the bank balance comes from the account's month totals and one
month's day sums (domain/bank/balances.py), the open transactions from the months that hold one
(the account's ``month_open`` counts) and there from the pages that hold one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ledgerlou.domain.bank import accounts as bank_accounts
from ledgerlou.domain.bank import balances
from ledgerlou.domain.bank.transactions import tx_view
from ledgerlou.domain.caller import Caller
from ledgerlou.domain.journal import reads as journal_reads
from ledgerlou.domain.reconciliation import ledger as bank_ledger
from ledgerlou.money import CENT
from ledgerlou.store.bank import pages
from ledgerlou.store.reconciliation import ledger as ledger_store
from ledgerlou.store.reconciliation import matches


def reconciliation(ctx: Caller, bank_account_id: str, today: dt.date | None = None) -> dict[str, Any]:
    bank = bank_accounts.get_account(ctx.tenant_id, bank_account_id)
    account = bank.ledger_account
    foreign = bank.currency != ctx.base_currency
    if bank.month_open is not None:
        # only the months that hold an open transaction; the counts from the account's counters
        open_txs = pages.open_transactions(ctx.tenant_id, bank.account_id,
                                           sorted(m for m, n in bank.month_open.items() if n > 0))
        unreconciled, dismissed = int(bank.unreconciled_count or 0), int(bank.dismissed_count or 0)
        counts = {"unreconciled": unreconciled, "dismissed": dismissed,
                  "reconciled": int(bank.tx_count or 0) - unreconciled - dismissed}
    else:  # an account from before the per-month counts: read its months' status strings
        months = sorted(bank.month_totals or {})
        counts = pages.status_counts(ctx.tenant_id, bank.account_id, months)
        open_txs = pages.open_transactions(ctx.tenant_id, bank.account_id, months)
    bank_balance = balances.balance_history(ctx, 1, bank.account_id, today)["currentBalance"]
    # the tail first, then the projection (a block projected in between is then in both: the balance's
    # seq and the entries' keys tell which to skip)
    tail = journal_reads.tail(ctx.tenant_id)
    base, fx, seq = ledger_store.get_balance(ctx.tenant_id, account)
    entries = {e["intent_id"]: e for e in ledger_store.entries(ctx.tenant_id, account)}
    for block in tail.blocks:
        if block.seq > seq:
            b, f = bank_ledger.postings(block.entries, account)
            base += b
            for currency, amount in f.items():
                fx[currency] = fx.get(currency, Decimal(0)) + amount
        for intent in block.intents:
            if intent.get("reverses_intent_id"):
                entries.pop(intent["reverses_intent_id"], None)
                continue
            if intent.get("bank_match") or intent["intent_id"] in entries:
                continue
            entry = bank_ledger.entry_of(intent, [e for e in block.entries if e["intent_id"] == intent["intent_id"]],
                                         account)
            if entry is not None and not matches.is_linked(ctx.tenant_id, intent["intent_id"]):
                entries[intent["intent_id"]] = entry
    ledger_amount = fx.get(bank.currency, Decimal(0)) if foreign else base
    listed = sorted(entries.values(), key=lambda e: (e["booking_date"], e["intent_id"]))
    out_entries = [{"intent_id": e["intent_id"], "booking_date": e["booking_date"], "description": e["description"],
                    "external_reference": e.get("external_reference"),
                    "amount": _q(Decimal(e["fx"].get(bank.currency, "0")) if foreign else Decimal(e["base"])),
                    "base_amount": _q(Decimal(e["base"]))} for e in listed]
    return {
        "bank_account_id": bank.account_id, "currency": bank.currency, "base_currency": ctx.base_currency,
        "bank": {"balance": _q(bank_balance), "open": [tx_view(t) for t in open_txs],
                 "open_count": counts["unreconciled"], "reconciled_count": counts["reconciled"],
                 "dismissed_count": counts["dismissed"]},
        "ledger": {"account": account, "amount": _q(ledger_amount), "base_amount": _q(base)},
        "unmatched_ledger": {"amount": _q(sum((e["amount"] for e in out_entries), Decimal(0))),
                             "base_amount": _q(sum((e["base_amount"] for e in out_entries), Decimal(0))),
                             "entries": out_entries},
        "difference": _q(bank_balance - ledger_amount),
    }


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT)
