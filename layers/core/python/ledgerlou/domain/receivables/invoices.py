"""Outgoing and incoming invoices: checked against their lines, booked as one intent through the
journal's booking path (or linking an existing booking), unique numbers, lists and open items.

An invoice is a journal fact: its record rides in its booking's intent (``invoice``), or, when it
links an existing booking, in a control block; the projector (projection.py) builds the invoice,
its list rows, its open item and its partner's open amount from there. Every check that could race
(the invoice number, the link, the open amount) runs inside the journal append against the state
the new block builds on, so a refused request has written nothing at all.
"""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerlou.domain.caller import Caller as AuthContext
from ledgerlou.domain.chain import canonical as chain
from ledgerlou.domain.chart import accounts
from ledgerlou.domain.journal import appender as ledger
from ledgerlou.domain.journal import booking as journal_booking
from ledgerlou.domain.journal import reads as journal_reads
from ledgerlou.domain.receivables import open_items, partners, projection, terms
from ledgerlou.domain.receivables.sides import Side
from ledgerlou.errors import (
    DocumentNotFound,
    DuplicateInvoice,
    IntentAlreadyLinked,
    IntentMismatch,
    InvalidInput,
    InvoiceNotCancelled,
    NotFound,
    PartnerInactive,
    TaxCodeNotFound,
    TotalsMismatch,
)
from ledgerlou.models.journal import BookingRequest
from ledgerlou.models.receivables import InvoiceBase, InvoicePatch
from ledgerlou.store.base import now_iso
from ledgerlou.store.receivables import invoices as store

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _s(value: Decimal) -> str:
    return chain.format_amount(value) if value >= 0 else "-" + chain.format_amount(-value)


# ------------------------------------------------------------------------------------- pricing
@dataclass
class Priced:
    lines: list[dict[str, Any]]  # as stored: description, quantity, unit_price, net_amount, tax_code, account
    groups: list[tuple[str, str | None, Decimal]]  # (account, tax code, amount to book: gross, net for §13b)
    total_net: Decimal
    total_tax: Decimal


def price(ctx: AuthContext, side: Side, body: InvoiceBase, default_account: str | None,
          lookup: Any) -> Priced:
    """The lines' nets, the tax per tax code (half-up on each code's net sum, API.md), and the amounts
    to book per (account, tax code); 400 TOTALS_MISMATCH when the body's totals disagree."""
    lines: list[dict[str, Any]] = []
    nets: dict[tuple[str, str | None], Decimal] = {}
    codes: dict[str, Any] = {}
    for i, ln in enumerate(body.lines):
        f = f"lines[{i}]"
        net = ln.net_amount if ln.net_amount is not None else _cents(ln.quantity * (ln.unit_price or ZERO))
        if net < 0:
            raise InvalidInput.field(f"{f}.net_amount", "must not be negative (book a credit note instead)")
        number = ln.account or default_account
        if number is None:
            raise InvalidInput.field(f"{f}.account", f"required: the {side.partner} has no default_account")
        acc = lookup.require(number, f"{f}.account")
        if acc.category in ("receivable", "payable"):
            raise InvalidInput.field(f"{f}.account", f"account {number} is an open-item account, not a "
                                     f"{side.default_account_type} account")
        if ln.tax_code is not None and ln.tax_code not in codes:
            code = lookup.tax_code(ln.tax_code)
            if code is None or not code.is_active:
                raise TaxCodeNotFound(f"{f}.tax_code: tax code {ln.tax_code} does not exist or is inactive.",
                                      details=[{"field": f"{f}.tax_code", "issue": "unknown or inactive tax code"}])
            if code.direction != side.tax_direction:
                want = "an output-VAT (USt)" if side.tax_direction == "output" else "an input-VAT (VSt)"
                raise InvalidInput.field(f"{f}.tax_code", f"tax code {ln.tax_code} is {code.direction} VAT; this "
                                         f"invoice needs {want} code")
            codes[ln.tax_code] = code
        key = (acc.number, ln.tax_code)
        nets[key] = nets.get(key, ZERO) + net
        lines.append({"description": ln.description, "quantity": str(ln.quantity),
                      "unit_price": _s(ln.unit_price) if ln.unit_price is not None else None,
                      "net_amount": _s(net), "tax_code": ln.tax_code, "account": acc.number})
    total_net = sum(nets.values(), ZERO)
    groups: list[tuple[str, str | None, Decimal]] = []
    total_tax = ZERO
    for code_name in dict.fromkeys(k[1] for k in nets):
        keys = [k for k in nets if k[1] == code_name]
        code = codes.get(code_name) if code_name else None
        if code is None or code.self_assess_account or Decimal(code.rate) == 0:
            # no VAT on the invoice; §13b / intra-EU: the booking self-assesses the tax on the net
            groups.extend((k[0], k[1], nets[k]) for k in keys)
            continue
        rate = Decimal(code.rate)
        code_tax = _cents(sum((nets[k] for k in keys), ZERO) * rate / 100)
        total_tax += code_tax
        for k, tax in zip(keys, _allocate(code_tax, [nets[k] * rate / 100 for k in keys]), strict=True):
            groups.append((k[0], k[1], nets[k] + tax))
    return Priced(lines, [g for g in groups if g[2] > 0], total_net, total_tax)


def _allocate(total: Decimal, exact: list[Decimal]) -> list[Decimal]:
    """Split a code's rounded tax over its accounts: each share rounded, the cents left over to the
    largest remainders (so Σ shares = the code's tax and the receivable equals total_gross)."""
    shares = [e.quantize(CENT, rounding="ROUND_DOWN") for e in exact]
    left = int((total - sum(shares, ZERO)) / CENT)
    order = sorted(range(len(exact)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in order[:max(left, 0)]:
        shares[i] += CENT
    return shares


def check_totals(body: InvoiceBase, net: Decimal, tax: Decimal) -> None:
    problems = []
    if body.total_net != net:
        problems.append({"field": "total_net", "issue": f"must be {_s(net)} (the sum of the lines' net amounts)"})
    if body.total_tax != tax:
        problems.append({"field": "total_tax", "issue": f"must be {_s(tax)} (the tax per tax code, half-up)"})
    if body.total_gross != body.total_net + body.total_tax or body.total_gross != net + tax:
        problems.append({"field": "total_gross", "issue": f"must be {_s(net + tax)} (total_net + total_tax)"})
    if problems:
        raise TotalsMismatch("The invoice's totals do not agree with its lines.",
                             details=problems)


# ------------------------------------------------------------------------------------- checks in the append
@dataclass
class _TailFacts:
    """The invoice numbers and links in a journal writer's unprojected tail, indexed as blocks arrive:
    the checks of an invoice cost the same however long the tail is (a warm writer trims it only
    every few hundred appends, ledger.TAIL_REFRESH_EVERY)."""

    first_seq: int | None
    count: int
    numbers: dict[tuple[str, str | None, str], str]
    links: dict[str, str]


_TAILS: dict[int, tuple[weakref.ref[ledger.TailIndex], _TailFacts]] = {}


def _tail_facts(tail: ledger.TailIndex) -> _TailFacts:
    first = tail.blocks[0].seq if tail.blocks else None
    cached = _TAILS.get(id(tail))
    facts = cached[1] if cached is not None and cached[0]() is tail else None
    if facts is None or facts.first_seq != first or facts.count > len(tail.blocks):
        if len(_TAILS) > 1000:
            _TAILS.clear()
        facts = _TailFacts(first, 0, {}, {})
        _TAILS[id(tail)] = (weakref.ref(tail), facts)
    for block in tail.blocks[facts.count:]:
        for intent in block.intents:
            if intent.get("invoice"):
                r = intent["invoice"]
                facts.numbers[(r["side"], r.get("number_scope"), r["invoice_number"])] = r["id"]
                facts.links[intent["intent_id"]] = r["id"]
        control = block.payload.get("control") or {}
        if control.get("action") == projection.CONTROL_ACTION:
            for e in control["events"]:
                if e["type"] == "open":
                    r = e["invoice"]
                    facts.numbers[(r["side"], r.get("number_scope"), r["invoice_number"])] = r["id"]
                    facts.links[r["intent_id"]] = r["id"]
                elif e["type"] == "relink":
                    facts.links[e["intent_id"]] = e["invoice_id"]
    facts.count = len(tail.blocks)
    return facts


def _tail_number_owner(tail: ledger.TailIndex, side: str, scope: str | None, number: str) -> str | None:
    return _tail_facts(tail).numbers.get((side, scope, number))


def _tail_link_owner(tail: ledger.TailIndex, intent_id: str) -> str | None:
    return _tail_facts(tail).links.get(intent_id)


def _check_number(tenant_id: str, state: ledger.JournalState, record: dict[str, Any]) -> None:
    """409 DUPLICATE_INVOICE if the number is taken: by a projected invoice (its claim item, read here,
    inside the append, so that it is at least as new as the writer's watermark) or by one in the blocks
    after that watermark (the writer's tail)."""
    args = (record["side"], record["number_scope"], record["invoice_number"])
    claimed = store.get_number_claim(tenant_id, *args)
    owner = claimed or _tail_number_owner(state.tail, *args)
    if owner:
        where = "for this vendor " if record["number_scope"] else ""
        raise DuplicateInvoice(f"Invoice number {record['invoice_number']} exists already {where}(invoice {owner}).",
                               details=[{"field": "invoice_number", "issue": f"used by invoice {owner}"}])


def _check_link(tenant_id: str, state: ledger.JournalState, intent_id: str) -> None:
    link = store.get_link(tenant_id, intent_id)
    owner = link[1] if link else _tail_link_owner(state.tail, intent_id)
    if owner:
        raise IntentAlreadyLinked(f"Intent {intent_id} belongs to invoice {owner} already.",
                                  details=[{"field": "intent_id", "issue": f"linked to invoice {owner}"}])
    by = state.reversed_by(tenant_id, intent_id)
    if by:
        raise IntentMismatch(f"Intent {intent_id} was reversed (by {by}); link its correction instead.",
                             details=[{"field": "intent_id", "issue": "reversed"}])


# ------------------------------------------------------------------------------------- linking a booking
def _fit(ctx: AuthContext, side: Side, credit_note: bool, intent_id: str, gross: Decimal, currency: str
         ) -> tuple[str, Decimal, str]:
    """The open-item account and base amount of an existing booking that fits the invoice: it posts
    total_gross to a receivable (payable) account on the invoice's side. 409 INTENT_MISMATCH else."""
    found = journal_reads.find_intent(ctx.tenant_id, intent_id)
    if found is None:
        raise NotFound(f"Intent {intent_id} not found.", details=[{"field": "intent_id", "issue": "not found"}])
    block, intent = found
    if intent.get("reverses_intent_id") or intent.get("invoice") or intent.get("settles"):
        what = "a reversal" if intent.get("reverses_intent_id") else (
            "an invoice's own booking" if intent.get("invoice") else "a settlement")
        if intent.get("invoice"):
            linked = f"linked to invoice {intent['invoice']['id']}"
            raise IntentAlreadyLinked(f"Intent {intent_id} is {what}.",
                                      details=[{"field": "intent_id", "issue": linked}])
        raise IntentMismatch(f"Intent {intent_id} is {what}, not an invoice's booking.",
                             details=[{"field": "intent_id", "issue": what}])
    fx = intent.get("fx") or {}
    if (fx.get("currency") or ctx.base_currency) != currency:
        raise IntentMismatch(f"Intent {intent_id} is booked in {fx.get('currency') or ctx.base_currency}, the invoice "
                             f"is in {currency}.",
                             details=[{"field": "intent_id", "issue": "other currency"}])
    on_debit = side.open_on_debit != credit_note
    doc: dict[str, Decimal] = {}
    base: dict[str, Decimal] = {}
    for e in block.entries:
        if e["intent_id"] != intent_id:
            continue
        number = e["account_debit"] if on_debit else e["account_credit"]
        acc = accounts.find(ctx.tenant_id, ctx.chart, number)
        if acc is None or acc.category != side.open_item_category:
            continue
        amount = Decimal(e["amount"])
        doc[number] = doc.get(number, ZERO) + (Decimal(e["fx_amount"]) if e.get("fx_amount") else amount)
        base[number] = base.get(number, ZERO) + amount
    for number, total in doc.items():
        if total == gross:
            return number, base[number], str(intent["booking_date"])
    posted = ", ".join(f"{_s(v)} on {k}" for k, v in doc.items()) or "nothing"
    what = "receivable" if side.open_item_category == "receivable" else "payable"
    raise IntentMismatch(f"Intent {intent_id} does not post {_s(gross)} to a {what} account on the "
                         f"{'debit' if on_debit else 'credit'} side (it posts {posted}).",
                         details=[{"field": "intent_id", "issue": f"does not post total_gross to a {what} account"}])


# ------------------------------------------------------------------------------------- create
@dataclass
class Prepared:
    """A checked invoice: its record and, unless it links an existing booking, its booking."""

    record: dict[str, Any]
    booking: BookingRequest | None
    credit_note: bool
    lookup: Any


def create(ctx: AuthContext, side: Side, body: InvoiceBase, partner_id: str,
           appender: ledger.Appender | None = None, *, invoice_id: str | None = None,
           intent_id: str | None = None) -> dict[str, Any]:
    """``invoice_id`` and ``intent_id``: a caller's derived ids (an inbox review case books its invoice
    under ids derived from the case, so that a retry finds it and the journal refuses a second one);
    default random."""
    prepared = prepare(ctx, side, body, partner_id, invoice_id)
    if prepared.booking is None:
        return _create_linked(ctx, side, body, prepared.record, prepared.credit_note, appender)
    [booked] = post(ctx, [prepared], appender, [intent_id] if intent_id else None)
    return {"id": prepared.record["id"], "intent_id": booked, "status": "open"}


def post(ctx: AuthContext, prepared: list[Prepared], appender: ledger.Appender | None = None,
         intent_ids: list[str] | None = None) -> list[str]:
    """Book prepared invoices as one journal block (one intent each; all or none); ``intent_ids``: the
    callers' derived intent ids (refused by the append when booked already)."""
    records = [p.record for p in prepared]

    keys = [(r["side"], r["number_scope"], r["invoice_number"]) for r in records]
    if len(set(keys)) != len(keys):
        raise DuplicateInvoice("The same invoice number twice in one batch.")

    def check(state: ledger.JournalState) -> None:
        if len(records) == 1:
            _check_number(ctx.tenant_id, state, records[0])
            return
        taken = store.get_number_claims(ctx.tenant_id, keys)
        for record, key in zip(records, keys, strict=True):
            owner = taken.get(key) or _tail_number_owner(state.tail, *key)
            if owner:
                raise DuplicateInvoice(f"Invoice number {record['invoice_number']} exists already (invoice {owner}).",
                                       details=[{"field": "invoice_number", "issue": f"used by invoice {owner}"}])

    bookings = [p.booking for p in prepared if p.booking is not None]
    posted = journal_booking.post_bookings(ctx, bookings, "api" if len(bookings) == 1 else "batch", appender,
                                   annotate=[{"invoice": r} for r in records], check=check,
                                   mirror=[p.credit_note for p in prepared], lookup=prepared[0].lookup,
                                   intent_ids=intent_ids)
    return [intent_id for intent_id, _count in posted]


def prepare(ctx: AuthContext, side: Side, body: InvoiceBase, partner_id: str,
            invoice_id: str | None = None) -> Prepared:
    """Every check that needs no journal state: partner, currency, lines, accounts, tax codes, totals.
    The partner and the lines' tax codes are read in one BatchGetItem."""
    scope = partner_id.lower() if side.numbers_per_partner else None
    reads = store.read_for_invoice(ctx.tenant_id, side.code, partner_id.lower(),
                                   [ln.tax_code for ln in body.lines if ln.tax_code])
    partner = reads.partner
    # The journal's per-request account and tax-code cache; the tax codes came with the partner in one
    # read, so neither the pricing here nor the booking path reads them again.
    lookup = journal_booking._Accounts(ctx)
    lookup._codes.update(reads.tax_codes)
    if partner is None:
        raise NotFound(f"{side.partner.capitalize()} {partner_id} not found.",
                       details=[{"field": side.partner_field, "issue": f"{side.partner} does not exist"}])
    if not partner.is_active:
        raise PartnerInactive(f"{side.partner.capitalize()} {partner.partner_id} is inactive; it gets no new invoices.",
                              details=[{"field": side.partner_field, "issue": "inactive"}])
    currency = body.currency or ctx.base_currency
    if currency != ctx.base_currency and body.exchange_rate is None:
        raise InvalidInput.field("exchange_rate", f"required for an invoice in {currency} (base {ctx.base_currency})")
    rate = body.exchange_rate if currency != ctx.base_currency else None
    credit_note = body.type == "credit_note"
    record: dict[str, Any] = {
        "id": invoice_id or str(uuid.uuid4()), "side": side.code, "type": body.type, "partner_id": partner.partner_id,
        "partner_name": partner.name, "partner_number": str(int(partner.number)),
        "number_scope": scope,
        "invoice_number": body.invoice_number, "invoice_date": body.invoice_date.isoformat(),
        "due_date": (body.due_date or terms.default_due_date(body.invoice_date, body.payment_terms)).isoformat(),
        "payment_terms": terms.stored(body.payment_terms), "currency": currency,
        "exchange_rate": str(rate) if rate is not None else None, "total_net": _s(body.total_net),
        "total_tax": _s(body.total_tax), "total_gross": _s(body.total_gross),
        "document_id": body.document_id.lower() if body.document_id else None, "notes": body.notes,
        "created_at": now_iso(), "created_by": ctx.actor_id, "linked": body.intent_id is not None,
    }
    if body.total_gross <= 0:
        raise InvalidInput.field("total_gross", "must be greater than 0")
    priced = price(ctx, side, body, partner.default_account, lookup) if body.lines else None
    if priced is not None:
        check_totals(body, priced.total_net, priced.total_tax)
    elif body.total_gross != body.total_net + body.total_tax:
        raise TotalsMismatch("The invoice's totals do not agree.",
                             details=[{"field": "total_gross", "issue": "must be total_net + total_tax"}])
    record["lines"] = priced.lines if priced else []
    if body.intent_id is not None:
        return Prepared(record, None, credit_note, lookup)
    assert priced is not None
    account = side.open_item_account[ctx.chart]
    lines = []
    for number, code, amount in priced.groups:
        debit, credit = (account, number) if side.open_on_debit else (number, account)
        lines.append({"account_debit": debit, "account_credit": credit, "amount": amount, "tax_code": code})
    base_total = sum((journal_booking._fx_to_base(g[2], _Rate(rate)) if rate else g[2]
                      for g in priced.groups), ZERO)
    record.update(open_item_account=account, base_total=_s(base_total))
    label = side.credit_label if credit_note else side.label
    booking = BookingRequest.model_validate({
        "booking_date": body.invoice_date, "description": f"{label} {body.invoice_number} {partner.name}"[:500],
        "lines": lines, "document_id": record["document_id"], "external_reference": body.invoice_number,
        "custom_metadata": {"invoice_id": record["id"], "invoice_number": body.invoice_number},
        "skip_duplicate_check": True, "fx": {"currency": currency, "rate": rate} if rate else None})
    return Prepared(record, booking, credit_note, lookup)


@dataclass(frozen=True)
class _Rate:
    rate: Decimal


def _create_linked(ctx: AuthContext, side: Side, body: InvoiceBase, record: dict[str, Any], credit_note: bool,
                   appender: ledger.Appender | None) -> dict[str, Any]:
    assert body.intent_id is not None
    intent_id = body.intent_id.lower()
    if record["document_id"]:
        from ledgerlou.domain.documents import archive as documents

        if not documents.exists(ctx.tenant_id, record["document_id"]):
            raise DocumentNotFound(f"document_id: document {record['document_id']} does not exist.",
                                   details=[{"field": "document_id", "issue": "document does not exist"}])
    account, base_total, booked_on = _fit(ctx, side, credit_note, intent_id, body.total_gross, record["currency"])
    record.update(open_item_account=account, base_total=_s(base_total), intent_id=intent_id, booked_on=booked_on)
    event = {"type": "open", "side": side.code, "invoice_id": record["id"], "invoice": record}

    def build(state: ledger.JournalState) -> ledger.Draft:
        _check_number(ctx.tenant_id, state, record)
        _check_link(ctx.tenant_id, state, intent_id)
        return projection.control_draft([event])

    (appender or ledger.APPENDER).append(ctx.tenant_id, build)
    return {"id": record["id"], "intent_id": intent_id, "status": "open"}


# ------------------------------------------------------------------------------------- read
def require_state(ctx: AuthContext, side: Side, invoice_id: str, tail: ledger.TailIndex | None = None
                  ) -> dict[str, Any]:
    state = projection.current_state(ctx.tenant_id, side.code, invoice_id.lower(), tail)
    if state is None:
        raise NotFound(f"Invoice {invoice_id} not found.")
    return state


def get(ctx: AuthContext, side: Side, invoice_id: str, today: dt.date | None = None) -> dict[str, Any]:
    return open_items.view(require_state(ctx, side, invoice_id), today or projection.today())


def list_invoices(ctx: AuthContext, side: Side, partner_id: str | None, status: str | None, type_: str | None,
                  start: str | None, end: str | None, limit: int, offset: int, today: dt.date | None = None
                  ) -> tuple[list[dict[str, Any]], int]:
    """Newest invoice date first. Reads the month partitions of the range (the calendar names the
    months that have invoices), or the partner's partition: never the journal, never a scan."""
    day = today or projection.today()
    if partner_id:
        partners.require(ctx, side, partner_id, side.partner_field)
        rows = store.query_rows(store.partner_rows_pk(ctx.tenant_id, side.code, partner_id.lower()))
    else:
        _days, months, _seq = store.get_calendar(ctx.tenant_id, side.code)
        if not (status or type_ or start or end):
            # Unfiltered: the calendar counts each month's invoices, so the page reads only its months
            return _page_of_months(ctx, side, months, limit, offset, day), sum(months.values())
        rows = []
        for month in sorted(months, reverse=True):
            if (start and month < start[:7]) or (end and month > end[:7]):
                continue
            rows.extend(store.query_rows(store.month_pk(ctx.tenant_id, side.code, month)))
    out = []
    for r in rows:
        if (start and r["invoice_date"] < start) or (end and r["invoice_date"] > end):
            continue
        if type_ and r["type"] != type_:
            continue
        if status and open_items.status(r) != status:
            continue
        out.append(r)
    return [open_items.view(r, day, full=False) for r in out[offset: offset + limit]], len(out)


def _page_of_months(ctx: AuthContext, side: Side, months: dict[str, int], limit: int, offset: int,
                    day: dt.date) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    skipped = 0
    for month in sorted(months, reverse=True):
        if not rows and skipped + months[month] <= offset:
            skipped += months[month]
            continue
        rows.extend(store.query_rows(store.month_pk(ctx.tenant_id, side.code, month)))
        if skipped + len(rows) >= offset + limit:
            break
    return [open_items.view(r, day, full=False) for r in rows[offset - skipped: offset - skipped + limit]]


def list_open(ctx: AuthContext, side: Side, limit: int, offset: int, today: dt.date | None = None
              ) -> tuple[list[dict[str, Any]], int]:
    """Open items, oldest due date first (then by invoice id): the calendar (one GetItem) says how many
    open items each due day holds, so only the days of the page are read (one BatchGetItem for their
    id sets, one for the invoices), however many open items come before or after."""
    day = today or projection.today()
    days, _months, _seq = store.get_calendar(ctx.tenant_id, side.code)
    total = sum(days.values())
    wanted: list[str] = []
    skipped = 0  # open items of the due days before the first one read
    counted = 0
    for due in sorted(days):
        if not wanted and skipped + days[due] <= offset:
            skipped += days[due]
            continue
        wanted.append(due)
        counted += days[due]
        if skipped + counted >= offset + limit:
            break
    ids = [i for due, day_ids in sorted(store.open_ids(ctx.tenant_id, side.code, wanted).items()) for i in day_ids]
    page = ids[offset - skipped: offset - skipped + limit]
    states = store.get_states(ctx.tenant_id, side.code, page)
    # The state decides: an id a lagging second projector put back into a day's set is not shown
    return [open_items.open_item_view(states[i][0], day) for i in page
            if i in states and open_items.is_open(states[i][0])], total


# ------------------------------------------------------------------------------------- patch
def patch(ctx: AuthContext, side: Side, invoice_id: str, body: InvoicePatch,
          appender: ledger.Appender | None = None) -> dict[str, Any]:
    state = require_state(ctx, side, invoice_id)
    invoice_id = state["id"]
    events: list[dict[str, Any]] = []
    new_intent = body.intent_id.lower() if body.intent_id else None
    if new_intent is not None:
        if not state["cancelled"]:
            raise InvoiceNotCancelled("Only a cancelled invoice (its booking reversed) can link a corrected booking.",
                                      details=[{"field": "intent_id", "issue": "invoice is "
                                      f"{open_items.status(state)}"}])
        account, base_total, booked_on = _fit(ctx, side, state["type"] == "credit_note", new_intent,
                                              Decimal(state["total_gross"]), state["currency"])
        events.append({"type": "relink", "side": side.code, "invoice_id": invoice_id, "intent_id": new_intent,
                       "open_item_account": account, "base_total": _s(base_total), "booked_on": booked_on,
                       "invoice_number": state["invoice_number"]})
    if body.due_date is not None:
        if body.due_date.isoformat() < state["invoice_date"]:
            raise InvalidInput.field("due_date", "must not be before invoice_date")
        events.append({"type": "due_date", "side": side.code, "invoice_id": invoice_id,
                       "due_date": body.due_date.isoformat()})
    if body.notes is not None:
        events.append({"type": "notes", "side": side.code, "invoice_id": invoice_id, "notes": body.notes})

    def build(state_: ledger.JournalState) -> ledger.Draft:
        if new_intent is not None:
            now = require_state(ctx, side, invoice_id, state_.tail)
            if not now["cancelled"]:
                raise InvoiceNotCancelled("The invoice is not cancelled any more.")
            _check_link(ctx.tenant_id, state_, new_intent)
        return projection.control_draft(events)

    (appender or ledger.APPENDER).append(ctx.tenant_id, build)
    return get(ctx, side, invoice_id)
