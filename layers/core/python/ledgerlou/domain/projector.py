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

from ledgerlou.store import journal as store
from ledgerlou.store import views


def apply_block(tenant_id: str, block: store.Block) -> None:
    with views.IntentItem.batch_write() as batch:
        for intent in block.intents:
            batch.save(views.IntentItem(*views.intent_key(tenant_id, intent["intent_id"]),
                                        intent_id=intent["intent_id"], seq=block.seq,
                                        booking_date=intent["booking_date"]))
            if intent.get("fingerprint"):
                batch.save(views.FingerprintItem(*views.fingerprint_key(tenant_id, intent["fingerprint"]),
                                                 intent_id=intent["intent_id"]))
        for e in block.entries:
            data = json.dumps(e, separators=(",", ":"), ensure_ascii=False)
            month = e["booking_date"][:7]
            n = e["journal_number"]
            batch.save(views.EntryItem(views.entries_pk(tenant_id, month), views.entry_sk(n), data=data))
            for account in {e["account_debit"], e["account_credit"]}:
                batch.save(views.AccountEntryItem(views.account_entries_pk(tenant_id, account, month),
                                                  views.account_entry_sk(e["booking_date"], n), data=data))
    for intent in block.intents:
        if intent.get("reverses_intent_id"):
            views.mark_reversed(tenant_id, intent["reverses_intent_id"], intent["intent_id"])
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for e in block.entries:
        month = e["booking_date"][:7]
        amount = Decimal(e["amount"])
        sums[(month, e["account_debit"])][0] += amount
        sums[(month, e["account_credit"])][1] += amount
    for (month, account), (debit, credit) in sorted(sums.items()):
        views.apply_balance(tenant_id, month, account, debit, credit, block.seq)
    for (month, code), (base, tax) in sorted(tax_sums(block.entries).items()):
        views.apply_taxsum(tenant_id, month, code, base, tax, block.seq)
    new_months = {e["booking_date"][:7] for e in block.entries}
    if new_months:
        views.add_month(tenant_id, new_months)


def tax_sums(entries: list[dict[str, Any]]) -> dict[tuple[str, str], list[Decimal]]:
    """(month, tax code) → [base, tax]; a reversal's entries count negative."""
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for e in entries:
        code = e.get("tax_code")
        if not code:
            continue
        amount = Decimal(e["amount"]) * (-1 if e.get("reverses_intent_id") else 1)
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


def tenant_of_journal_pk(pk: str) -> str | None:
    if pk.startswith("T#") and pk.endswith("#JOURNAL"):
        return pk[2:-len("#JOURNAL")]
    return None
