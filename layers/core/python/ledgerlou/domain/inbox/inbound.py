"""The inbound function's work: one SES receipt event → documents, inbox items, ingestion log, OCR queue.

SES's S3 action has written the raw MIME to ``<inbound bucket>/<prefix><message id>`` before the rule's
Lambda action invokes us (the Lambda event carries headers and verdicts, never the body). For each
envelope recipient that is a tenant's inbox address, every accepted file of the mail becomes a
document (original bytes, SHA-256: domain/documents/archive.py) and an inbox item in ``received``, with
an ``accepted`` log entry; each refused file gets a ``rejected`` entry and stores nothing; a mail without
any file gets one ``skipped`` entry. Then the items are queued for the OCR worker.

Redelivery (Lambda retries a failed or timed-out asynchronous invocation twice; SES may invoke more than
once): the ids of documents, items and log entries derive from (tenant, SES message id, the part's
position), and each is written only if absent (a conditional PutItem; S3 ``IfNoneMatch``). A second run,
after the first died anywhere or while it still runs, writes what the first did not and nothing twice:
one document, one item and one ``accepted`` entry per attachment. Items still ``received`` are queued
again (the worker is idempotent); a redelivery is in the function's log, not a second log entry.

A recipient that is no tenant's address has no tenant to log under: it is logged to the function's log
(CloudWatch, with the SES message id) and counted (metric InboundUnknownRecipient); the raw MIME expires
with the inbound bucket's lifecycle rule. Nothing is written to the table for it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from ledgerlou import config
from ledgerlou.domain.documents import archive
from ledgerlou.domain.inbox import address, ids, mail
from ledgerlou.errors import DomainError
from ledgerlou.observability import logger, metrics
from ledgerlou.store import blobs, queue
from ledgerlou.store.base import now_iso
from ledgerlou.store.inbox import items as item_store
from ledgerlou.store.inbox import log as log_store

ACTOR = "inbox:email"


@dataclass
class Outcome:
    """What one receipt did (the function logs it; tests read it)."""

    message_id: str
    unknown_recipients: list[str] = field(default_factory=list)
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (tenant, inbox id)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (tenant, name, reason)
    skipped: list[str] = field(default_factory=list)  # tenants


def handle_record(record: dict[str, Any]) -> Outcome:
    ses = record["ses"]
    mail_meta, receipt = ses["mail"], ses["receipt"]
    message_id = str(mail_meta["messageId"])
    out = Outcome(message_id)
    tenants: list[tuple[str, str]] = []
    for recipient in receipt.get("recipients") or mail_meta.get("destination") or []:
        tenant = address.tenant_for(str(recipient))
        if tenant is None:
            out.unknown_recipients.append(str(recipient))
        elif tenant not in [t for t, _ in tenants]:
            tenants.append((tenant, str(recipient)))
    if out.unknown_recipients:
        logger.warning("inbound mail to an unknown address dropped", extra={
            "ses_message_id": message_id, "recipients": out.unknown_recipients,
            "source": mail_meta.get("source")})
        metrics.add_metric(name="InboundUnknownRecipient", unit="Count", value=len(out.unknown_recipients))
    if not tenants:
        return out
    received_ms = _ms(str(mail_meta.get("timestamp") or receipt.get("timestamp") or ""))
    common = mail_meta.get("commonHeaders") or {}
    sender = str(mail_meta.get("source") or "") or None
    subject = common.get("subject")
    key = config.inbound_prefix() + message_id
    stored = blobs.s3().get_object(Bucket=config.inbound_bucket(), Key=key)  # the body is read only if small enough
    size = int(stored["ContentLength"])
    verdict = (receipt.get("virusVerdict") or {}).get("status")
    problem = None
    if size > mail.MAX_MESSAGE_BYTES:
        problem = f"the message is larger than {mail.MAX_MESSAGE_BYTES // (1024 * 1024)} MB ({size} bytes)"
    elif verdict == "FAIL":
        problem = "SES found a virus in the message"
    if problem is not None:
        stored["Body"].close()
        for tenant, _recipient in tenants:
            _log(tenant, received_ms, message_id, "message", sender, subject, None, "rejected", problem)
            out.rejected.append((tenant, "(message)", problem))
        return out
    raw = stored["Body"].read()
    parsed = mail.parse(raw)
    sender = parsed.sender or sender
    subject = parsed.subject or subject
    for tenant, _recipient in tenants:
        _ingest(tenant, parsed, message_id, received_ms, sender, subject, out)
    return out


def part_document_id(tenant: str, message_id: str, part: int) -> str:
    """The document id of a mail's part: the same on every delivery of the message."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ledgerlou:inbound:{tenant}:{message_id}:part-{part}"))


def _ms(timestamp: str) -> int:
    try:
        return int(dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def _log(tenant: str, ms: int, message_id: str, part: str, sender: str | None, subject: str | None,
         name: str | None, outcome: str, message: str | None, document_id: str | None = None,
         inbox_id: str | None = None) -> str:
    entry_id = ids.derived(ms, message_id, tenant, part, "log")
    log_store.put(log_store.new_entry(
        tenant, entry_id=entry_id, received_at=now_iso(), source="email", source_email=sender, subject=subject,
        original_name=name, document_id=document_id, inbox_id=inbox_id, outcome=outcome,
        message=(message or "")[:1000] or None, message_id=message_id))
    return entry_id


def _ingest(tenant: str, parsed: mail.Mail, message_id: str, ms: int, sender: str | None, subject: str | None,
            out: Outcome) -> None:
    if not parsed.parts and not parsed.refused:
        _log(tenant, ms, message_id, "body", sender, subject, None, "skipped", "the message has no attachment")
        out.skipped.append(tenant)
        return
    for n, refused in enumerate(parsed.refused):
        _log(tenant, ms, message_id, f"refused-{n}", sender, subject, refused.name, "rejected", refused.reason)
        out.rejected.append((tenant, refused.name, refused.reason))
    queued: list[dict[str, str]] = []
    for n, part in enumerate(parsed.parts):
        inbox_id = ids.derived(ms, message_id, tenant, f"part-{n}", "item")
        entry_id = ids.derived(ms, message_id, tenant, f"part-{n}", "log")
        item = item_store.get(tenant, inbox_id)
        if item is None:
            try:
                doc = archive.upload(tenant, part.data, part.name, ACTOR,
                                     doc_id=part_document_id(tenant, message_id, n))
            except DomainError as ex:  # the document store's own checks (size, type): refused, nothing stored
                _log(tenant, ms, message_id, f"part-{n}", sender, subject, part.name, "rejected", ex.message)
                out.rejected.append((tenant, part.name, ex.message))
                continue
            now = now_iso()
            new = item_store.new_item(
                tenant, inbox_id=inbox_id, document_id=doc.id, status="received", original_name=doc.original_name,
                mime_type=doc.mime_type, source="email", source_email=sender, source_subject=subject,
                message_id=message_id, log_id=entry_id, created_at=now, updated_at=now)
            item = new if item_store.put(new) else item_store.get(tenant, inbox_id)  # else: a run beside this one
            if item is None:
                raise RuntimeError(f"inbox item {inbox_id} was neither written nor found")  # retried by Lambda
            digest = f", sha256 {doc.sha256[:12]}…"
        else:
            digest = ""
            logger.info("redelivered mail part stored already", extra={
                "ses_message_id": message_id, "inbox_id": inbox_id, "status": item.status})
        # written only if absent: the entry of an item whose first run died before it
        _log(tenant, ms, message_id, f"part-{n}", sender, subject, item.original_name, "accepted",
             f"stored as document {item.document_id} ({item.mime_type}{digest}), queued for extraction",
             document_id=item.document_id, inbox_id=inbox_id)
        if item.status == "received":
            queued.append({"tenant_id": tenant, "inbox_id": inbox_id})
        out.accepted.append((tenant, inbox_id))
    if queued:
        queue.enqueue_ocr(queued)
