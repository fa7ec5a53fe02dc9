"""Import batch items: one per import, with its state, counts and errors."""


from collections.abc import Iterable
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from ledgerlou.errors import InternalError
from ledgerlou.store.base import TableModel, put_new, tenant_pk, update_if


class ImportBatchItem(TableModel):
    batch_id = UnicodeAttribute()
    bank_account_id = UnicodeAttribute()
    state = UnicodeAttribute()  # queued | processing | completed | failed
    source = UnicodeAttribute()  # json | file
    document_id = UnicodeAttribute(null=True)
    original_name = UnicodeAttribute(null=True)
    format = UnicodeAttribute(null=True)
    dialect = UnicodeAttribute(null=True)
    total_rows = NumberAttribute(null=True)
    imported = NumberAttribute(null=True)
    skipped_duplicates = NumberAttribute(null=True)
    errors = UnicodeAttribute(null=True)  # JSON list, at most MAX_STORED_ERRORS entries
    errors_truncated = BooleanAttribute(default=False)
    statements = UnicodeAttribute(null=True)  # JSON list of statement summaries
    balance_mismatches = UnicodeAttribute(null=True)  # JSON list of strings
    failure_reason = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    completed_at = UnicodeAttribute(null=True)





def batch_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "IMPORTBATCH")



# ------------------------------------------------------------------------------------- import batches
def put_batch(tenant_id: str, item: ImportBatchItem) -> None:
    item.PK, item.SK = batch_pk(tenant_id), item.batch_id
    put_new(item, InternalError("Import batch id collision."))  # a fresh UUID: never a caller's conflict


def get_batch(tenant_id: str, batch_id: str) -> ImportBatchItem | None:
    try:
        return ImportBatchItem.get(batch_pk(tenant_id), batch_id, consistent_read=True)
    except DoesNotExist:
        return None


def get_batches(tenant_id: str, batch_ids: Iterable[str]) -> dict[str, ImportBatchItem]:
    keys = [(batch_pk(tenant_id), b) for b in set(batch_ids)]
    return {b.batch_id: b for b in ImportBatchItem.batch_get(keys, consistent_read=True)} if keys else {}


def start_batch(tenant_id: str, batch_id: str, now: str) -> ImportBatchItem | None:
    """Mark a batch processing (attempts + 1) unless it is completed; returns it, or None if completed
    or missing."""
    item = ImportBatchItem(batch_pk(tenant_id), batch_id)
    if not update_if(item, [ImportBatchItem.state.set("processing"), ImportBatchItem.updated_at.set(now),
                            ImportBatchItem.attempts.add(1)],
                     ImportBatchItem.PK.exists() & (ImportBatchItem.state != "completed")):
        return None
    return item


def finish_batch(tenant_id: str, batch_id: str, *, state: str, now: str, **fields: Any) -> None:
    actions: list[Action] = [ImportBatchItem.state.set(state), ImportBatchItem.updated_at.set(now)]
    if state == "completed":
        actions.append(ImportBatchItem.completed_at.set(now))
    for name, value in fields.items():
        attr = getattr(ImportBatchItem, name)
        actions.append(attr.remove() if value is None else attr.set(value))
    ImportBatchItem(batch_pk(tenant_id), batch_id).update(actions=actions)
