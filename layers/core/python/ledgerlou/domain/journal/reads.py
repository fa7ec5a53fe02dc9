"""Reads of the journal: the audit view of an intent, the entry list, the Kontoblatt, export and verify.

Reads merge the projections with the blocks not yet projected (the tail).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ledgerlou.domain.caller import Caller
from ledgerlou.domain.chain.canonical import export_line
from ledgerlou.domain.chain.verify import ChainVerifier
from ledgerlou.domain.chart import accounts
from ledgerlou.domain.journal import projector
from ledgerlou.domain.journal.appender import TailIndex
from ledgerlou.errors import NotFound
from ledgerlou.models.audit import (
    FxOut,
    IntentEntry,
    IntentLine,
    IntentMetadata,
    IntentSummary,
    IntentView,
    LinkedIntents,
    NamedAccount,
    Provenance,
    ReversalOut,
)
from ledgerlou.store.journal import blocks as store
from ledgerlou.store.journal import month_summary, projections


# ------------------------------------------------------------------------------------------ reading
def tail(tenant_id: str) -> TailIndex:
    """The blocks not yet projected, read directly (normally none or one)."""
    watermark = store.get_watermark(tenant_id)
    index = TailIndex()
    seq = watermark + 1
    while True:
        block = store.get_block(tenant_id, seq)
        if block is None:
            return index
        index.add(block)
        seq += 1


def find_intent(tenant_id: str, intent_id: str, tail_index: TailIndex | None = None
                ) -> tuple[store.Block, dict[str, Any]] | None:
    item = projections.get_intent(tenant_id, intent_id)
    if item is not None:
        block = store.get_block(tenant_id, int(item.seq))
        if block is not None:
            for intent in block.intents:
                if intent["intent_id"] == intent_id:
                    return block, intent
    index = tail_index or tail(tenant_id)
    return index.intents.get(intent_id)


def entries_of_intent(tenant_id: str, intent_id: str) -> list[dict[str, Any]]:
    found = find_intent(tenant_id, intent_id)
    if found is None:
        return []
    block, _ = found
    return [e for e in block.entries if e["intent_id"] == intent_id]


def _names(ctx: Caller) -> Any:
    cache: dict[str, str | None] = {}

    def name(number: str) -> str | None:
        if number not in cache:
            acc = accounts.find(ctx.tenant_id, ctx.chart, number)
            cache[number] = acc.name if acc else None
        return cache[number]

    return name


def public_entry(e: dict[str, Any]) -> dict[str, Any]:
    return {k: e.get(k) for k in ("id", "intent_id", "journal_number", "booking_date", "account_debit",
                                  "account_credit")} | {
        "amount": Decimal(e["amount"]), **{k: e.get(k) for k in (
            "currency", "description", "created_at", "created_by", "source", "document_id",
            "reverses_intent_id", "audit_hash", "prev_hash", "tax_code")}}


def intent_view(ctx: Caller, intent_id: str) -> IntentView:
    """The audit view of seed 002, built as its response model from the intent and entries the block stores."""
    index = tail(ctx.tenant_id)
    found = find_intent(ctx.tenant_id, intent_id, index)
    if found is None:
        raise NotFound(f"Intent {intent_id} not found.")
    block, intent = found
    item = projections.get_intent(ctx.tenant_id, intent_id)
    reversed_by = index.reversed_by.get(intent_id) or (item.reversed_by_intent_id if item else None)
    name = _names(ctx)
    prov = Provenance.model_validate(intent.get("provenance") or {})
    entries = [IntentEntry(**public_entry(e), account_debit_name=name(e["account_debit"]),
                           account_credit_name=name(e["account_credit"]), provenance_summary=prov)
               for e in block.entries if e["intent_id"] == intent_id]
    numbers = [e.journal_number for e in entries]
    fx = FxOut.model_validate(intent["fx"]) if intent.get("fx") else None
    summary = IntentSummary(
        booking_date=intent["booking_date"], description=intent["description"], source=intent["source"],
        created_at=intent["created_at"], created_by=intent["created_by"],
        created_by_label=intent.get("created_by_label"), provenance_summary=prov,
        document_id=intent.get("document_id"), reverses_intent_id=intent.get("reverses_intent_id"),
        reversed_by_intent_id=reversed_by, total_amount=Decimal(intent.get("total_amount") or "0"),
        currency=intent.get("currency"), journal_number_min=min(numbers) if numbers else None,
        journal_number_max=max(numbers) if numbers else None, fx=fx,
        external_reference=intent.get("external_reference"), custom_metadata=intent.get("custom_metadata"),
        adjustment_period=intent.get("adjustment_period"), kind=intent["kind"])
    lines = []
    for ln in intent.get("lines", []):
        deb, cred = ln["debit_account"]["number"], ln["credit_account"]["number"]
        lines.append(IntentLine(line_index=ln["line_index"], content_hash=ln["content_hash"],
                                debit_account=NamedAccount(number=deb, name=name(deb)),
                                credit_account=NamedAccount(number=cred, name=name(cred)),
                                fx_amount=Decimal(ln["fx_amount"]) if ln.get("fx_amount") else None))
    metadata = IntentMetadata(
        intent_category=intent.get("kind"), confidence=1, source_type=intent["source"],
        confirmed_at=intent["created_at"], confirmed_by=intent["created_by"],
        original_description=intent["description"], document_id=intent.get("document_id"),
        bank_transaction_id=intent.get("bank_transaction_id"), is_split_booking=len(lines) > 1,
        total_lines=len(lines), duplicate_override=bool(intent.get("duplicate_override")), fx=fx,
        reversal=ReversalOut.model_validate(intent["reversal"]) if intent.get("reversal") else None,
        external_reference=intent.get("external_reference"), custom_metadata=intent.get("custom_metadata"),
        lines=lines)
    return IntentView(intent_id=intent_id, entries=entries, summary=summary,
                      linked_intents=LinkedIntents(settles_intent_ids=intent.get("settles_intent_ids", []),
                                                   settlement_intent_ids=[]),
                      metadata=metadata)


def _months_between(start: str | None, end: str | None, known: list[str]) -> list[str]:
    return [m for m in known if (start is None or m >= start[:7]) and (end is None or m <= end[:7])]


def list_entries(ctx: Caller, account: str | None, start: str | None, end: str | None, search: str | None,
                 external_reference: str | None, limit: int, offset: int) -> dict[str, Any]:
    index = tail(ctx.tenant_id)
    tail_entries = [e for b in index.blocks for e in b.entries]
    known = sorted(set(projections.months(ctx.tenant_id)) | {e["booking_date"][:7] for e in tail_entries})
    by_number: dict[int, dict[str, Any]] = {}
    for month in _months_between(start, end, known):
        pk = projections.account_entries_pk(ctx.tenant_id, account, month) if account else projections.entries_pk(
            ctx.tenant_id, month)
        model = projections.AccountEntryItem if account else projections.EntryItem
        for item in model.query(pk, consistent_read=True):
            e = json.loads(item.data)
            by_number[e["journal_number"]] = e
    tail_refs = {iid: intent.get("external_reference") for iid, (_b, intent) in index.intents.items()}
    for e in tail_entries:
        by_number.setdefault(e["journal_number"], {**e, "external_reference": tail_refs.get(e["intent_id"])})
    needle = (search or "").casefold()
    out = []
    for n in sorted(by_number):
        e = by_number[n]
        if (start and e["booking_date"] < start) or (end and e["booking_date"] > end):
            continue
        if account and account not in (e["account_debit"], e["account_credit"]):
            continue
        if needle and needle not in e["description"].casefold() and needle not in e["amount"]:
            continue
        if external_reference and e.get("external_reference") != external_reference:
            continue
        out.append(e)
    return {"entries": [public_entry(e) for e in out[offset: offset + limit]], "total": len(out),
            "offset": offset, "limit": limit}


def signed(e: dict[str, Any], account: str) -> Decimal:
    amount = Decimal(e["amount"])
    return amount if e["account_debit"] == account else -amount


def account_entries(ctx: Caller, account: str, start: str | None, end: str | None, limit: int
                    ) -> dict[str, Any]:
    if accounts.find(ctx.tenant_id, ctx.chart, account) is None:
        raise NotFound(f"Account {account} not found.")
    index = tail(ctx.tenant_id)
    tail_entries = [e for b in index.blocks for e in b.entries if account in (e["account_debit"],
                                                                              e["account_credit"])]
    known = sorted(set(projections.months(ctx.tenant_id)) | {e["booking_date"][:7] for e in tail_entries})
    opening = Decimal(0)
    start_month = start[:7] if start else None
    # Everything before the start month: the month summaries (one BatchGetItem; cost follows months).
    before = [m for m in known if start_month is not None and m < start_month]
    summaries = month_summary.get_many(ctx.tenant_id, before)
    for block in index.blocks:
        for month, terms in projector.month_terms(block.entries).items():
            if month in summaries:
                summaries[month].add_unapplied(terms, block.seq)
    for month in before:
        debit, credit = summaries[month].accounts.get(account, [Decimal(0), Decimal(0)])
        opening += debit - credit
    projected: dict[int, dict[str, Any]] = {}
    for month in known:
        if end and month > end[:7]:
            break
        if start_month and month < start_month:
            continue
        for item in projections.AccountEntryItem.query(projections.account_entries_pk(ctx.tenant_id, account, month),
                                                 consistent_read=True):
            e = json.loads(item.data)
            projected[e["journal_number"]] = e
    for block in index.blocks:
        for e in block.entries:
            if account not in (e["account_debit"], e["account_credit"]):
                continue
            if not (start_month and e["booking_date"][:7] < start_month):
                projected.setdefault(e["journal_number"], e)
    rows = sorted(projected.values(), key=lambda e: (e["booking_date"], e["journal_number"]))
    balance = opening
    out = []
    for e in rows:
        if start and e["booking_date"] < start:
            opening += signed(e, account)
            balance += signed(e, account)
            continue
        if end and e["booking_date"] > end:
            continue
        balance += signed(e, account)
        out.append({**public_entry(e), "side": "debit" if e["account_debit"] == account else "credit",
                    "contra_account": e["account_credit"] if e["account_debit"] == account else e["account_debit"],
                    "running_balance": balance})
    return {"account": account, "entries": out[:limit], "opening_balance": opening, "balance": balance,
            "total": len(out)}


# ------------------------------------------------------------------------------------------ export/verify
def iter_chain_entries(tenant_id: str, start: str | None = None, end: str | None = None
                       ) -> Iterator[dict[str, Any]]:
    for block in store.iter_blocks(tenant_id):
        for e in block.entries:
            if (start and e["booking_date"] < start) or (end and e["booking_date"] > end):
                continue
            yield e


def verify(tenant_id: str) -> dict[str, Any]:
    verifier = ChainVerifier()
    for e in iter_chain_entries(tenant_id):
        verifier.feed(e)
    return verifier.result().to_dict()


def export_lines(tenant_id: str, start: str | None, end: str | None) -> Iterator[bytes]:
    for e in iter_chain_entries(tenant_id, start, end):
        yield export_line(e)
