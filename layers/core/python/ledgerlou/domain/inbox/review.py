"""Invoice review cases: correct (PATCH), approve (book the incoming invoice), reject.

Approve books through THE payables code path, ``domain.receivables.invoices.create`` with side AP, as
``POST /v1/invoices`` does: the same checks (vendor active, tax codes, totals, DUPLICATE_INVOICE per
vendor, the period lock in the journal append), the same booking. The invoice's original document is
the e-invoice XML when there is one (the XML is the invoice, GoBD; a ZUGFeRD PDF is its picture), else
the received file. A refused booking answers its error and leaves the case open with the error in
``booking_errors``.

Approve books first and then marks the case approved. A crash between the two leaves an open case
whose invoice is booked; approving it again is refused by the booking itself (DUPLICATE_INVOICE: the
vendor's number is taken), never booked twice.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import ValidationError

from ledgerlou.domain.caller import Caller
from ledgerlou.domain.receivables import invoices, partners
from ledgerlou.domain.receivables.sides import PAYABLES
from ledgerlou.errors import DomainError, InvalidInput, InvalidState, NotFound
from ledgerlou.models.inbox import NormalizedInvoiceIn, ReviewCasePatch
from ledgerlou.models.payables import IncomingInvoiceIn
from ledgerlou.money import dumps, loads
from ledgerlou.store.base import now_iso
from ledgerlou.store.inbox import cases as store
from ledgerlou.store.inbox import items as item_store

# The input-VAT codes by rate (domain/chart/tax_codes.py); a rate without a code books no VAT line.
INPUT_TAX_CODES = {Decimal("19"): "VSt19", Decimal("7"): "VSt7"}
# Where an invoice line without an account and a vendor without a default account is booked.
DEFAULT_EXPENSE = {"skr03": "4980", "skr04": "6850"}  # Sonstiger Betriebsbedarf
CENT = Decimal("0.01")


def view(case: store.ReviewCase) -> dict[str, Any]:
    return {
        "id": case.case_id, "inbox_id": case.inbox_id, "document_id": case.document_id,
        "queue_state": case.queue_state, "vendor_id": case.vendor_id,
        "normalized_invoice": loads(case.normalized_invoice),
        "vendor_candidates": loads(case.vendor_candidates or "[]"),
        "booking_errors": loads(case.booking_errors or "[]"),
        "compliance_check": loads(case.compliance_check) if case.compliance_check else None,
        "created_at": case.created_at, "updated_at": case.updated_at, "invoice_id": case.invoice_id,
        "intent_id": case.intent_id, "rejected_reason": case.rejected_reason,
        "document_type": case.document_type,
    }


def require(ctx: Caller, case_id: str) -> store.ReviewCase:
    case = store.get(ctx.tenant_id, case_id.lower())
    if case is None:
        raise NotFound(f"Review case {case_id} not found.")
    return case


def _require_open(case: store.ReviewCase, action: str) -> None:
    if case.queue_state != "open":
        raise InvalidState(f"Review case {case.case_id} is {case.queue_state}; only an open case can be {action}.",
                           details=[{"field": "queue_state", "issue": f"is {case.queue_state}"}])


def list_cases(ctx: Caller, queue_state: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    return [view(c) for c in store.query(ctx.tenant_id, queue_state, limit, offset)]


def get(ctx: Caller, case_id: str) -> dict[str, Any]:
    return view(require(ctx, case_id))


def _merge(current: dict[str, Any], patch: NormalizedInvoiceIn) -> dict[str, Any]:
    out = dict(current)
    for name in patch.model_fields_set:
        value = getattr(patch, name)
        if name == "line_items":
            out[name] = [ln.model_dump() for ln in value or []]
        elif hasattr(value, "isoformat"):
            out[name] = value.isoformat()
        else:
            out[name] = value
    return out


def patch(ctx: Caller, case_id: str, body: ReviewCasePatch) -> dict[str, Any]:
    case = require(ctx, case_id)
    _require_open(case, "changed")
    changes: dict[str, Any] = {"updated_at": now_iso()}
    if "vendor_id" in body.model_fields_set and body.vendor_id is not None:
        vendor = partners.require(ctx, PAYABLES, body.vendor_id, "vendor_id")
        changes["vendor_id"] = vendor.partner_id
    if body.normalized_invoice is not None:
        changes["normalized_invoice"] = dumps(_merge(loads(case.normalized_invoice), body.normalized_invoice))
    if not store.update_open(case, **changes):
        _require_open(require(ctx, case_id), "changed")
    return get(ctx, case_id)


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def invoice_body(ctx: Caller, case: store.ReviewCase) -> IncomingInvoiceIn:
    """The POST /v1/invoices body the case books (400 with the field named when something is missing)."""
    if not case.vendor_id:
        raise InvalidInput.field("vendor_id", "no vendor: set vendor_id (PATCH) to an existing vendor")
    inv = loads(case.normalized_invoice)
    vendor = partners.require(ctx, PAYABLES, case.vendor_id, "vendor_id")
    account = vendor.default_account or DEFAULT_EXPENSE[ctx.chart]
    net, tax = _d(inv.get("total_net")), _d(inv.get("total_tax"))
    lines: list[dict[str, Any]] = []
    nets: list[Decimal] = []
    for ln in inv.get("line_items") or []:
        amount = _d(ln.get("net_amount"))
        if amount is None and ln.get("unit_price") is not None:
            amount = (_d(ln.get("quantity")) or Decimal(1)) * Decimal(str(ln["unit_price"]))
        if amount is None:
            continue
        rate = _d(ln.get("tax_rate"))
        nets.append(amount.quantize(CENT, ROUND_HALF_UP))
        lines.append({"description": str(ln["description"])[:500] if ln.get("description") else None,
                      "net_amount": nets[-1],
                      "tax_code": ln.get("tax_code") or (INPUT_TAX_CODES.get(rate) if rate is not None else None),
                      "account": ln.get("account") or account})
    if net is not None and (not lines or sum(nets, Decimal(0)) != net):
        # The lines as read do not carry the invoice (a text-layer or OCR read of a table is rarely complete):
        # one line of the net at the invoice's rate; the totals check of the booking then decides.
        rate = (tax * 100 / net).quantize(Decimal(1), ROUND_HALF_UP) if tax is not None and net else Decimal(0)
        lines = [{"description": f"Rechnung {inv.get('invoice_number') or ''}".strip(), "net_amount": net,
                  "tax_code": INPUT_TAX_CODES.get(rate), "account": account}]
    due = inv.get("due_date") or ((inv.get("payment_terms") or {}).get("due_date"))
    if due and inv.get("invoice_date") and str(due) < str(inv["invoice_date"]):
        due = None  # a due date before the invoice date is a misread, not a term
    body = {"vendor_id": case.vendor_id, "invoice_number": inv.get("invoice_number"),
            "invoice_date": inv.get("invoice_date"), "due_date": due, "total_net": net, "total_tax": tax,
            "total_gross": _d(inv.get("total_gross")), "currency": inv.get("currency"),
            "document_id": case.einvoice_document_id or case.document_id,
            "notes": f"Aus dem Posteingang (Prüffall {case.case_id})", "lines": lines,
            # A credit note (BT-3 381) is booked the other way round, as POST /v1/invoices books type credit_note
            "type": "credit_note" if case.document_type == "credit_note" else "invoice"}
    try:
        return IncomingInvoiceIn.model_validate(body)
    except ValidationError as ex:
        details = [{"field": ".".join(str(p) for p in e["loc"]) or "normalized_invoice",
                    "issue": e["msg"]} for e in ex.errors()]
        raise InvalidInput("The review case's invoice is incomplete: " + "; ".join(
            f"{d['field']}: {d['issue']}" for d in details), details=details) from ex


def approve(ctx: Caller, case_id: str) -> dict[str, Any]:
    case = require(ctx, case_id)
    _require_open(case, "approved")
    try:
        body = invoice_body(ctx, case)
        created = invoices.create(ctx, PAYABLES, body, body.vendor_id)
    except DomainError as ex:
        error = {"code": ex.code, "message": ex.message, "details": ex.details}
        store.update_open(case, booking_errors=dumps([error]), updated_at=now_iso())
        raise
    store.update_open(case, queue_state="approved", invoice_id=created["id"], intent_id=created["intent_id"],
                      booking_errors="[]", updated_at=now_iso())
    return {"reviewCaseId": case.case_id, "intentId": created["intent_id"], "invoiceId": created["id"]}


def reject(ctx: Caller, case_id: str, reason: str) -> dict[str, Any]:
    case = require(ctx, case_id)
    _require_open(case, "rejected")
    if not store.update_open(case, queue_state="rejected", rejected_reason=reason, updated_at=now_iso()):
        _require_open(require(ctx, case_id), "rejected")
    if case.duplicate_key:
        item_store.release_duplicate_key(ctx.tenant_id, case.duplicate_key, case.inbox_id)
    return get(ctx, case_id)
