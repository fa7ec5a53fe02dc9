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

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with LOCK:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    _applied = True
