"""Payment runs (Zahlungsläufe): pay due incoming invoices by one SEPA credit transfer file.

States: ``draft`` → ``approved`` (four-eyes: another person than the creator — an API key counts as
the person who created it, see ``approve``) → ``exported`` (the
pain.001.001.09 file is built and stored as a document of the run) → ``completed`` (one intent books
every payment and settles every invoice of the run through ``settlements.settle``); ``cancelled`` from
any state but ``completed``. Each change is a conditional write on the run's version, so two
approvals, two exports or a cancel racing a complete cannot both win.

An invoice belongs to at most one live run (draft, approved, exported): the run claims each of its
invoices with a conditional Put before it exists for anybody else (store/payables/payment_runs.py);
two runs racing for one invoice — one wins, the other claims nothing and is discarded. A cancelled
or completed run's claims are taken over by the next run.

Skonto: where an invoice's payment terms give a cash discount and the (business-day) execution date
lies within the Skonto period, the run pays the open amount less the discount; on completion the
discount is booked to "Erhaltene Skonti" with its input-VAT correction per tax rate of the invoice
(§17 UStG), in the same intent.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlou.domain.admin import api_keys
from ledgerlou.domain.caller import Caller
from ledgerlou.domain.journal import booking as journal_booking
from ledgerlou.domain.payables import calendar, sepa
from ledgerlou.domain.receivables import invoices, open_items, settlements, terms
from ledgerlou.domain.receivables.sides import PAYABLES
from ledgerlou.errors import (
    BankAccountWithoutIban,
    ExecutionDateInPast,
    FourEyesRequired,
    InvalidInput,
    InvalidState,
    InvoiceNotEligible,
    NotFound,
    PaymentRunNotExportable,
)
from ledgerlou.models.payment_runs import CompletionBooking
from ledgerlou.store.base import now_iso
from ledgerlou.store.payables import payment_runs as store
from ledgerlou.store.receivables import invoices as invoice_store

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
LIVE = ("draft", "approved", "exported")
# Which states each action leaves from (API.md "Payment runs")
FROM = {"approve": ("draft",), "export": ("approved", "exported"), "complete": ("exported", "completing"),
        "cancel": ("draft", "approved", "exported")}
# A claim of a run that never finished claiming (its process died) is free after this long
STALE_CLAIM_S = 300
# Erhaltene Skonti by input-VAT rate (SKR03 / SKR04, research note D); other rates: the plain account
SKONTO_ACCOUNTS = {"skr03": {Decimal("19"): "3736", Decimal("7"): "3731", None: "3730"},
                   "skr04": {Decimal("19"): "5736", Decimal("7"): "5731", None: "5730"}}


# DATEV's Buchungstext (formats/datev.py): the payment line's text is cut to it
DESCRIPTION_CHARS = 60
# Banks take an order up to a year ahead at most; a date further out is a typo, not a plan
MAX_DAYS_AHEAD = 365


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _check_ahead(day: dt.date, field: str) -> None:
    if (day - today()).days > MAX_DAYS_AHEAD:
        raise InvalidInput.field(field, f"must be at most {MAX_DAYS_AHEAD} days ahead")


# ------------------------------------------------------------------------------------- eligibility
@dataclass
class Candidate:
    state: dict[str, Any]
    reason: str | None  # None: eligible
    vendor: Any = None


def _vendor_reason(vendor: Any) -> str | None:
    if vendor is None:
        return "vendor not found"
    if not vendor.is_active:
        return "vendor is inactive"
    if not vendor.iban:
        return "vendor has no IBAN"
    try:
        from ledgerlou.domain.bank import accounts as bank

        bank.validate_iban(vendor.iban)
    except InvalidInput:
        return "vendor's IBAN is not valid"
    return None


def _live_claims(tenant_id: str, invoice_ids: list[str], now: dt.datetime, except_run: str | None = None,
                 held: dict[str, tuple[str, str]] | None = None) -> dict[str, str]:
    """invoice id → id of the live run that holds it (a cancelled/completed run holds nothing).
    ``held``: the claims of ``invoice_ids`` if read already."""
    held = store.claims(tenant_id, invoice_ids) if held is None else held
    runs = store.get_runs(tenant_id, [r for r, _at in held.values()]) if held else {}
    out = {}
    for invoice_id, (run_id, at) in held.items():
        if run_id == except_run:
            continue
        run = runs.get(run_id)
        if run is None or run["status"] not in LIVE:
            continue
        if not run.get("claimed") and (now - _parse(at)).total_seconds() > STALE_CLAIM_S:
            continue
        out[invoice_id] = run_id
    return out


def _parse(ts: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _check(tenant_id: str, states: list[dict[str, Any]], now: dt.datetime,
           claims: dict[str, tuple[str, str]] | None = None) -> list[Candidate]:
    vendors = store.vendors(tenant_id, [s["partner_id"] for s in states])
    held = _live_claims(tenant_id, [s["id"] for s in states], now, held=claims)
    out = []
    for s in states:
        vendor = vendors.get(s["partner_id"])
        reason: str | None
        if s["type"] == "credit_note":
            reason = "a credit note is not paid"
        elif not open_items.is_open(s):
            reason = f"invoice is {open_items.status(s)}"
        elif s["currency"] != "EUR":
            reason = f"invoice is in {s['currency']}; SEPA pays EUR"
        else:
            reason = _vendor_reason(vendor)
        if reason is None and s["id"] in held:
            reason = f"in payment run {held[s['id']]}"
        out.append(Candidate(s, reason, vendor))
    return out


def amounts(state: dict[str, Any], execution_date: dt.date) -> tuple[Decimal, Decimal, Decimal]:
    """(open amount, Skonto, amount to pay) of an invoice paid on ``execution_date``. No Skonto for an
    invoice without lines: its VAT per rate is unknown, so the §17 correction could not be booked."""
    open_amount = open_items.unsigned_remaining(state)
    discount = terms.discount(state, open_amount, execution_date) if state.get("lines") else ZERO
    return open_amount, discount, open_amount - discount


def _eligible_view(c: Candidate, execution_date: dt.date, day: dt.date) -> dict[str, Any]:
    s = c.state
    open_amount, discount, pay = amounts(s, execution_date)
    until = terms.skonto_until(s)
    return {"invoice_id": s["id"], "invoice_number": s["invoice_number"], "vendor_id": s["partner_id"],
            "vendor_name": s["partner_name"], "iban": c.vendor.iban, "bic": c.vendor.bic,
            "invoice_date": s["invoice_date"], "due_date": s["due_date"], "currency": s["currency"],
            "total_gross": Decimal(s["total_gross"]), "remaining_amount": open_amount, "skonto_amount": discount,
            "skonto_until": until.isoformat() if until else None, "amount": pay,
            "days_overdue": open_items.days_overdue(s, day)}


def eligible(ctx: Caller, execution_date: dt.date | None, limit: int, offset: int) -> dict[str, Any]:
    """Eligible invoices, oldest due date first (then by id). Reads the open-item calendar of the
    payables (one GetItem) and then only the due days the page needs, with their invoices, vendors and
    claims in batches: the cost follows the page, not the number of open invoices. ``has_more`` is
    exact: the read goes on for one eligible invoice past the page (a later due day may hold only
    invoices that are not eligible — in a live run, a credit note — and then there is no more)."""
    now = dt.datetime.now(dt.UTC)
    if execution_date is not None:
        _check_ahead(execution_date, "execution_date")
    run_date = calendar.next_business_day(execution_date or now.date())
    days, _months, _seq = invoice_store.get_calendar(ctx.tenant_id, PAYABLES.code)
    wanted = offset + limit + 1  # the page and one more: does another eligible invoice follow?
    found: list[Candidate] = []
    pending = sorted(days)
    while pending and len(found) < wanted:
        # Enough due days for the rest (the calendar counts each day's open items), at least one;
        # ineligible invoices make the loop read the next days
        chunk: list[str] = []
        count = 0
        while pending and (count < wanted - len(found) or not chunk) and len(chunk) < 100:
            chunk.append(pending.pop(0))
            count += days[chunk[-1]]
        ids = [i for _d, day_ids in sorted(invoice_store.open_ids(ctx.tenant_id, PAYABLES.code, chunk).items())
               for i in day_ids]
        states = invoice_store.get_states(ctx.tenant_id, PAYABLES.code, ids)
        ordered = [states[i][0] for i in ids if i in states]
        ordered.sort(key=lambda s: (s["due_date"], s["id"]))
        found.extend(c for c in _check(ctx.tenant_id, ordered, now) if c.reason is None)
    page = found[offset:offset + limit]
    return {"execution_date": run_date.isoformat(), "items": [_eligible_view(c, run_date, now.date()) for c in page],
            "has_more": len(found) > offset + limit}


# ------------------------------------------------------------------------------------- create
def _address_problem(address: dict[str, Any] | None) -> str | None:
    missing = [k for k, name in (("city", "town"), ("country", "country")) if not (address or {}).get(k)]
    if missing:
        return "address lacks " + " and ".join("town" if m == "city" else m for m in missing)
    return None


def _remittance(state: dict[str, Any], discount: Decimal, percent: str | None) -> str:
    date = dt.date.fromisoformat(state["invoice_date"]).strftime("%d.%m.%Y")
    text = f"Rechnung {state['invoice_number']} vom {date}"
    if discount > 0 and percent is not None:
        rate, amount = f"{Decimal(percent):.2f}".replace(".", ","), f"{discount:.2f}".replace(".", ",")
        text += f" abzgl. {rate} % Skonto {amount} EUR"
    return sepa.to_sepa_text(text, 140)


def create(ctx: Caller, body: Any) -> dict[str, Any]:
    from ledgerlou.domain.bank import accounts as bank
    from ledgerlou.store.admin import tenants as tenant_store

    now = dt.datetime.now(dt.UTC)
    if body.execution_date < now.date():
        raise ExecutionDateInPast.field("execution_date", f"{body.execution_date.isoformat()} is before today "
                                        f"({now.date().isoformat()})")
    _check_ahead(body.execution_date, "execution_date")
    account = bank.get_account(ctx.tenant_id, body.bank_account_id)
    if not account.iban:
        raise BankAccountWithoutIban.field("bank_account_id", f"bank account {account.account_id} has no IBAN")
    if account.currency != "EUR":
        raise InvalidInput.field("bank_account_id", f"bank account {account.account_id} is in {account.currency}; "
                                 "SEPA credit transfers are in EUR")
    ids = [i.lower() for i in body.invoice_ids]
    if len(set(ids)) != len(ids):
        raise InvalidInput.field("invoice_ids", "an invoice is listed twice")
    execution = calendar.next_business_day(body.execution_date)
    projected = _current_states(ctx, ids)
    for i, (invoice_id, state) in enumerate(zip(ids, projected, strict=True)):
        if state is None:
            raise InvoiceNotEligible(f"Invoice {invoice_id} is not eligible: it does not exist.",
                                     details=[{"field": f"invoice_ids[{i}]", "issue": f"invoice {invoice_id} "
                                               "does not exist"}])
    claims = store.claims(ctx.tenant_id, ids)  # read once: the check and the claims' take-overs use them
    checked = _check(ctx.tenant_id, [s for s in projected if s is not None], now, claims)
    for i, c in enumerate(checked):
        if c.reason:
            raise InvoiceNotEligible(f"Invoice {c.state['invoice_number']} ({c.state['id']}) is not eligible: "
                                     f"{c.reason}.", details=[{"field": f"invoice_ids[{i}]",
                                                               "issue": f"invoice {c.state['id']}: {c.reason}"}])
    run_id = str(uuid.uuid4())
    compact = run_id.replace("-", "")
    tenant = tenant_store.get(ctx.tenant_id)
    debtor_address = body.debtor_address.model_dump() if body.debtor_address else None
    items = []
    problems = []
    problem = _address_problem(debtor_address)
    if problem:
        problems.append({"item": "debtor", "invoice_id": None, "issue": f"debtor {problem} (debtor_address)"})
    for n, c in enumerate(checked, start=1):
        s = c.state
        open_amount, discount, pay = amounts(s, execution)
        address = json.loads(c.vendor.address) if c.vendor.address else None
        problem = _address_problem(address)
        if problem:
            problems.append({"item": f"items[{n - 1}]", "invoice_id": s["id"],
                             "issue": f"vendor {c.vendor.name} ({c.vendor.partner_id}): {problem}"})
        e2e = sepa.to_sepa_id(f"{compact[:8]}-{n}-{s['invoice_number']}")
        items.append({
            "invoice_id": s["id"], "invoice_number": s["invoice_number"], "vendor_id": c.vendor.partner_id,
            "vendor_name": c.vendor.name, "iban": c.vendor.iban, "bic": c.vendor.bic, "address": address,
            "open_item_account": s["open_item_account"], "due_date": s["due_date"],
            "open_amount": str(open_amount), "skonto_amount": str(discount), "amount": str(pay),
            "remittance_information": _remittance(s, discount, (s.get("payment_terms") or {}).get("skonto_percent")),
            "end_to_end_id": e2e})
    total = sum((Decimal(i["amount"]) for i in items), ZERO)
    run = {
        "id": run_id, "status": "draft", "label": body.label, "bank_account_id": account.account_id,
        "debtor": {"name": tenant.name if tenant else ctx.tenant_id, "iban": account.iban, "bic": account.bic,
                   "address": debtor_address, "ledger_account": account.ledger_account},
        "requested_execution_date": body.execution_date.isoformat(), "execution_date": execution.isoformat(),
        "message_id": f"LL-{compact}", "payment_info_id": f"PI-{compact}",
        "items": items, "total_amount": str(total), "invoice_count": len(items), "problems": problems,
        # kept on the run record (the items live in their own records): what the list shows without them
        "skonto_amount": str(sum((Decimal(i["skonto_amount"]) for i in items), ZERO)),
        "problem_count": len(problems),
        # the person behind the creating actor, fixed now: four-eyes compares it at approval even if
        # the key chain is later unreadable
        "created_by": ctx.actor_id, "created_by_principal": api_keys.principal_of(ctx.tenant_id, ctx.actor_id),
        "created_at": now_iso(), "claimed": False,
        "history": [{"status": "draft", "actor_id": ctx.actor_id, "at": now_iso()}],
    }
    store.put_run(ctx.tenant_id, run)
    _claim_all(ctx, run, now, claims)
    return view(run)


def _current_states(ctx: Caller, invoice_ids: list[str]) -> list[dict[str, Any] | None]:
    """The invoices as the journal has them now (stored states folded with the unprojected tail): one
    tail read and one BatchGetItem for all of them."""
    from ledgerlou.domain.receivables import projection

    states = projection.current_states(ctx.tenant_id, PAYABLES.code, invoice_ids)
    return [states.get(i) for i in invoice_ids]


def _current_by_id(ctx: Caller, invoice_ids: list[str]) -> dict[str, dict[str, Any]]:
    """invoice id → its current state (one tail read and one BatchGetItem for all; a missing one: 404)."""
    if not invoice_ids:
        return {}
    states = dict(zip(invoice_ids, _current_states(ctx, invoice_ids), strict=True))
    for invoice_id, state in states.items():
        if state is None:
            raise NotFound(f"Invoice {invoice_id} not found.")
    return {k: v for k, v in states.items() if v is not None}


def _claim_all(ctx: Caller, run: dict[str, Any], now: dt.datetime, held: dict[str, tuple[str, str]]) -> None:
    """Claim every invoice of the new run; on the first one another live run holds, stop: the run is
    discarded (cancelled and hidden, so the claims it made are free again) and the answer is 409
    INVOICE_NOT_ELIGIBLE. Claims go in invoice-id order, whatever the order of the request: of two runs
    racing for the same invoices, both meet first at the smallest id they share, so one of them
    always wins (in request order, [a, b] against [b, a] could make both lose).

    In chunks of CLAIM_CHUNK (one TransactWriteItems each, all or none, in that same order): a
    1,000-invoice run makes 10 writes instead of 1,000. ``held``: the claims read by the eligibility
    check (all of runs no longer live, or the check had refused): those are taken over in the same
    transaction, conditional on the run id read. A cancelled transaction wrote nothing; the chunk is
    then claimed invoice by invoice, as before chunks, to find the holder or take over a claim freed
    meanwhile. The order argument holds across chunks: everything a run claims before the smallest id
    it shares with another is unshared, and a chunk is written whole or not at all."""
    at = now_iso()
    position = {item["invoice_id"]: i for i, item in enumerate(run["items"])}
    ordered = sorted(run["items"], key=lambda it: it["invoice_id"])
    for first in range(0, len(ordered), store.CLAIM_CHUNK):
        chunk = ordered[first:first + store.CLAIM_CHUNK]
        wanted = [(it["invoice_id"], held[it["invoice_id"]][0] if it["invoice_id"] in held else None)
                  for it in chunk]
        if store.claim_chunk(ctx.tenant_id, wanted, run["id"], at):
            continue
        for item in chunk:
            _claim_one(ctx, run, item, now, at, position)
    run["claimed"] = True
    if not store.update_run(ctx.tenant_id, run, 1):
        raise InvalidState("The payment run changed while it was created.")


def _claim_one(ctx: Caller, run: dict[str, Any], item: dict[str, Any], now: dt.datetime, at: str,
               position: dict[str, int]) -> None:
    """Claim one invoice (the path of a cancelled chunk): a conditional Put; else take over the claim
    if its run is no longer live; else discard the run and name the holder."""
    invoice_id = item["invoice_id"]
    if store.claim(ctx.tenant_id, invoice_id, run["id"], at):
        return
    holder = store.claims(ctx.tenant_id, [invoice_id]).get(invoice_id)
    free = holder is not None and invoice_id not in _live_claims(ctx.tenant_id, [invoice_id], now)
    if holder is not None and free and store.take_over(ctx.tenant_id, invoice_id, holder[0], run["id"], at):
        return
    _discard(ctx, run)
    other = holder[0] if holder else "another run"
    raise InvoiceNotEligible(f"Invoice {item['invoice_number']} ({invoice_id}) is not eligible: in payment run "
                             f"{other}.", details=[{"field": f"invoice_ids[{position[invoice_id]}]",
                                                    "issue": f"invoice {invoice_id}: in payment run {other}"}])


def _discard(ctx: Caller, run: dict[str, Any]) -> None:
    run.update(status="cancelled", discarded=True)
    store.update_run(ctx.tenant_id, run, 1)


# ------------------------------------------------------------------------------------- read
def _require(ctx: Caller, run_id: str) -> tuple[dict[str, Any], int]:
    got = store.get_run(ctx.tenant_id, run_id.lower())
    if got is None or got[0].get("discarded") or not got[0].get("claimed"):
        raise NotFound("Payment run not found.")
    return got


def get(ctx: Caller, run_id: str) -> dict[str, Any]:
    return view(_require(ctx, run_id)[0])


def list_runs(ctx: Caller, status: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    runs = [r for r in store.list_runs(ctx.tenant_id) if r.get("claimed") and not r.get("discarded")
            and (status is None or r["status"] == status)]
    runs.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
    return [summary(ctx.tenant_id, r) for r in runs[offset:offset + limit]], len(runs)


def summary(tenant_id: str, run: dict[str, Any]) -> dict[str, Any]:
    """A run as the list shows it: everything but its items and problems (GET /v1/payment-runs/{id}
    has them). A run holds up to 1,000 items, ~0.5 MB of JSON: a page of such runs with their items
    would pass Lambda's 6 MB response limit. A record written before it kept ``skonto_amount`` and
    ``problem_count`` reads its items once for them."""
    if "skonto_amount" not in run or "problem_count" not in run:
        run = store.with_items(tenant_id, run)
        run = {**run, "skonto_amount": str(sum((Decimal(i["skonto_amount"]) for i in run["items"]), ZERO)),
               "problem_count": len(run["problems"])}
    out = view({**run, "items": [], "problems": []})
    del out["items"], out["problems"]
    out.update(skonto_amount=Decimal(run["skonto_amount"]), problem_count=run["problem_count"],
               exportable=run["problem_count"] == 0)
    return out


def view(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": run["id"], "status": run["status"], "label": run.get("label"), "bank_account_id": run["bank_account_id"],
        "debtor_name": run["debtor"]["name"], "debtor_iban": run["debtor"]["iban"],
        "debtor_address": run["debtor"]["address"],
        "requested_execution_date": run["requested_execution_date"], "execution_date": run["execution_date"],
        "execution_date_moved": run["requested_execution_date"] != run["execution_date"],
        "total_amount": Decimal(run["total_amount"]), "invoice_count": run["invoice_count"],
        "skonto_amount": sum((Decimal(i["skonto_amount"]) for i in run["items"]), ZERO),
        "batch_booking": True, "message_id": run["message_id"],
        "items": [{"invoice_id": i["invoice_id"], "invoice_number": i["invoice_number"], "vendor_id": i["vendor_id"],
                   "vendor_name": i["vendor_name"], "iban": i["iban"], "bic": i["bic"],
                   "open_amount": Decimal(i["open_amount"]), "skonto_amount": Decimal(i["skonto_amount"]),
                   "amount": Decimal(i["amount"]), "remittance_information": i["remittance_information"],
                   "end_to_end_id": i["end_to_end_id"]} for i in run["items"]],
        "problems": run["problems"], "exportable": not run["problems"],
        "document_id": run.get("document_id"), "sha256": run.get("sha256"), "intent_id": run.get("intent_id"),
        "created_by": run["created_by"], "created_at": run["created_at"],
        "approved_by": run.get("approved_by"), "approved_at": run.get("approved_at"),
        "exported_at": run.get("exported_at"), "completed_at": run.get("completed_at"),
        "cancelled_at": run.get("cancelled_at"),
    }


# ------------------------------------------------------------------------------------- transitions
def _transition(ctx: Caller, run_id: str, action: str) -> tuple[dict[str, Any], int]:
    run, version = _require(ctx, run_id)
    if run["status"] not in FROM[action]:
        allowed = " or ".join(FROM[action])
        raise InvalidState(f"Payment run {run['id']} is {run['status']}; {action} needs a run that is {allowed}.",
                           details=[{"field": "status", "issue": f"is {run['status']}"}])
    return run, version


def _save(ctx: Caller, run: dict[str, Any], version: int, status: str, **fields: Any) -> dict[str, Any]:
    at = now_iso()
    run.update(status=status, **fields)
    run["history"].append({"status": status, "actor_id": ctx.actor_id, "at": at})
    if not store.update_run(ctx.tenant_id, run, version):
        raise InvalidState(f"Payment run {run['id']} changed at the same time; read it again.")
    return run


def approve(ctx: Caller, run_id: str) -> dict[str, Any]:
    """Four-eyes: the approver must be another person than the creator. Actors are compared by their
    principal (``api_keys.principal_of``): a key one made, or a key made by that key, is the same
    person as its maker — otherwise one person would create with a key and approve with their session.
    A run stored before principals were recorded resolves its ``created_by`` now."""
    run, version = _transition(ctx, run_id, "approve")
    creator = run.get("created_by_principal") or api_keys.principal_of(ctx.tenant_id, run["created_by"])
    approver = api_keys.principal_of(ctx.tenant_id, ctx.actor_id)
    if creator == approver:
        text = "A payment run is approved by another person than the one who created it"
        if run["created_by"] != ctx.actor_id:
            text += (f": {run['created_by']} created it and {ctx.actor_id} approves, the same person ({creator}) "
                     "through an API key they created")
        raise FourEyesRequired(text + ".")
    return view(_save(ctx, run, version, "approved", approved_by=ctx.actor_id, approved_by_principal=approver,
                      approved_at=now_iso()))


def cancel(ctx: Caller, run_id: str) -> dict[str, Any]:
    run, version = _transition(ctx, run_id, "cancel")
    return view(_save(ctx, run, version, "cancelled", cancelled_by=ctx.actor_id, cancelled_at=now_iso()))


def message(run: dict[str, Any], created_at: dt.datetime) -> sepa.Message:
    d = run["debtor"]
    transfers = [sepa.Transfer(i["end_to_end_id"], Decimal(i["amount"]),
                               sepa.Party(i["vendor_name"], i["iban"], _sepa_address(i["address"]), i["bic"]),
                               i["remittance_information"]) for i in run["items"]]
    return sepa.Message(run["message_id"], run["payment_info_id"], created_at,
                        dt.date.fromisoformat(run["execution_date"]),
                        sepa.Party(d["name"], d["iban"], _sepa_address(d["address"]), d["bic"]), transfers)


def _sepa_address(address: dict[str, Any]) -> sepa.Address:
    return sepa.Address(town=address["city"], country=address["country"], street=address.get("street"),
                        postal_code=address.get("postal_code"))


def export(ctx: Caller, run_id: str) -> dict[str, Any]:
    """Build the pain.001.001.09 file and store it as a document of the run (approved runs); an exported
    run answers the stored file again (the same MsgId: a bank refuses a file it has seen, so a second
    download must not be a second, different order)."""
    from ledgerlou.domain.documents import archive

    run, version = _transition(ctx, run_id, "export")
    if run["status"] == "exported":
        _doc, data = archive.fetch(ctx.tenant_id, run["document_id"])
        return _export_view(run, data)
    if run["problems"]:
        raise PaymentRunNotExportable(
            f"Payment run {run['id']} cannot be exported: " + "; ".join(p["issue"] for p in run["problems"]) + ".",
            details=[{"field": p["item"], "issue": p["issue"]} for p in run["problems"]])
    if dt.date.fromisoformat(run["execution_date"]) < today():
        raise ExecutionDateInPast.field("execution_date", f"{run['execution_date']} has passed; cancel the run and "
                                        "create a new one")
    data = sepa.build(message(run, dt.datetime.now(dt.UTC)))
    doc = archive.upload(ctx.tenant_id, data, f"pain.001-{run['message_id']}.xml", ctx.actor_id)
    run = _save(ctx, run, version, "exported", exported_at=now_iso(), document_id=doc.id, sha256=doc.sha256)
    return _export_view(run, data)


def _export_view(run: dict[str, Any], data: bytes) -> dict[str, Any]:
    return {"run": view(run), "sepa_xml": data.decode("utf-8"), "message_id": run["message_id"],
            "number_of_transactions": run["invoice_count"], "control_sum": Decimal(run["total_amount"]),
            "document_id": run["document_id"], "sha256": run["sha256"]}


# ------------------------------------------------------------------------------------- complete
def completion_intent_id(tenant_id: str, run_id: str) -> str:
    """The completion booking's intent id, derived from the run: a complete that died after booking is
    finished by the next one, which finds the intent instead of booking again."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ledgerlou:payment-run:{tenant_id}:{run_id}"))


def _skonto_lines(ctx: Caller, state: dict[str, Any], discount: Decimal, payable: str, lookup: Any
                  ) -> list[dict[str, Any]]:
    """The discount received, split over the invoice's tax codes by their gross shares (largest
    remainder), per input-VAT rate on its Skonto account with the invoice's tax code: the booking is
    posted mirrored (as a credit note is), so the code's tax entry credits the input-VAT account — the
    correction of §17 UStG (the deductible tax shrinks with the price) — and counts negative in the
    VAT return. Rates without deductible VAT (none, §13b, intra-EU) go to the plain Skonto account.
    Lines are written before mirroring: debit Skonto account, credit payable."""
    gross: dict[str | None, Decimal] = {}
    for ln in state["lines"]:
        code_name = ln.get("tax_code")
        code = lookup.tax_code(code_name) if code_name else None
        net = Decimal(ln["net_amount"])
        if code is not None and not code.self_assess_account and Decimal(code.rate) > 0:
            gross[code_name] = gross.get(code_name, ZERO) + net * (1 + Decimal(code.rate) / 100)
        else:
            gross[None] = gross.get(None, ZERO) + net
    keys = sorted(gross, key=lambda k: (k is None, k or ""))
    total = sum(gross.values(), ZERO)
    shares = invoices._allocate(discount, [discount * gross[k] / total for k in keys]) if total else [discount]
    accounts_ = SKONTO_ACCOUNTS[ctx.chart]
    lines: list[dict[str, Any]] = []
    for key, share in zip(keys if total else [None], shares, strict=True):
        if share <= 0:
            continue
        text = f"Skonto {state['invoice_number']}"
        if key is None:
            lines.append({"account_debit": accounts_[None], "account_credit": payable, "amount": share,
                          "description": text})
            continue
        rate = Decimal(lookup.tax_code(key).rate)
        lines.append({"account_debit": accounts_.get(rate, accounts_[None]), "account_credit": payable,
                      "amount": share, "tax_code": key, "description": f"{text} ({key}, §17 UStG)"})
    return lines


def _stale(run: dict[str, Any]) -> bool:
    started = run.get("completing_at")
    return started is None or (dt.datetime.now(dt.UTC) - _parse(started)).total_seconds() > STALE_CLAIM_S


def complete(ctx: Caller, run_id: str) -> dict[str, Any]:
    """Book the run's payments as one intent and mark it completed. The run is taken first (a
    conditional write to ``completing``): a second complete racing this one gets 409. The intent id
    is derived from the run, so a complete that died after booking is finished by a later one (after
    STALE_CLAIM_S) that finds the intent; booking twice is impossible anyway — the second settlement
    would exceed the invoices' open amounts, which the append checks."""
    from ledgerlou.domain.journal import reads as journal_reads

    run, version = _transition(ctx, run_id, "complete")
    intent_id = completion_intent_id(ctx.tenant_id, run["id"])
    if run["status"] == "completing":
        if not _stale(run):
            raise InvalidState(f"Payment run {run['id']} is being completed.",
                               details=[{"field": "status", "issue": "is completing"}])
        if journal_reads.find_intent(ctx.tenant_id, intent_id) is not None:
            return view(_save(ctx, run, version, "completed", completed_at=now_iso(), intent_id=intent_id))
        run["completing_at"] = now_iso()
        if not store.update_run(ctx.tenant_id, run, version):
            raise InvalidState(f"Payment run {run['id']} changed at the same time; read it again.")
    else:
        run = _save(ctx, run, version, "completing", completing_at=now_iso())
    version += 1
    try:
        _book(ctx, run, intent_id)
    except Exception:
        if journal_reads.find_intent(ctx.tenant_id, intent_id) is not None:
            # the append went through and only its answer was lost: the run is completed
            return view(_save(ctx, run, version, "completed", completed_at=now_iso(), intent_id=intent_id))
        run["status"] = "exported"
        run["history"].append({"status": "exported", "actor_id": ctx.actor_id, "at": now_iso()})
        store.update_run(ctx.tenant_id, run, version)
        raise
    return view(_save(ctx, run, version, "completed", completed_at=now_iso(), intent_id=intent_id))


def _payment_text(item: dict[str, Any]) -> str:
    """The payment line's text: the invoice number and as much of the vendor's name as fits DATEV's
    60-character Buchungstext (formats/datev.py TEXT_MAX_LEN); short also keeps the 1,000 lines of a
    full run well inside one journal block."""
    number = item["invoice_number"]
    return f"{item['vendor_name'][:max(0, DESCRIPTION_CHARS - len(number) - 1)].rstrip()} {number}".strip()


def _book(ctx: Caller, run: dict[str, Any], intent_id: str) -> str:
    """One intent: per item the payable against the bank's ledger account (the amount paid); the
    items' open amounts (paid + Skonto) settled. The Skonto lines are summed per (payable, Skonto
    account, tax code) over the run: what each invoice's discount was stays in the run's items and in
    the settlement of each invoice (``settles``: paid + Skonto), and the VAT return sees the same sums.
    Per invoice, a 1,000-invoice run with Skonto everywhere was 3,000 entries, a journal block of
    384 KB compressed: over MAX_BLOCK_BYTES (350 KB). Summed, it is 1,000 entries and a few. With a
    tax-coded Skonto line the whole intent is written reversed and booked mirrored (the lines' sides
    swap back)."""
    bank_account = run["debtor"]["ledger_account"]
    lookup = journal_booking._Accounts(ctx)
    lines: list[dict[str, Any]] = []
    items: list[settlements.OpenItemAmount] = []
    discounts: dict[tuple[str, str, str | None], Decimal] = {}  # (debit, credit, tax code) → Skonto
    numbers: dict[tuple[str, str, str | None], list[str]] = {}
    states = _current_by_id(ctx, [item["invoice_id"] for item in run["items"]])
    for item in run["items"]:
        pay, discount = Decimal(item["amount"]), Decimal(item["skonto_amount"])
        payable = item["open_item_account"]
        lines.append({"account_debit": bank_account, "account_credit": payable, "amount": pay,
                      "description": _payment_text(item)})
        if discount > 0:
            for ln in _skonto_lines(ctx, states[item["invoice_id"]], discount, payable, lookup):
                key = (ln["account_debit"], ln["account_credit"], ln.get("tax_code"))
                discounts[key] = discounts.get(key, ZERO) + ln["amount"]
                numbers.setdefault(key, []).append(item["invoice_number"])
        items.append(settlements.OpenItemAmount(PAYABLES.code, item["invoice_id"], pay + discount))
    for (debit, credit, code), amount in discounts.items():
        invoices_ = numbers[(debit, credit, code)]
        text = f"Skonto {invoices_[0]}" if len(invoices_) == 1 else f"Skonto {len(invoices_)} Rechnungen"
        line: dict[str, Any] = {"account_debit": debit, "account_credit": credit, "amount": amount,
                                "description": f"{text} ({code}, §17 UStG)" if code else text}
        if code:
            line["tax_code"] = code
        lines.append(line)
    mirror = any(ln.get("tax_code") for ln in lines)
    if not mirror:  # no tax code: write the lines as they are booked
        lines = [{**ln, "account_debit": ln["account_credit"], "account_credit": ln["account_debit"]}
                 for ln in lines]
    label = f" {run['label']}" if run.get("label") else ""
    booking = CompletionBooking.model_validate({
        "booking_date": run["execution_date"], "description": f"Zahlungslauf{label} ({run['invoice_count']} "
                                                                f"Überweisungen)"[:500],
        "lines": lines, "external_reference": run["message_id"],
        "custom_metadata": {"payment_run_id": run["id"], "message_id": run["message_id"]},
        "skip_duplicate_check": True})
    # settle's checks with the states read above (one batch, not a read per invoice)
    prepared = settlements.prepare(ctx, items, booking, "payment_run", mirror,
                                   states={(PAYABLES.code, k): v for k, v in states.items()})
    return settlements.post(ctx, prepared, "payment_run", intent_id=intent_id)
