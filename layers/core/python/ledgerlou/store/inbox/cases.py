"""Invoice review cases (one per confirmed inbox item)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.store.base import TableModel, tenant_pk, update_if


class ReviewCase(TableModel):
    case_id = UnicodeAttribute()
    inbox_id = UnicodeAttribute()
    document_id = UnicodeAttribute()
    einvoice_document_id = UnicodeAttribute(null=True)
    queue_state = UnicodeAttribute()
    vendor_id = UnicodeAttribute(null=True)
    normalized_invoice = UnicodeAttribute()  # JSON
    vendor_candidates = UnicodeAttribute(null=True)  # JSON
    booking_errors = UnicodeAttribute(null=True)  # JSON
    compliance_check = UnicodeAttribute(null=True)  # JSON
    duplicate_key = UnicodeAttribute(null=True)
    document_type = UnicodeAttribute(null=True)  # the extraction's (ocr_raw.document_type): credit_note books so
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    invoice_id = UnicodeAttribute(null=True)
    intent_id = UnicodeAttribute(null=True)
    rejected_reason = UnicodeAttribute(null=True)
    # An approve in progress (domain/inbox/review.py): its token, and until when (epoch seconds) it may run
    approving_token = UnicodeAttribute(null=True)
    approving_until = NumberAttribute(null=True)


def pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "REVIEW")


def new_case(tenant_id: str, **attrs: Any) -> ReviewCase:
    return ReviewCase(pk(tenant_id), attrs["case_id"], **attrs)


def get(tenant_id: str, case_id: str) -> ReviewCase | None:
    try:
        return ReviewCase.get(pk(tenant_id), case_id, consistent_read=True)
    except DoesNotExist:
        return None


def query(tenant_id: str, queue_state: str | None, limit: int, offset: int) -> list[ReviewCase]:
    cond = ReviewCase.queue_state == queue_state if queue_state else None
    out: list[ReviewCase] = []
    for n, item in enumerate(ReviewCase.query(pk(tenant_id), scan_index_forward=False, filter_condition=cond,
                                              consistent_read=True, page_size=max(limit + offset, 25))):
        if n >= offset:
            out.append(item)
        if len(out) >= limit:
            break
    return out


def _actions(changes: dict[str, Any]) -> list[Any]:
    return [getattr(ReviewCase, k).set(v) if v is not None else getattr(ReviewCase, k).remove()
            for k, v in changes.items()]


def update_open(case: ReviewCase, **changes: Any) -> bool:
    """Change an open case that no approve holds (False when it is approved, rejected or being approved
    meanwhile)."""
    return update_if(case, _actions(changes),
                     (ReviewCase.queue_state == "open") & ReviewCase.approving_token.does_not_exist())


def claim(case: ReviewCase, token: str, until: int) -> bool:
    """Take an open case for one approve (False when it is not open or another approve holds it)."""
    return update_if(case, _actions({"approving_token": token, "approving_until": until}),
                     (ReviewCase.queue_state == "open") & ReviewCase.approving_token.does_not_exist())


def update_claimed(case: ReviewCase, token: str, **changes: Any) -> bool:
    """Change an open case that the approve of ``token`` holds (False when it does not hold it any more)."""
    return update_if(case, _actions(changes),
                     (ReviewCase.queue_state == "open") & (ReviewCase.approving_token == token))
