"""pynamodb foundations for the single table.

Only modules in this package build keys. Every tenant-owned key starts with ``T#<tenant>`` so tenant
isolation holds by construction. The exceptions are the lookups that find a tenant in the first
place and hold no rights themselves: the API-key hash pointer (``admin/api_keys.py``), and for people
the e-mail pointer, the session and setup/reset-token hashes, the public routes' throttle counters
and the contact-form messages (``people/``).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pynamodb.attributes import Attribute, UnicodeAttribute
from pynamodb.constants import NUMBER
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from ledgerlou import config
from ledgerlou.errors import DomainError, ServiceUnavailable
from ledgerlou.store.aws_errors import is_condition_failure, is_throttle


class DecimalAttribute(Attribute[Decimal]):
    """Exact money in DynamoDB: pynamodb's NumberAttribute goes through float (docs/library-notes.md)."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        return str(value)

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


def tenant_pk(tenant_id: str, entity: str | None = None) -> str:
    return f"T#{tenant_id}" if entity is None else f"T#{tenant_id}#{entity}"


def now_iso() -> str:
    """ISO 8601 UTC with milliseconds and Z, the one timestamp format of the API."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TableModel(Model):
    """Base of every item type: the table's key schema. Subclasses add their attributes."""

    class Meta:
        table_name = config.table_name()
        region = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "eu-central-1"))

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)


# ------------------------------------------------------------------------------------- conditional writes
def _refused(err: PutError | UpdateError, conflict: DomainError | None) -> bool:
    """After a failed conditional write: False when the condition did not hold (or ``conflict`` raised);
    a throttle raises ServiceUnavailable; any other error propagates as it is (a 500)."""
    if is_condition_failure(err):
        if conflict is not None:
            raise conflict from err
        return False
    if is_throttle(err):
        raise ServiceUnavailable() from err
    raise err


def put_new(item: Model, conflict: DomainError | None = None) -> bool:
    """PutItem only if the item's key does not exist. True when written; when it exists, raise
    ``conflict`` if given, else return False. The one way to create an item that must be unique."""
    try:
        item.save(condition=type(item).PK.does_not_exist())  # type: ignore[attr-defined]
        return True
    except PutError as ex:
        return _refused(ex, conflict)


def update_if(item: Model, actions: list[Action], condition: Condition,
              conflict: DomainError | None = None) -> bool:
    """UpdateItem under ``condition``. True when updated; when the condition does not hold, raise
    ``conflict`` if given, else return False."""
    try:
        item.update(actions=actions, condition=condition)
        return True
    except UpdateError as ex:
        return _refused(ex, conflict)


def page(items: list[Any], offset: int, limit: int) -> list[Any]:
    return items[offset : offset + limit]


def warm_connections() -> None:
    """Create every model's DynamoDB client now, in this thread.

    pynamodb builds a model's botocore client on first use; threads that arrive at once each build
    their own (~0.5 s apiece under the GIL). Benchmarks and the local runtime call this first."""

    def walk(cls: type[Model]) -> None:
        for sub in cls.__subclasses__():
            sub._get_connection().connection.client  # noqa: B018 - the property creates the client
            walk(sub)

    walk(TableModel)


TRANSACT_MAX_ITEMS = 100


def transact_each(ops: dict[str, dict[str, Any]], fallback: Callable[[str], dict[str, Any] | None]) -> None:
    """Independent conditional writes (key → TransactWriteItems element, one per item) in as few
    round trips as possible: transactions of TRANSACT_MAX_ITEMS. A transaction is all or nothing, so
    one failed condition cancels its chunk; the cancellation reasons name the failed writes, each is
    replaced by ``fallback(key)`` (None: dropped) and the rest are sent again — the outcome is that
    of one conditional write per item, the cost one call per chunk when no condition fails (the
    projector's batched writes: the candidate index, the invoice states)."""
    client = ddb()
    pending = list(ops.items())
    for attempt in range(50):
        if not pending:
            return
        chunk, rest = pending[:TRANSACT_MAX_ITEMS], pending[TRANSACT_MAX_ITEMS:]
        try:
            client.transact_write_items(TransactItems=[op for _k, op in chunk])
            pending = rest
            continue
        except client.exceptions.TransactionCanceledException as ex:
            reasons = ex.response.get("CancellationReasons") or []
        retry: list[tuple[str, dict[str, Any]]] = []
        conflict = False
        for k, (key, op) in enumerate(chunk):
            code = reasons[k].get("Code") if k < len(reasons) else None
            if code == "ConditionalCheckFailed":
                replacement = fallback(key)
                if replacement is not None:
                    retry.append((key, replacement))
            else:
                retry.append((key, op))  # not applied: sent again
                conflict = conflict or code not in (None, "None")
        if conflict:  # a transaction conflict (another writer of these items) or a throttle: back off
            time.sleep(min(0.2, 0.005 * 2 ** attempt))
        pending = retry + rest
    raise RuntimeError("transactional writes kept being cancelled")


@lru_cache(maxsize=1)
def ddb() -> Any:
    """The low-level DynamoDB client, for the few hot paths where pynamodb's model layer costs more
    than the call (the journal append, bulk bank writes) or lacks a parameter we need
    (``ReturnValuesOnConditionCheckFailure``)."""
    import boto3
    from botocore.config import Config

    region = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "eu-central-1"))
    # No client-side parameter validation: these requests are built by us, DynamoDB validates them
    # anyway, and botocore's walk over every attribute of every item costs about a quarter of a
    # BatchWriteItem's client time (measured: 0.65 → 0.48 ms per 18-attribute item on moto).
    return boto3.client("dynamodb", region_name=region, config=Config(parameter_validation=False))
