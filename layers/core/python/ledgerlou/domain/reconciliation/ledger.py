"""The ledger side of reconciliation, projected from the journal: the balance of every bank ledger
account (chart category ``bank``) and its entries that no bank transaction is matched to.

Called by the journal projector for every block (domain/journal/projector.apply_block). An intent that
posts on a bank ledger account becomes an unmatched entry unless it is reconciliation's own booking
(a settlement or match-group intent carries ``bank_match``: it is matched from the start) or a
reversal (a Storno and its original cancel out: the original's entry goes, the Storno adds none).

Linking races with projecting: the link writes its link item, then deletes the entry; the projector
puts the entry, then reads the link item and deletes the entry if linked. Whichever order the four
writes and reads interleave in, a linked intent ends without an entry.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from ledgerlou.domain.chart import accounts as chart_accounts
from ledgerlou.store.journal import blocks as journal_store
from ledgerlou.store.reconciliation import ledger as store
from ledgerlou.store.reconciliation import matches

_CHARTS: dict[str, str] = {}  # tenant → chart (a tenant's chart never changes)


def _chart(tenant_id: str) -> str | None:
    if tenant_id not in _CHARTS:
        from ledgerlou.store.admin import tenants

        item = tenants.get(tenant_id)
        if item is None:
            return None
        _CHARTS[tenant_id] = str(item.chart)
    return _CHARTS[tenant_id]


def bank_accounts_of(tenant_id: str, numbers: set[str]) -> set[str]:
    """Those of ``numbers`` that are bank accounts in the tenant's chart (system chart in memory; a
    custom account one GetItem)."""
    chart = _chart(tenant_id)
    if chart is None:
        return set()
    out = set()
    for number in numbers:
        acc = chart_accounts.find(tenant_id, chart, number)
        if acc is not None and acc.category == "bank":
            out.add(number)
    return out


def postings(entries: list[dict[str, Any]], account: str) -> tuple[Decimal, dict[str, Decimal]]:
    """(base, {foreign currency: amount}) that entries post on ``account``: debit +, credit −."""
    base = Decimal(0)
    fx: dict[str, Decimal] = defaultdict(Decimal)
    for e in entries:
        sign = (e["account_debit"] == account) - (e["account_credit"] == account)
        if not sign:
            continue
        base += sign * Decimal(e["amount"])
        if e.get("fx_currency") and e.get("fx_amount") is not None:
            fx[e["fx_currency"]] += sign * Decimal(e["fx_amount"])
    return base, dict(fx)


def entry_of(intent: dict[str, Any], entries: list[dict[str, Any]], account: str) -> dict[str, Any] | None:
    base, fx = postings(entries, account)
    if base == 0 and not any(fx.values()):
        return None
    return {"intent_id": intent["intent_id"], "booking_date": intent["booking_date"],
            "description": intent.get("description") or "", "external_reference": intent.get("external_reference"),
            "base": str(base), "fx": {k: str(v) for k, v in fx.items()}}


def apply_block(tenant_id: str, block: journal_store.Block) -> None:
    """One block's balances (one UpdateItem per bank account) and unmatched entries. Batched: a block
    of a hundred bank bookings (a bookings batch, a statement booked at once) costs one BatchGetItem for
    the links and a few BatchWriteItems, not a put and a read per booking."""
    if not block.entries:
        return
    touched = {e["account_debit"] for e in block.entries} | {e["account_credit"] for e in block.entries}
    banks = bank_accounts_of(tenant_id, touched)
    if not banks:
        return
    by_intent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in block.entries:
        by_intent[e["intent_id"]].append(e)
    for account in sorted(banks):
        base, fx = postings(block.entries, account)
        store.add_balance(tenant_id, account, base, fx, block.seq)
    puts: list[tuple[str, dict[str, Any]]] = []
    deletes: list[tuple[str, str, str]] = []
    for intent in block.intents:
        mine = by_intent.get(intent["intent_id"], [])
        original = intent.get("reverses_intent_id")
        if original:
            deletes.extend(_reversed_entries(tenant_id, original, banks))
            continue
        if intent.get("bank_match"):
            continue
        for account in sorted(banks):
            entry = entry_of(intent, mine, account)
            if entry is not None:
                puts.append((account, entry))
    store.write_entries(tenant_id, puts, deletes)
    # linked meanwhile (see the module doc): read the links only after the puts, then delete those
    linked = matches.linked_among(tenant_id, [entry["intent_id"] for _a, entry in puts]) if puts else set()
    if linked:
        store.write_entries(tenant_id, [], [(account, entry["booking_date"], entry["intent_id"])
                                            for account, entry in puts if entry["intent_id"].lower() in linked])


def _reversed_entries(tenant_id: str, original_id: str, banks: set[str]) -> list[tuple[str, str, str]]:
    from ledgerlou.domain.journal import reads as journal_reads  # it imports the projector

    found = journal_reads.find_intent(tenant_id, original_id)
    if found is None:
        return []
    return [(account, found[1]["booking_date"], original_id) for account in sorted(banks)]
