"""Idempotency-Key records (docs/api-contract.md "Transport").

Access pattern: PK=T#<tenant>#IDEMPOTENCY, SK=<route>#<key> → conditional PutItem (returning the
record that stopped it) / UpdateItem / DeleteItem; expires via the table's TTL attribute after 24 h.

A record is live until ``expires_at``; an ``in_progress`` claim also ends at ``in_progress_expires_at``,
when the request that made it can no longer be running (its Lambda has timed out). A claim takes the
key when there is no live record, as powertools' DynamoDB persistence layer does: a request killed at
its timeout must not lock its key for 24 h, and a record past its TTL must not replay, although
DynamoDB may take up to 48 h to delete it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError

from ledgerlou import config
from ledgerlou.store.base import TableModel, ddb, tenant_pk

TTL_SECONDS = 24 * 3600
# Lambda kills an invocation at its deadline; this covers the clocks of two instances disagreeing.
CLOCK_MARGIN_SECONDS = 5
IN_PROGRESS = "in_progress"
COMPLETED = "completed"

# The wall clock (epoch seconds) that claims are judged by; tests replace it to move time.
clock: Callable[[], float] = time.time

# attribute_not_exists: never claimed, or deleted (released, or by TTL). expires_at < now: past its TTL
# but not yet deleted. The last: an in-progress claim whose request has timed out.
_CLAIM_CONDITION = ("attribute_not_exists(PK) OR #expires_at < :now"
                    " OR (#state = :in_progress AND #in_progress_expires_at < :now)")


class IdempotencyItem(TableModel):
    request_hash = UnicodeAttribute()
    state = UnicodeAttribute()  # in_progress | completed
    response_status = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute
    in_progress_expires_at = NumberAttribute(null=True)  # epoch seconds; absent on records before it


def key(tenant_id: str, scope: str, idem_key: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, "IDEMPOTENCY"), f"{scope}#{idem_key}"


def claim(tenant_id: str, scope: str, idem_key: str, request_hash: str,
          running_seconds: float) -> IdempotencyItem | None:
    """Claim the key for a request that may run ``running_seconds`` more; returns None when claimed,
    else the live record that holds it (completed, or in progress and not timed out).

    Only a failed condition means "held": any other error (a throttle, say) propagates."""
    pk, sk = key(tenant_id, scope, idem_key)
    now = clock()
    client = ddb()
    try:
        client.put_item(
            TableName=config.table_name(),
            Item={"PK": {"S": pk}, "SK": {"S": sk}, "request_hash": {"S": request_hash},
                  "state": {"S": IN_PROGRESS}, "expires_at": {"N": str(int(now) + TTL_SECONDS)},
                  # + 1: whole seconds, rounded up, so the claim never ends before the deadline
                  "in_progress_expires_at": {"N": str(int(now + running_seconds) + 1 + CLOCK_MARGIN_SECONDS)}},
            ConditionExpression=_CLAIM_CONDITION,
            ExpressionAttributeNames={"#expires_at": "expires_at", "#state": "state",
                                      "#in_progress_expires_at": "in_progress_expires_at"},
            ExpressionAttributeValues={":now": {"N": str(int(now))}, ":in_progress": {"S": IN_PROGRESS}},
            # The record that failed the condition comes back with the error: no second read, and no
            # race with a release between the put and a get.
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return None
    except client.exceptions.ConditionalCheckFailedException as ex:
        return IdempotencyItem.from_raw_data(ex.response["Item"])


def complete(tenant_id: str, scope: str, idem_key: str, status: int, body: str) -> None:
    pk, sk = key(tenant_id, scope, idem_key)
    IdempotencyItem(pk, sk).update(actions=[
        IdempotencyItem.state.set(COMPLETED),
        IdempotencyItem.response_status.set(status),
        IdempotencyItem.response_body.set(body),
        IdempotencyItem.in_progress_expires_at.remove(),
    ])


def release(tenant_id: str, scope: str, idem_key: str) -> None:
    pk, sk = key(tenant_id, scope, idem_key)
    try:
        IdempotencyItem(pk, sk).delete()
    except DeleteError:
        # The request's own answer (its error, or its 4xx) matters more than this clean-up, and must
        # not be masked by it. A claim left behind ends at its in_progress_expires_at, within a minute.
        pass
