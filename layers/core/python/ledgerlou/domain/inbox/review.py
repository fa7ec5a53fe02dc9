"""Invoice review cases: correct (PATCH), approve (book the incoming invoice), reject.

Approve books through THE payables code path, ``domain.receivables.invoices.create`` with side AP, as
``POST /v1/invoices`` does: the same checks (vendor active, tax codes, totals, DUPLICATE_INVOICE per
vendor, the period lock in the journal append), the same booking. The invoice's original document is
the e-invoice XML when there is one (the XML is the invoice, GoBD; a ZUGFeRD PDF is its picture), else
the received file. A refused booking answers its error and leaves the case open with the error in
``booking_errors``.

Approve books exactly once, however often it is called and whatever runs beside it:

1. It takes the case first (a conditional write: open and no approve holding it) with a token and a
   deadline, the API's timeout (``CLAIM_SECONDS``): of two approves one holds it and the other answers
   409 INVALID_STATE; PATCH and reject answer 409 while it is held, so no reject lands between the
   booking and the case's update (a booked invoice on a rejected case).
2. It books under ids derived from the case (``booking_ids``, uuid5): the journal's append refuses the
   same intent id twice (DUPLICATE_BOOKING), and a later call finds the booking by that id.
3. It marks the case approved and gives the claim up in one conditional write.

An approve on an approved case answers the same booking again (a client's retry after a timeout, 200).
An approve killed between 2 and 3 leaves its claim; once its deadline has passed (the request can no
longer run), the next approve, PATCH or reject settles the case first (``_settle``): the booking is in
the journal → the case is approved with it; it is not → the claim is released. A refused booking
records its error in ``booking_errors`` and releases the claim, the case stays open.
"""

from __future__ import annotations

import time
import uuid
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
# How long an approve may hold a case: the API functions' timeout (the request cannot run longer) and the
# clock margin between two instances, as the Idempotency-Key claims (api/idempotency.py) reckon it.
CLAIM_SECONDS = 29 + 5


def _now() -> float:
    return time.time()  # the clock claims are judged by (tests move it)


def booking_ids(tenant_id: str, case_id: str) -> tuple[str, str]:
    """The (invoice id, intent id) a case books under: derived from the case, the same on every attempt."""
    base = f"ledgerlou:review-case:{tenant_id}:{case_id}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, base + ":invoice")), str(uuid.uuid5(uuid.NAMESPACE_URL, base + ":intent"))


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
        # an approve holds the case (its claim is live): PATCH, reject and another approve answer 409 until
        # it ends; a claim past its deadline is a dead request's, settled by the next call
        "approving": bool(case.approving_token) and case.queue_state == "open"
        and float(case.approving_until or 0) > _now(),
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
    if case.approving_token:
        raise InvalidState(f"Review case {case.case_id} is being approved; it cannot be {action} now.",
                           details=[{"field": "queue_state", "issue": "is being approved"}])


def _booked(ctx: Caller, case: store.ReviewCase) -> bool:
    from ledgerlou.domain.journal import reads as journal_reads

    return journal_reads.find_intent(ctx.tenant_id, booking_ids(ctx.tenant_id, case.case_id)[1]) is not None


def _finish(ctx: Caller, case: store.ReviewCase, token: str) -> bool:
    """The case approved with its booking, the claim of ``token`` given up (False: not held any more)."""
    invoice_id, intent_id = booking_ids(ctx.tenant_id, case.case_id)
    return store.update_claimed(case, token, queue_state="approved", invoice_id=invoice_id, intent_id=intent_id,
                                booking_errors="[]", approving_token=None, approving_until=None,
                                updated_at=now_iso())


def _settle(ctx: Caller, case: store.ReviewCase) -> store.ReviewCase:
    """The case as it stands once a claim whose approve can no longer run is resolved (module docstring)."""
    token = case.approving_token
    if not token or case.queue_state != "open" or float(case.approving_until or 0) > _now():
        return case
    if _booked(ctx, case):
        _finish(ctx, case, token)
    else:
        store.update_claimed(case, token, approving_token=None, approving_until=None)
    return require(ctx, case.case_id)  # whoever resolved it: as it is now


def _approved(case: store.ReviewCase) -> dict[str, Any]:
    return {"reviewCaseId": case.case_id, "intentId": case.intent_id, "invoiceId": case.invoice_id}


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
        elif name == "payment_terms":
            # replaced as a whole; the due date the extraction read stays the invoice's due_date field
            out[name] = value.model_dump() if value is not None else None
        elif hasattr(value, "isoformat"):
            out[name] = value.isoformat()
        else:
            out[name] = value
    return out


def patch(ctx: Caller, case_id: str, body: ReviewCasePatch) -> dict[str, Any]:
    case = _settle(ctx, require(ctx, case_id))
    _require_open(case, "changed")
    changes: dict[str, Any] = {"updated_at": now_iso()}
    if "vendor_id" in body.model_fields_set and body.vendor_id is not None:
        vendor = partners.require(ctx, PAYABLES, body.vendor_id, "vendor_id")
        changes["vendor_id"] = vendor.partner_id
    if body.normalized_invoice is not None:
        changes["normalized_invoice"] = dumps(_merge(loads(case.normalized_invoice), body.normalized_invoice))
    if not store.update_open(case, **changes):
        _require_open(require(ctx, case_id), "changed")
        raise InvalidState(f"Review case {case_id} changed at the same time; read it again.")
    return get(ctx, case_id)


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _terms(read: dict[str, Any]) -> dict[str, Any] | None:
    """The case's payment terms as an invoice's (models/receivables.PaymentTerms): Skonto and net days, so
    that a payment run offers the Skonto; None when the invoice states none."""
    terms = {k: read.get(k) for k in ("skonto_percent", "skonto_days", "net_days")}
    if read.get("text"):
        terms["text"] = str(read["text"])[:500]
    return terms if any(v is not None for v in terms.values()) else None


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
    # The invoice's one rate, from its totals (a text-layer or OCR read names a rate per line rarely)
    rate = (tax * 100 / net).quantize(Decimal(1), ROUND_HALF_UP) if tax is not None and net else Decimal(0)
    if lines and not any(ln["tax_code"] for ln in lines) and tax:
        # lines read without their rate, on an invoice with VAT: each at the invoice's rate; the totals check
        # of the booking decides whether that carries it (an invoice of several rates does not)
        lines = [{**ln, "tax_code": INPUT_TAX_CODES.get(rate)} for ln in lines]
    if net is not None and (not lines or sum(nets, Decimal(0)) != net):
        # The lines as read do not carry the invoice (a text-layer or OCR read of a table is rarely complete):
        # one line of the net at the invoice's rate; the totals check of the booking then decides.
        lines = [{"description": f"Rechnung {inv.get('invoice_number') or ''}".strip(), "net_amount": net,
                  "tax_code": INPUT_TAX_CODES.get(rate), "account": account}]
    read_terms = inv.get("payment_terms") or {}
    due = inv.get("due_date") or read_terms.get("due_date")
    if due and inv.get("invoice_date") and str(due) < str(inv["invoice_date"]):
        due = None  # a due date before the invoice date is a misread, not a term
    body = {"vendor_id": case.vendor_id, "invoice_number": inv.get("invoice_number"),
            "invoice_date": inv.get("invoice_date"), "due_date": due, "total_net": net, "total_tax": tax,
            "total_gross": _d(inv.get("total_gross")), "currency": inv.get("currency"),
            "document_id": case.einvoice_document_id or case.document_id,
            "notes": f"Aus dem Posteingang (Prüffall {case.case_id})", "lines": lines,
            "payment_terms": _terms(read_terms),
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
    case = _settle(ctx, require(ctx, case_id))
    if case.queue_state == "approved":
        return _approved(case)  # a retry: the booking of the approve that succeeded
    _require_open(case, "approved")
    token = str(uuid.uuid4())
    if not store.claim(case, token, int(_now()) + CLAIM_SECONDS):
        case = require(ctx, case_id)
        if case.queue_state == "approved":
            return _approved(case)
        _require_open(case, "approved")
        raise InvalidState(f"Review case {case_id} changed at the same time; read it again.")
    invoice_id, intent_id = booking_ids(ctx.tenant_id, case.case_id)
    try:
        body = invoice_body(ctx, case)
        invoices.create(ctx, PAYABLES, body, body.vendor_id, invoice_id=invoice_id, intent_id=intent_id)
    except Exception as ex:
        if not _booked(ctx, case):  # else the append went through and only its answer was lost
            error = ([{"code": ex.code, "message": ex.message, "details": ex.details}]
                     if isinstance(ex, DomainError) else None)
            # a refused booking stays on the case; an unknown failure (a throttle) leaves booking_errors as
            # they were; either way the claim ends now, so that the next approve may run at once
            changes: dict[str, Any] = {"booking_errors": dumps(error)} if error else {}
            store.update_claimed(case, token, approving_token=None, approving_until=None, updated_at=now_iso(),
                                 **changes)
            raise
    if not _finish(ctx, case, token):
        # held longer than CLAIM_SECONDS and settled by another request, which found the booking
        case = require(ctx, case_id)
        if case.queue_state != "approved":
            raise InvalidState(f"Review case {case_id} changed while it was approved; read it again.")
    return {"reviewCaseId": case.case_id, "intentId": intent_id, "invoiceId": invoice_id}


def reject(ctx: Caller, case_id: str, reason: str) -> dict[str, Any]:
    case = _settle(ctx, require(ctx, case_id))
    _require_open(case, "rejected")
    if not store.update_open(case, queue_state="rejected", rejected_reason=reason, updated_at=now_iso()):
        _require_open(require(ctx, case_id), "rejected")
        raise InvalidState(f"Review case {case_id} changed at the same time; read it again.")
    if case.duplicate_key:
        item_store.release_duplicate_key(ctx.tenant_id, case.duplicate_key, case.inbox_id)
    return get(ctx, case_id)
