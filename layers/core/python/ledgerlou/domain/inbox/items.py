"""Inbox items as the API shows them: list, read, confirm (→ a review case), reject.

Confirm writes the item first (``extracted`` → ``confirmed`` with the new case's id, one conditional
UpdateItem: of two concurrent confirms one wins, the other answers INVALID_STATE), then the case. A crash
between the two leaves a confirmed item naming a case that does not exist yet; confirming it again
writes that case (the one repair a retry may do), so the pair ends complete either way.
"""

from __future__ import annotations

from typing import Any

from ledgerlou.domain.caller import Caller
from ledgerlou.domain.inbox import ids
from ledgerlou.errors import InvalidState, NotFound
from ledgerlou.money import dumps, loads
from ledgerlou.store.base import now_iso
from ledgerlou.store.inbox import cases as case_store
from ledgerlou.store.inbox import items as item_store
from ledgerlou.store.inbox import log as log_store


def _json(text: str | None) -> Any:
    return loads(text) if text else None


def view(item: item_store.InboxItem) -> dict[str, Any]:
    return {
        "id": item.inbox_id, "document_id": item.document_id, "status": item.status,
        "ocr_extraction": _json(item.ocr_extraction), "ocr_raw": _json(item.ocr_raw),
        "vendor_match": _json(item.vendor_match), "compliance_check": _json(item.compliance_check),
        "source_email": item.source_email, "source_subject": item.source_subject,
        "original_name": item.original_name, "created_at": item.created_at, "updated_at": item.updated_at,
        "einvoice_document_id": item.einvoice_document_id, "review_case_id": item.review_case_id,
        "failure_reason": item.failure_reason, "rejected_reason": item.rejected_reason,
    }


def require(ctx: Caller, inbox_id: str) -> item_store.InboxItem:
    item = item_store.get(ctx.tenant_id, inbox_id.lower())
    if item is None:
        raise NotFound(f"Inbox item {inbox_id} not found.")
    return item


def list_items(ctx: Caller, status: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    return [view(i) for i in item_store.query(ctx.tenant_id, status, limit, offset)]


def get(ctx: Caller, inbox_id: str) -> dict[str, Any]:
    return view(require(ctx, inbox_id))


def _state_error(item: item_store.InboxItem, action: str, allowed: str) -> InvalidState:
    return InvalidState(f"Inbox item {item.inbox_id} is {item.status}; only an {allowed} item can be {action}.",
                        details=[{"field": "status", "issue": f"is {item.status}"}])


def confirm(ctx: Caller, inbox_id: str) -> dict[str, Any]:
    item = require(ctx, inbox_id)
    if item.status == "confirmed" and item.review_case_id and case_store.get(ctx.tenant_id,
                                                                              item.review_case_id) is None:
        _write_case(ctx, item, item.review_case_id)  # the repair of a confirm cut short (module docstring)
        return {"confirmed": True, "inbox_id": item.inbox_id, "review_case_id": item.review_case_id}
    if item.status != "extracted":
        raise _state_error(item, "confirmed", "extracted")
    case_id = ids.new()
    if not item_store.transition(item, ["extracted"], status="confirmed", review_case_id=case_id,
                                 updated_at=now_iso()):
        raise _state_error(require(ctx, inbox_id), "confirmed", "extracted")
    _write_case(ctx, item, case_id)
    return {"confirmed": True, "inbox_id": item.inbox_id, "review_case_id": case_id}


def _write_case(ctx: Caller, item: item_store.InboxItem, case_id: str) -> None:
    extraction = _json(item.ocr_extraction) or {}
    lines = [{**ln, "tax_code": None, "account": None} for ln in extraction.get("line_items") or []]
    vendor = _json(item.vendor_match)
    raw = _json(item.ocr_raw) or {}
    now = now_iso()
    case = case_store.new_case(
        ctx.tenant_id, case_id=case_id, inbox_id=item.inbox_id, document_id=item.document_id,
        einvoice_document_id=item.einvoice_document_id, queue_state="open",
        vendor_id=vendor.get("vendor_id") if vendor else None,
        normalized_invoice=dumps({**extraction, "line_items": lines}),
        vendor_candidates=item.vendor_candidates or "[]", booking_errors="[]",
        compliance_check=item.compliance_check, duplicate_key=item.duplicate_key,
        document_type=raw.get("document_type"), created_at=now,
        updated_at=now, created_by=ctx.actor_id)
    from ledgerlou.store.base import put_new

    put_new(case)  # a repeat of the repair finds it written: nothing twice


# An item ``processing`` for longer than the OCR queue's visibility timeout (180 s, > the worker's 120 s) has no
# worker any more: one killed at its timeout on the last delivery never marks it failed. It may be rejected.
STUCK_AFTER_S = 300


def _stuck(item: item_store.InboxItem) -> bool:
    import datetime as dt

    if item.status != "processing":
        return False
    since = dt.datetime.fromisoformat(item.updated_at.replace("Z", "+00:00"))
    return (dt.datetime.now(dt.UTC) - since).total_seconds() > STUCK_AFTER_S


def reject(ctx: Caller, inbox_id: str, reason: str) -> dict[str, Any]:
    item = require(ctx, inbox_id)
    allowed = ["extracted", "failed"] + (["processing"] if _stuck(item) else [])
    if item.status not in allowed or not item_store.transition(item, allowed, status="rejected",
                                                               rejected_reason=reason, updated_at=now_iso()):
        raise _state_error(require(ctx, inbox_id), "rejected",
                           f"extracted, failed or (after {STUCK_AFTER_S} s) processing")
    if item.duplicate_key:
        # Not an invoice after all (or a wrong one): the same vendor and number may arrive again.
        item_store.release_duplicate_key(ctx.tenant_id, item.duplicate_key, item.inbox_id)
    return {"rejected": True, "inbox_id": item.inbox_id}


# ------------------------------------------------------------------------------------- the ingestion log
def log_view(entry: log_store.IngestionEntry) -> dict[str, Any]:
    return {"id": entry.entry_id, "received_at": entry.received_at, "source": entry.source,
            "source_email": entry.source_email, "subject": entry.subject, "original_name": entry.original_name,
            "document_id": entry.document_id, "inbox_id": entry.inbox_id, "outcome": entry.outcome,
            "message": entry.message}


def ingestion_log(ctx: Caller, outcome: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    return [log_view(e) for e in log_store.query(ctx.tenant_id, outcome, limit, offset)]
