"""Reversals (Storno): the same amounts with debit and credit swapped, booked as a new intent."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from ledgerlou.domain.caller import Caller
from ledgerlou.domain.journal.appender import APPENDER, Appender, Draft, JournalState
from ledgerlou.domain.journal.booking import _check_locks, _entry, provenance
from ledgerlou.domain.journal.entries import Entry, Intent
from ledgerlou.domain.journal.reads import entries_of_intent, find_intent
from ledgerlou.errors import AlreadyReversed, NotFound
from ledgerlou.models.journal import ReverseRequest
from ledgerlou.store.base import now_iso


def reverse(ctx: Caller, req: ReverseRequest, today: dt.date | None = None,
            appender: Appender | None = None) -> dict[str, Any]:
    original_id = req.intent_id.lower()
    found = find_intent(ctx.tenant_id, original_id)
    if found is None:
        raise NotFound(f"Intent {original_id} not found.")
    _block, original = found
    if original.get("reverses_intent_id"):
        raise AlreadyReversed("A reversal cannot be reversed; book the correction instead.")
    date = original["booking_date"] if req.posting_mode == "original_date" else (
        today or dt.datetime.now(dt.UTC).date()).isoformat()
    intent_id = str(uuid.uuid4())
    created_at = now_iso()
    entries: list[Entry] = []
    for e in entries_of_intent(ctx.tenant_id, original_id):
        # Storno: the same amounts with debit and credit swapped (a "Generalumkehr" would need
        # negative amounts, which the chain's amount format and DATEV rows both avoid).
        entries.append(_entry(intent_id, date, e["account_credit"], e["account_debit"], Decimal(e["amount"]),
                              e["currency"], f"Storno: {e['description']}"[:500], created_at, ctx.actor_id,
                              "api", e.get("document_id"), original_id, line_index=e.get("line_index"),
                              tax_code=e.get("tax_code"), role=e.get("role", "main"),
                              mirrored=bool(e.get("mirrored")),
                              # a foreign-currency line's amount goes back too: else a Storno nets the
                              # base but leaves the USD side of a USD bank ledger account where it was
                              fx_amount=e.get("fx_amount"), fx_currency=e.get("fx_currency")))
    intent = Intent(
        intent_id=intent_id,
        kind="reversal",
        booking_date=date,
        description=f"Storno: {original['description']}"[:500],
        external_reference=original.get("external_reference"),
        custom_metadata=None,
        document_id=original.get("document_id"),
        source="api",
        created_at=created_at,
        created_by=ctx.actor_id,
        created_by_label=ctx.actor_label,
        provenance=provenance(ctx, "api"),
        fingerprint=None,
        duplicate_override=False,
        adjustment_period=None,
        fx=original.get("fx"),
        reverses_intent_id=original_id,
        reversal={"reason": req.reason, "posting_mode": req.posting_mode, "original_intent_id": original_id},
        lines=original.get("lines", []),
        total_amount=original.get("total_amount"),
        currency=original.get("currency"),
    )

    def build(state: JournalState) -> Draft:
        by = state.reversed_by(ctx.tenant_id, original_id)
        if by:
            raise AlreadyReversed(f"Intent {original_id} was reversed already by {by}.")
        _check_locks(state, [date])
        return Draft("bookings", [intent.to_item()], [[e.to_item() for e in entries]])

    (appender or APPENDER).append(ctx.tenant_id, build)
    return {"reversal_intent_id": intent_id, "original_intent_id": original_id, "event_count": len(entries)}
