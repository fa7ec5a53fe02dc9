"""The projector: builds the read side (intents, fingerprints, entry lists, monthly balances) from the
journal's blocks, in block order, idempotently.

Run by the DynamoDB Streams trigger for every new block (functions/projector) and callable inline.
It projects every block from the watermark up to the one it was told about, so a crash or a lost
stream record heals with the next block; each write is idempotent (puts keyed by journal_number,
balance ADDs guarded by applied_seq), so a replay changes nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from ledgerlou.store.journal import blocks as store
from ledgerlou.store.journal import month_summary, projections


def apply_block(tenant_id: str, block: store.Block) -> None:
    with projections.IntentItem.batch_write() as batch:
        for intent in block.intents:
            batch.save(projections.IntentItem(*projections.intent_key(tenant_id, intent["intent_id"]),
                                        intent_id=intent["intent_id"], seq=block.seq,
                                        booking_date=intent["booking_date"]))
            if intent.get("fingerprint"):
                batch.save(projections.FingerprintItem(*projections.fingerprint_key(tenant_id, intent["booking_date"],
                                                                          intent["fingerprint"]),
                                                 intent_id=intent["intent_id"]))
        refs = {i["intent_id"]: i.get("external_reference") for i in block.intents}
        for e in block.entries:
            # The intent's external reference rides along: journal filters and the DATEV export's
            # Belegfeld 1 need it for every entry, and a lookup per intent would be N+1 reads.
            data = json.dumps({**e, "external_reference": refs.get(e["intent_id"])}, separators=(",", ":"),
                              ensure_ascii=False)
            month = e["booking_date"][:7]
            n = e["journal_number"]
            batch.save(projections.EntryItem(projections.entries_pk(tenant_id, month), projections.entry_sk(n),
                                             data=data))
            for account in {e["account_debit"], e["account_credit"]}:
                batch.save(projections.AccountEntryItem(projections.account_entries_pk(tenant_id, account, month),
                                                  projections.account_entry_sk(e["booking_date"], n), data=data))
    for intent in block.intents:
        if intent.get("reverses_intent_id"):
            projections.mark_reversed(tenant_id, intent["reverses_intent_id"], intent["intent_id"])
    for month, terms in sorted(month_terms(block.entries).items()):
        month_summary.apply(tenant_id, month, terms, block.seq)
    new_months = {e["booking_date"][:7] for e in block.entries}
    if new_months:
        projections.add_month(tenant_id, new_months)
    # invoices, open items, settlements: before the watermark moves, like every projection here
    from ledgerlou.domain.receivables import projection as receivables

    receivables.apply_block(tenant_id, block)
    # bank ledger accounts: balances and the entries no bank transaction is matched to
    from ledgerlou.domain.reconciliation import ledger as bank_ledger

    bank_ledger.apply_block(tenant_id, block)


def month_terms(entries: list[dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    """month → the summary attributes a block adds (store/journal/month_summary.py): account sums, tax sums."""
    accounts: dict[str, dict[str, list[Decimal]]] = defaultdict(dict)
    for e in entries:
        month = e["booking_date"][:7]
        amount = Decimal(e["amount"])
        accounts[month].setdefault(e["account_debit"], [Decimal(0), Decimal(0)])[0] += amount
        accounts[month].setdefault(e["account_credit"], [Decimal(0), Decimal(0)])[1] += amount
    taxes: dict[str, dict[str, list[Decimal]]] = defaultdict(dict)
    for (month, code), sums in tax_sums(entries).items():
        taxes[month][code] = sums
    return {m: month_summary.terms_for(accounts.get(m, {}), taxes.get(m, {})) for m in set(accounts) | set(taxes)}


def tax_sums(entries: list[dict[str, Any]]) -> dict[tuple[str, str], list[Decimal]]:
    """(month, tax code) → [base, tax]; a reversal's entries count negative."""
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for e in entries:
        code = e.get("tax_code")
        if not code:
            continue
        # a reversal, or a credit note (booked mirrored: journal.post_bookings), takes tax back; both: gives it
        amount = Decimal(e["amount"]) * (-1 if bool(e.get("reverses_intent_id")) != bool(e.get("mirrored")) else 1)
        sums[(e["booking_date"][:7], code)][0 if e.get("role", "main") == "main" else 1] += amount
    return sums


def project_through(tenant_id: str, seq: int | None = None) -> int:
    """Project every block after the watermark (up to ``seq`` if given). Returns the new watermark."""
    watermark = store.get_watermark(tenant_id)
    while seq is None or watermark < seq:
        block = store.get_block(tenant_id, watermark + 1)
        if block is None:
            break
        apply_block(tenant_id, block)
        store.advance_watermark(tenant_id, block.seq)  # False only if a concurrent projector got there first
        watermark = block.seq
    return watermark


def block_of(pk: str, sk: str) -> tuple[str, int] | None:
    """(tenant, seq) if a changed item's key is a journal block's, else None."""
    return store.parse_block_key(pk, sk)
