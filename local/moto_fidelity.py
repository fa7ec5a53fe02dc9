"""Makes moto's DynamoDB conditional writes atomic, as they are on AWS.

moto checks a ConditionExpression and then writes, without a lock: two threads can both pass
``attribute_not_exists(PK)`` for the same key and the second silently overwrites the first. We saw
exactly that under load (two journal writers "won" the same block, a booking vanished and the chain
broke) — something real DynamoDB never does. The journal's correctness rests on that atomicity, so the
local runtime, the tests and the benchmarks run moto with its item writes serialised by one lock.
Nothing here is deployed.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

# Reentrant: the local books' write-ahead log (local.state) takes it around a whole BatchWriteItem, whose
# item writes take it again; it also orders the log exactly as the writes were applied.
LOCK = threading.RLock()
_applied = False


def make_conditional_writes_atomic() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with LOCK:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    _applied = True


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """TransactWriteItems as DynamoDB does it, at the cost of its items rather than of the table.

    moto deep-copies every table a transaction touches to roll back on failure (measured: ~1.1 s per
    call at a few thousand items, which made bank reconciliation — one transaction per status change —
    cost seconds per request locally). Here every condition is checked first, against the items as
    they are (the caller holds LOCK, so nothing writes in between); a failed condition cancels the
    whole transaction with the same CancellationReasons, nothing written. Only then are the writes
    applied, each through moto's own put/update/delete (stream records included), with the touched
    items saved beforehand and put back should a write raise halfway (e.g. a bad update expression)."""
    import copy

    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    ops: list[tuple[str, dict[str, Any], Any, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        table = self.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        marker = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        current = self.get_item(op["TableName"], key)
        condition = op.get("ConditionExpression")
        failed = condition is not None and not get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")).expr(current)
        old = current.to_json()["Attributes"] if failed and current is not None and op.get(
            "ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
        errors.append(("ConditionalCheckFailed", "The conditional request failed", old) if failed
                      else (None, None, None))
        ops.append((op_type, op, table, key))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    saved = [(table, key, copy.deepcopy(self.get_item(op["TableName"], key))) for _t, op, table, key in ops]
    try:
        for op_type, op, _table, key in ops:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"], expression_attribute_names=names,
                              expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(op["TableName"], key, expression_attribute_names=names,
                                 expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(op["TableName"], key, update_expression=op["UpdateExpression"],
                                 expression_attribute_names=names, expression_attribute_values=values)
    except Exception:
        for table, key, before in saved:
            if before is None:
                self.delete_item(table.name, key)
            else:
                self.put_item(table.name, before.to_json()["Attributes"])
        raise


_partition = threading.local()
_queries_patched = False


def make_queries_partition_local() -> None:
    """Makes moto's Query on a table read one partition, as DynamoDB does, and its scans safe under writes.

    moto answers a Query on the table (no index) by sorting *every item of the table* and keeping the
    ones with the partition key: each Query costs O(n log n) in the whole table, so a booking slowed
    with every other tenant's books (measured over HTTP at 80k items: 28 vs 67 bookings/s on an empty
    table). And that walk iterates the table's dicts while other threads write: "dictionary changed
    size during iteration", a 500 under load. Here a Query on the table gets the partition's items
    only (moto then filters, sorts and pages them exactly as before), and every other walk (Scan,
    index queries) iterates over a snapshot of the dicts.
    """
    global _queries_patched
    if _queries_patched:
        return
    import inspect

    from moto.dynamodb.models.table import Table

    original_query = Table.query
    signature = inspect.signature(original_query)

    def all_items(self: Any) -> list[Any]:
        wanted = getattr(_partition, "key", None)
        if wanted is not None and wanted[0] is self:
            part = self.items.get(wanted[1])  # a defaultdict: .get does not create the partition
            if part is None:
                return []
            return list(part.values()) if self.range_key_attr else [part]
        items: list[Any] = []
        for hash_set in list(self.items.values()):  # list(): one step under the GIL, a snapshot
            if self.range_key_attr:
                items.extend(list(hash_set.values()))
            else:
                items.append(hash_set)
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    @functools.wraps(original_query)
    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        if bound.get("index_name") or bound.get("hash_key") is None:
            return original_query(self, *args, **kwargs)
        _partition.key = (self, bound["hash_key"])
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _partition.key = None

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    _queries_patched = True
