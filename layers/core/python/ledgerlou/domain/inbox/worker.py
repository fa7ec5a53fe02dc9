"""The OCR worker's work: one queued inbox item → its extraction, vendor match and §14 checks.

``received`` → ``processing`` → ``extracted`` (or ``failed``; or ``rejected`` as a duplicate). Idempotent
per message and item: an item past ``processing`` is done, and a redelivered message finds it so; a copy
delivered while the first still runs (or after it died) extracts again and writes the same: the XML
document under an id derived from the item, the item's result by a conditional update from
``processing``, the duplicate claim by the item's own id.
Deterministic failures (the extraction's typed 4xx errors: unreadable or unsafe input) end the item as
``failed`` at once; anything else (a throttle, a crash) raises so that SQS retries the message, and the
last attempt (``MAX_RECEIVES``, the queue's maxReceiveCount) marks the item failed before the message
moves to the DLQ. A message that names no item (malformed, another deployment's) raises every time
and so reaches the DLQ alone: the other records of its batch succeed (partial batch responses).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ledgerlou.domain.documents import archive
from ledgerlou.domain.receivables.sides import PAYABLES
from ledgerlou.errors import DomainError
from ledgerlou.money import dumps
from ledgerlou.observability import logger
from ledgerlou.store.base import now_iso
from ledgerlou.store.inbox import items as item_store
from ledgerlou.store.inbox import log as log_store

MAX_RECEIVES = 3  # template.yaml OcrQueue maxReceiveCount
ACTOR = "inbox:ocr"


class PoisonMessage(ValueError):
    """A message the worker can never process: SQS retries it and moves it to the DLQ."""


def plain(value: Any) -> Any:
    """A pydantic model, a dataclass or a mapping as plain data (what the extraction modules answer)."""
    if value is None:
        return None
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def einvoice_document_id(tenant: str, inbox_id: str) -> str:
    """The id of an item's e-invoice XML document: the same for every delivery of its message, so that a
    second worker (SQS delivers at least once; a copy may run beside the first) stores no second XML."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ledgerlou:inbox:{tenant}:{inbox_id}:einvoice"))


def duplicate_key(vendor: dict[str, Any] | None, extraction: dict[str, Any]) -> str | None:
    """(vendor, invoice number) as the duplicate check sees it: the matched vendor, else the VAT id,
    else the name, each normalised; None without an invoice number."""
    number = " ".join(str(extraction.get("invoice_number") or "").split()).upper()
    if not number:
        return None
    if vendor and vendor.get("vendor_id"):
        who = "V:" + str(vendor["vendor_id"]).lower()
    elif extraction.get("vendor_vat_id"):
        who = "VAT:" + "".join(str(extraction["vendor_vat_id"]).split()).upper()
    elif extraction.get("vendor_name"):
        who = "N:" + " ".join(str(extraction["vendor_name"]).split()).lower()
    else:
        return None
    return f"{who}#{number}"[:900]


def process_message(body: str, receive_count: int = 1) -> str:
    try:
        message = json.loads(body)
    except ValueError as ex:
        raise PoisonMessage(f"OCR message is not JSON: {ex}") from ex
    if not isinstance(message, dict) or not all(isinstance(message.get(k), str) for k in ("tenant_id", "inbox_id")):
        raise PoisonMessage("OCR message needs string fields tenant_id, inbox_id")
    tenant, inbox_id = message["tenant_id"], message["inbox_id"]
    item = item_store.start(tenant, inbox_id, now_iso())
    if item is None:
        if item_store.get(tenant, inbox_id) is None:
            raise PoisonMessage(f"unknown inbox item {inbox_id}")
        return "already done"  # a redelivered message: its item is extracted, failed, confirmed or rejected
    try:
        return _extract(tenant, item)
    except DomainError as ex:
        if ex.status >= 500:
            return _retry_or_fail(tenant, item, ex, receive_count)
        _fail(tenant, item, f"{ex.code}: {ex.message}")
        return "failed"
    except Exception as ex:  # noqa: BLE001 - retried by SQS; the last attempt records why
        return _retry_or_fail(tenant, item, ex, receive_count)


def _retry_or_fail(tenant: str, item: item_store.InboxItem, ex: Exception, receive_count: int) -> str:
    if receive_count >= MAX_RECEIVES:
        _fail(tenant, item, f"extraction failed after {receive_count} attempts: {type(ex).__name__}")
    raise ex


def _fail(tenant: str, item: item_store.InboxItem, reason: str) -> None:
    logger.warning("inbox item failed", extra={"tenant_id": tenant, "inbox_id": item.inbox_id, "reason": reason})
    if item_store.transition(item, ["received", "processing"], status="failed", failure_reason=reason[:1000],
                             updated_at=now_iso()):
        log_store.set_outcome(tenant, item.log_id, "failed", reason)


def _extract(tenant: str, item: item_store.InboxItem) -> str:
    from ledgerlou.domain.inbox import compliance, extraction, vendor_match
    from ledgerlou.store.receivables import invoices as invoice_store

    _doc, data = archive.fetch(tenant, item.document_id)
    result = extraction.extract(data, filename=item.original_name, content_type=item.mime_type)
    extracted = plain(result.extraction)
    checks = plain(compliance.check(result))
    vendor, candidates = vendor_match.match(tenant, result.extraction)
    vendor, candidates = plain(vendor), plain(candidates) or []
    einvoice_doc = None
    if result.einvoice_xml and item.mime_type != archive.PLAIN_XML:
        # The XML of a ZUGFeRD/Factur-X PDF is the invoice (the XML prevails over the picture): kept as its own
        # document, the original the booking links (review.approve).
        stem = item.original_name.rsplit(".", 1)[0]
        einvoice_doc = archive.upload(tenant, result.einvoice_xml, f"{stem}.xml", ACTOR,
                                      doc_id=einvoice_document_id(tenant, item.inbox_id)).id
    now = now_iso()
    changes: dict[str, Any] = {
        "ocr_extraction": dumps(extracted), "ocr_raw": dumps(plain(result.ocr_raw) or {}),
        "vendor_match": dumps(vendor) if vendor else None, "vendor_candidates": dumps(candidates),
        "compliance_check": dumps(checks), "einvoice_document_id": einvoice_doc, "updated_at": now,
    }
    key = duplicate_key(vendor, extracted)
    owner = None
    if key is not None:
        if vendor and vendor.get("vendor_id"):
            booked = invoice_store.get_number_claim(tenant, PAYABLES.code, str(vendor["vendor_id"]).lower(),
                                                    str(extracted["invoice_number"]))
            owner = f"incoming invoice {booked}" if booked else None
        if owner is None:
            held = item_store.claim_duplicate_key(tenant, key, item.inbox_id, now)
            owner = f"inbox item {held}" if held else None
    if owner is not None:
        reason = f"duplicate: vendor and invoice number {extracted['invoice_number']} arrived before ({owner})"
        if item_store.transition(item, ["processing"], status="rejected", rejected_reason=reason, **changes):
            log_store.set_outcome(tenant, item.log_id, "duplicate", reason)
        return "duplicate"
    changes["duplicate_key"] = key
    # The log entry stays "accepted" (the item's status says how far it got): no write for it here.
    item_store.transition(item, ["processing"], status="extracted", **changes)
    return "extracted"

