"""Period (month) status and Festschreibung requests.

The lock state that bookings are checked against lives in the journal itself (each block carries the
lock map as of that block), so a lock and a booking racing each other cannot both win. These items
hold the details for the API: who requested, who approved, when, the closing hash.

| access pattern                 | key                                         |
|--------------------------------|---------------------------------------------|
| a period's status / all periods| PK=T#<t>#PERIOD      SK=<YYYY-MM> (Get/Query)|
| a lock request                 | PK=T#<t>#PERIODLOCK  SK=<request_id>         |
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.store.base import TableModel, tenant_pk, update_if


class PeriodItem(TableModel):
    period = UnicodeAttribute()
    pending_request_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    locked_by = UnicodeAttribute(null=True)
    locked_at = UnicodeAttribute(null=True)
    approved_by = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    closing_hash = UnicodeAttribute(null=True)
    chain_length = NumberAttribute(null=True)
    entry_count = NumberAttribute(null=True)


class LockRequestItem(TableModel):
    request_id = UnicodeAttribute()
    period = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | approved | cancelled
    requested_by = UnicodeAttribute()
    requested_by_label = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    decided_by = UnicodeAttribute(null=True)
    decided_at = UnicodeAttribute(null=True)


def period_key(tenant_id: str, period: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, "PERIOD"), period


def request_key(tenant_id: str, request_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, "PERIODLOCK"), request_id


def get_period(tenant_id: str, period: str) -> PeriodItem | None:
    try:
        return PeriodItem.get(*period_key(tenant_id, period), consistent_read=True)
    except DoesNotExist:
        return None


def list_periods(tenant_id: str) -> list[PeriodItem]:
    return list(PeriodItem.query(tenant_pk(tenant_id, "PERIOD"), consistent_read=True))


def get_request(tenant_id: str, request_id: str) -> LockRequestItem | None:
    try:
        return LockRequestItem.get(*request_key(tenant_id, request_id), consistent_read=True)
    except DoesNotExist:
        return None


def claim_pending(tenant_id: str, period: str, request_id: str) -> bool:
    """At most one pending Festschreibung request per period (conditional on no pending one)."""
    item = PeriodItem(*period_key(tenant_id, period))
    return update_if(item, [PeriodItem.period.set(period), PeriodItem.pending_request_id.set(request_id)],
                     PeriodItem.pending_request_id.does_not_exist())


def release_pending(tenant_id: str, period: str, request_id: str) -> None:
    item = PeriodItem(*period_key(tenant_id, period))
    update_if(item, [PeriodItem.pending_request_id.remove()], PeriodItem.pending_request_id == request_id)


def cancel_request(req: LockRequestItem, actor_id: str, now: str) -> bool:
    """Cancel a pending request; False when it is no longer pending (decided by a concurrent request)."""
    return update_if(req, [LockRequestItem.status.set("cancelled"), LockRequestItem.decided_by.set(actor_id),
                           LockRequestItem.decided_at.set(now)], LockRequestItem.status == "pending")
