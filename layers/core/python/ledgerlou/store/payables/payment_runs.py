"""Payment runs and the invoices they hold.

Access patterns (README "Access patterns"):

* run                    PK=T#<t>#PAYRUN          SK=<run id>      GetItem; Put (new); UpdateItem conditional on
                                                                   ``version`` (every state change); Query (list:
                                                                   a tenant has a few runs a week)
* invoice held by a run  PK=T#<t>#PAYRUNCLAIM     SK=<invoice id>  conditional Put (attribute_not_exists: two runs
                                                                   racing for one invoice, one wins); UpdateItem
                                                                   conditional on the old run id (take over the
                                                                   claim of a cancelled or completed run);
                                                                   BatchGetItem (eligibility of a page)

Claims are never deleted (the functions' policies allow no DeleteItem): a cancelled run's claims stay
and are taken over by the next run that wants the invoice.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.store.base import TableModel, put_new, tenant_pk, update_if
from ledgerlou.store.receivables import partners as partner_store


class RunItem(TableModel):
    data = UnicodeAttribute()  # JSON of the run (domain/payables/payment_runs.py)
    version = NumberAttribute()
    created_at = UnicodeAttribute()


class RunClaimItem(TableModel):
    run_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def run_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "PAYRUN")


def claim_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "PAYRUNCLAIM")


# ------------------------------------------------------------------------------------- runs
def put_run(tenant_id: str, run: dict[str, Any]) -> None:
    put_new(RunItem(run_pk(tenant_id), run["id"], data=_dumps(run), version=1, created_at=run["created_at"]))


def get_run(tenant_id: str, run_id: str) -> tuple[dict[str, Any], int] | None:
    try:
        item = RunItem.get(run_pk(tenant_id), run_id, consistent_read=True)
    except DoesNotExist:
        return None
    return json.loads(item.data), int(item.version)


def get_runs(tenant_id: str, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    keys = [(run_pk(tenant_id), r) for r in dict.fromkeys(run_ids)]
    return {item.SK: json.loads(item.data) for item in RunItem.batch_get(keys, consistent_read=True)}


def list_runs(tenant_id: str) -> list[dict[str, Any]]:
    return [json.loads(item.data) for item in RunItem.query(run_pk(tenant_id), consistent_read=True)]


def update_run(tenant_id: str, run: dict[str, Any], expected_version: int) -> bool:
    """Replace the run if nobody changed it since ``expected_version`` was read; False otherwise."""
    item = RunItem(run_pk(tenant_id), run["id"])
    return update_if(item, [RunItem.data.set(_dumps(run)), RunItem.version.set(expected_version + 1)],
                     RunItem.version == expected_version)


# ------------------------------------------------------------------------------------- claims
def claim(tenant_id: str, invoice_id: str, run_id: str, now: str) -> bool:
    return put_new(RunClaimItem(claim_pk(tenant_id), invoice_id, run_id=run_id, created_at=now))


def take_over(tenant_id: str, invoice_id: str, old_run_id: str, run_id: str, now: str) -> bool:
    item = RunClaimItem(claim_pk(tenant_id), invoice_id)
    return update_if(item, [RunClaimItem.run_id.set(run_id), RunClaimItem.created_at.set(now)],
                     RunClaimItem.run_id == old_run_id)


def claims(tenant_id: str, invoice_ids: list[str]) -> dict[str, tuple[str, str]]:
    """invoice id → (run id, claimed at) of the invoices some run has claimed (BatchGetItem)."""
    keys = [(claim_pk(tenant_id), i) for i in dict.fromkeys(invoice_ids)]
    return {item.SK: (item.run_id, item.created_at)
            for item in RunClaimItem.batch_get(keys, consistent_read=True)}


# ------------------------------------------------------------------------------------- vendors of a page
def vendors(tenant_id: str, vendor_ids: list[str]) -> dict[str, partner_store.PartnerItem]:
    keys = [(partner_store.partner_pk(tenant_id, "AP"), v) for v in dict.fromkeys(vendor_ids)]
    return {item.SK: item for item in partner_store.PartnerItem.batch_get(keys, consistent_read=True)}
