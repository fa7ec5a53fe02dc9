"""The SQS import worker's message handling: one import batch per message, retried by SQS."""

from __future__ import annotations

import json

from ledgerlou.domain.bank.importing.handoff import load_handoff
from ledgerlou.domain.bank.importing.run import MAX_RECEIVES, _finish, _gc_paused, _run
from ledgerlou.domain.bank.importing.sources import from_statements
from ledgerlou.domain.documents import archive as documents
from ledgerlou.errors import NotFound
from ledgerlou.money import loads
from ledgerlou.observability import logger
from ledgerlou.store.bank import accounts as account_store
from ledgerlou.store.bank import batches as batch_store
from ledgerlou.store.base import now_iso

# ------------------------------------------------------------------------------------- the worker
MESSAGE_KEYS = ("tenant_id", "batch_id", "document_id", "bank_account_id")


@_gc_paused
def process_message(body: str, receive_count: int = 1, remaining_s: float | None = None) -> str:
    """Import the file of one queued batch; returns what happened. Raises to have SQS retry it (the
    queue moves it to the DLQ after MAX_RECEIVES); the last attempt marks the batch failed first.
    ``remaining_s``: the invocation's time left (bounds the wait for a busy lease)."""
    from ledgerlou.formats.detect import parse_statement
    from ledgerlou.formats.statement import UnsupportedFormat

    message = json.loads(body)
    if not isinstance(message, dict) or any(not isinstance(message.get(k), str) for k in MESSAGE_KEYS):
        raise ValueError(f"malformed import message: needs string fields {', '.join(MESSAGE_KEYS)}")
    tenant_id, batch_id = message["tenant_id"], message["batch_id"]
    batch = batch_store.get_batch(tenant_id, batch_id)
    if batch is None:
        raise ValueError(f"unknown import batch {batch_id}")
    if batch.state == "completed":
        return "already completed"  # a redelivered message: nothing to do
    if (batch.bank_account_id, batch.document_id) != (message["bank_account_id"], message["document_id"]):
        raise ValueError(f"import message does not match batch {batch_id}")
    if batch_store.start_batch(tenant_id, batch_id, now_iso()) is None:
        return "already completed"
    document_id = message["document_id"]
    try:
        prepared = load_handoff(tenant_id, batch_id)  # the request's parse (a missing bank account: 404 at the lease)
        if prepared is None:  # else parse the stored file again
            # The statements' accounts as the request resolved them (a multi-account file has several).
            account_ids = [s.get("bank_account_id") or batch.bank_account_id for s in loads(batch.statements or "[]")]
            accounts = {a: account_store.get_account(tenant_id, a, consistent=True) for a in set(account_ids)}
            if any(item is None for item in accounts.values()):
                raise NotFound("Bank account not found.")
            _doc, data = documents.fetch(tenant_id, document_id)
            parsed = parse_statement(data)
            if len(parsed.statements) != len(account_ids):
                raise UnsupportedFormat("the stored file no longer reads as it did when it was uploaded")
            prepared = from_statements([accounts[a] for a in account_ids], parsed)  # type: ignore[misc]
        imported, skipped = _run(tenant_id, batch_id, prepared, document_id, "worker", remaining_s)
        _finish(tenant_id, batch_id, prepared, imported, skipped)
    except (NotFound, UnsupportedFormat) as ex:
        # Deterministic: the account or the stored file is gone or unreadable. Retrying cannot help.
        logger.error("import batch failed", extra={"tenant_id": tenant_id, "batch_id": batch_id, "reason": str(ex)})
        batch_store.finish_batch(tenant_id, batch_id, state="failed", now=now_iso(), failure_reason=str(ex)[:500])
        return "failed"
    except Exception as ex:
        if receive_count >= MAX_RECEIVES:
            batch_store.finish_batch(tenant_id, batch_id, state="failed", now=now_iso(),
                               failure_reason=f"import failed after {receive_count} attempts: {type(ex).__name__}")
        raise
    return "completed"
