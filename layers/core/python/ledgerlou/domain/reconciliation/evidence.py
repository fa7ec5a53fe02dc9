"""Evidence (Eigenbeleg) of a bank transaction that has no voucher: who paid what for which reason,
written by the bookkeeper, optionally with a document. Each PUT stores a new version; earlier ones
stay readable in ``history`` (GoBD: a record is never overwritten)."""

from __future__ import annotations

import uuid
from typing import Any

from ledgerlou.domain.bank import transactions
from ledgerlou.domain.caller import Caller
from ledgerlou.errors import DocumentNotFound
from ledgerlou.models.evidence import EvidenceIn
from ledgerlou.store.base import now_iso
from ledgerlou.store.reconciliation import evidence as store

CONTENT = ("evidence_type", "title", "note", "document_id", "metadata")


def get(ctx: Caller, tx_id: str) -> dict[str, Any]:
    tx = transactions.get_transaction(ctx.tenant_id, tx_id)  # 404 for a transaction of no one / another tenant
    history = store.versions(ctx.tenant_id, tx["id"])
    return {"evidence": history[-1] if history else None, "history": history}


def put(ctx: Caller, tx_id: str, body: EvidenceIn) -> dict[str, Any]:
    """Store a new version (the stored record); the same content as the latest version stores nothing
    (a retried PUT is not a second version)."""
    from ledgerlou.domain.documents import archive as documents

    tx = transactions.get_transaction(ctx.tenant_id, tx_id)
    document_id = body.document_id.lower() if body.document_id else None
    if document_id and not documents.exists(ctx.tenant_id, document_id):
        raise DocumentNotFound(f"document_id: document {document_id} does not exist.",
                               details=[{"field": "document_id", "issue": "document does not exist"}])
    content = {"evidence_type": body.evidence_type, "title": body.title, "note": body.note,
               "document_id": document_id, "metadata": body.metadata}
    for _ in range(20):
        history = store.versions(ctx.tenant_id, tx["id"])
        latest = history[-1] if history else None
        if latest is not None and {k: latest.get(k) for k in CONTENT} == content:
            return latest
        record = {"id": str(uuid.uuid4()), "bank_transaction_id": tx["id"], "version": len(history) + 1, **content,
                  "created_at": now_iso(), "created_by": ctx.actor_id}
        if store.put_version(ctx.tenant_id, tx["id"], record):
            return record
    raise RuntimeError("evidence version kept being taken by concurrent writers")
