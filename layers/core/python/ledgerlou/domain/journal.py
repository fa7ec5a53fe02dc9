"""Bookings (Buchungssätze) into the journal, reversals (Storno), opening balances, and the reads.

A booking request becomes an *intent* with one or more journal *entries* (debit account, credit
account, amount). Tax-code lines are split into net and tax entries (API.md "Bookings"). The intent
and its entries are appended as one block (ledger.py); the projector (projector.py) builds the read
side from the blocks; reads merge the projections with the blocks not yet projected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerlou.api.auth import AuthContext
from ledgerlou.api.schemas.journal import BookingRequest, OpeningBalancesRequest, ReverseRequest
from ledgerlou.domain import accounts, chain, ledger, projector, tax_codes
from ledgerlou.domain.chart import OPENING_BALANCE_ACCOUNT
from ledgerlou.errors import Conflict, InvalidInput, NotFound
from ledgerlou.store import journal as store
from ledgerlou.store import month_summary, views
from ledgerlou.store.base import now_iso

CENT = Decimal("0.01")
SOURCES = {"api": "API", "dashboard": "Dashboard", "mcp": "MCP", "bank_reconciliation": "Bank-Abgleich",
           "import": "Import", "system": "System"}
LOCKED_STATES = ("locked", "soft_locked")


def period_of(date: str | dt.date) -> str:
    return str(date)[:7]


def month_of(date: str) -> str:
    return date[:7]


# ------------------------------------------------------------------------------------------ provenance
def provenance(ctx: AuthContext, source: str) -> dict[str, Any]:
    if ctx.actor_type == "api_key":
        display = f"API-Key „{ctx.actor_label}“ ({ctx.key_prefix}…)" if ctx.key_prefix else ctx.actor_label
        surface = "mcp" if source == "mcp" else "api"
    elif ctx.actor_type == "user":
        display, surface = ctx.actor_label, "dashboard"
    else:
        display, surface = "System", "system"
    return {
        "surface": surface, "surface_label": SOURCES.get(surface, surface),
        "channel": source, "channel_label": SOURCES.get(source, source),
        "actor_type": ctx.actor_type, "actor_label": ctx.actor_label, "actor_key_prefix": ctx.key_prefix,
        "actor_display": display,
    }


# ------------------------------------------------------------------------------------------ building
class _Accounts:
    """Account and tax-code lookups for one request (system chart in memory, each item read once)."""

    def __init__(self, ctx: AuthContext) -> None:
        self.ctx = ctx
        self._cache: dict[str, accounts.Account | None] = {}
        self._codes: dict[str, Any] = {}

    def tax_code(self, code: str) -> Any:
        if code not in self._codes:
            from ledgerlou.store import tax_codes as tc_store

            self._codes[code] = tc_store.get(self.ctx.tenant_id, code)
        return self._codes[code]

    def require(self, number: str, field: str) -> accounts.Account:
        if number not in self._cache:
            self._cache[number] = accounts.find(self.ctx.tenant_id, self.ctx.chart, number)
        acc = self._cache[number]
        if acc is None:
            raise NotFound(f"{field}: account {number} does not exist.", code="ACCOUNT_NOT_FOUND",
                           details=[{"field": field, "issue": f"account {number} does not exist"}])
        if not acc.is_active:
            raise InvalidInput.field(field, f"account {number} is inactive", code="ACCOUNT_INACTIVE")
        return acc


def _fx_to_base(amount: Decimal, fx: Any) -> Decimal:
    return (amount / fx.rate).quantize(CENT, rounding=ROUND_HALF_UP)


def _entry(intent_id: str, date: str, debit: str, credit: str, amount: Decimal, currency: str, description: str,
           created_at: str, created_by: str, source: str, document_id: str | None, reverses: str | None,
           **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "intent_id": intent_id, "booking_date": date, "account_debit": debit,
            "account_credit": credit, "amount": chain.format_amount(amount), "currency": currency,
            "description": description, "created_at": created_at, "created_by": created_by, "source": source,
            "document_id": document_id, "reverses_intent_id": reverses, **extra}


def fingerprint(req: BookingRequest) -> str:
    """Same date, lines and description → the same booking (API.md duplicate rule)."""
    lines = [[ln.account_debit, ln.account_credit, str(ln.amount), ln.tax_code or ""] for ln in req.lines]
    raw = json.dumps([req.booking_date.isoformat(), req.description.strip().casefold(), lines])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _content_hash(line: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(line, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def build_booking(ctx: AuthContext, req: BookingRequest, source: str, index: int = 0,
                  lookup: _Accounts | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate a booking request and turn it into an intent and its entries (not yet chained)."""
    lookup = lookup or _Accounts(ctx)
    prefix = f"bookings[{index}]." if index >= 0 and source == "batch" else ""
    _check_adjustment(req, prefix)
    if req.document_id:
        from ledgerlou.domain import documents

        if not documents.exists(ctx.tenant_id, req.document_id.lower()):
            raise NotFound(f"{prefix}document_id: document {req.document_id} does not exist.",
                           code="DOCUMENT_NOT_FOUND",
                           details=[{"field": f"{prefix}document_id", "issue": "document does not exist"}])
    intent_id = str(uuid.uuid4())
    created_at = now_iso()
    date = req.booking_date.isoformat()
    currency = ctx.base_currency
    channel = "import" if source == "batch" else source
    doc = req.document_id.lower() if req.document_id else None
    entries: list[dict[str, Any]] = []
    meta_lines: list[dict[str, Any]] = []
    codes: dict[str, Any] = {}
    for i, line in enumerate(req.lines):
        f = f"{prefix}lines[{i}]"
        deb = lookup.require(line.account_debit, f"{f}.account_debit")
        cred = lookup.require(line.account_credit, f"{f}.account_credit")
        amount = line.amount
        fx_amount = None
        if req.fx is not None:
            fx_amount = amount
            amount = _fx_to_base(amount, req.fx)
            if amount <= 0:
                raise InvalidInput.field(f"{f}.amount", "is zero in the base currency at this rate")
        text = line.description or req.description
        extra: dict[str, Any] = {"line_index": i, "tax_code": line.tax_code, "role": "main"}
        if fx_amount is not None:
            extra.update(fx_amount=chain.format_amount(fx_amount), fx_currency=req.fx.currency if req.fx else None)
        if line.tax_code is None:
            entries.append(_entry(intent_id, date, deb.number, cred.number, amount, currency, text, created_at,
                                  ctx.actor_id, channel, doc, None, **extra))
        else:
            if line.tax_code not in codes:
                item = lookup.tax_code(line.tax_code)
                if item is None or not item.is_active:
                    raise NotFound(f"{f}.tax_code: tax code {line.tax_code} does not exist or is inactive.",
                                   code="TAX_CODE_NOT_FOUND",
                                   details=[{"field": f"{f}.tax_code", "issue": "unknown or inactive tax code"}])
                codes[line.tax_code] = item
            code = codes[line.tax_code]
            entries.extend(_tax_entries(intent_id, date, deb.number, cred.number, amount, code, currency, text,
                                        created_at, ctx.actor_id, channel, doc, extra))
        meta_lines.append({
            "line_index": i, "debit_account": {"number": deb.number, "name": deb.name},
            "credit_account": {"number": cred.number, "name": cred.name},
            "amount": chain.format_amount(line.amount), "tax_code": line.tax_code,
            "fx_amount": chain.format_amount(fx_amount) if fx_amount is not None else None,
            "content_hash": _content_hash({"account_debit": deb.number, "account_credit": cred.number,
                                           "amount": chain.format_amount(line.amount),
                                           "tax_code": line.tax_code, "description": line.description}),
        })
    total = sum((Decimal(e["amount"]) for e in entries if e["role"] == "main"), Decimal(0))
    fx = None
    if req.fx is not None:
        fx = {"currency": req.fx.currency, "rate": str(req.fx.rate), "base_currency": currency,
              "total_foreign": chain.format_amount(sum((ln.amount for ln in req.lines), Decimal(0)))}
    intent = {
        "intent_id": intent_id, "kind": "booking", "booking_date": date, "description": req.description,
        "external_reference": req.external_reference, "custom_metadata": req.custom_metadata,
        "document_id": doc, "source": channel, "created_at": created_at, "created_by": ctx.actor_id,
        "created_by_label": ctx.actor_label, "provenance": provenance(ctx, channel),
        "fingerprint": None if req.skip_duplicate_check else fingerprint(req),
        "duplicate_override": req.skip_duplicate_check, "adjustment_period": req.adjustment_period,
        "fx": fx, "reverses_intent_id": None, "reversal": None, "lines": meta_lines,
        "total_amount": chain.format_amount(total), "currency": currency,
    }
    return intent, entries


def _tax_entries(intent_id: str, date: str, debit: str, credit: str, gross: Decimal, code: Any, currency: str,
                 text: str, created_at: str, created_by: str, source: str, doc: str | None,
                 extra: dict[str, Any]) -> list[dict[str, Any]]:
    rate = Decimal(code.rate)
    common = (currency, text, created_at, created_by, source, doc, None)
    if code.self_assess_account:
        # §13b / intra-EU acquisition: the invoice carries no VAT; the tax on the amount is owed and
        # deductible at once, booked on both the input-VAT and the self-assessment account.
        tax = tax_codes.self_assessed_tax(gross, rate)
        out = [_entry(intent_id, date, debit, credit, gross, *common, **extra)]
        if tax > 0:
            out.append(_entry(intent_id, date, code.vat_account, code.self_assess_account, tax, *common,
                              **{**extra, "role": "tax"}))
        return out
    net, tax = tax_codes.split_gross(gross, rate)
    out = [_entry(intent_id, date, debit, credit, net, *common, **extra)]
    if tax > 0:
        if code.direction == "input":
            out.append(_entry(intent_id, date, code.vat_account, credit, tax, *common, **{**extra, "role": "tax"}))
        else:
            out.append(_entry(intent_id, date, debit, code.vat_account, tax, *common, **{**extra, "role": "tax"}))
    return out


def _check_adjustment(req: BookingRequest, prefix: str) -> None:
    if req.adjustment_period is None:
        return
    if (req.booking_date.month, req.booking_date.day) != (12, 31):
        raise InvalidInput.field(f"{prefix}adjustment_period",
                                 "requires booking_date to be the last day of the fiscal year (12-31)")


def _check_locks(state: ledger.JournalState, dates: list[str]) -> None:
    for date in dates:
        status = state.locks.get(period_of(date))
        if status in LOCKED_STATES:
            raise Conflict(f"Period {period_of(date)} is {status.replace('_', '-')}; nothing can be booked into it.",
                           code="PERIOD_LOCKED")


def _check_duplicates(ctx: AuthContext, state: ledger.JournalState, intents: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    dates: dict[str, str] = {}
    for i, intent in enumerate(intents):
        fp = intent.get("fingerprint")
        if not fp:
            continue
        if fp in seen:
            raise Conflict(f"bookings[{i}] duplicates bookings[{seen[fp]}] of the same batch.",
                           code="DUPLICATE_BOOKING")
        seen[fp] = i
        dates[fp] = intent["booking_date"]
    if not seen:
        return
    owners = state.fingerprint_owners(ctx.tenant_id, [(dates[fp], fp) for fp in seen])
    for fp, i in seen.items():
        owner = owners.get(fp)
        if owner:
            where = f"bookings[{i}]: " if len(intents) > 1 else ""
            raise Conflict(f"{where}An identical booking exists already (intent {owner}); set "
                           "skip_duplicate_check to book it again.", code="DUPLICATE_BOOKING",
                           details=[{"field": "skip_duplicate_check", "issue": f"duplicate of intent {owner}"}])


# ------------------------------------------------------------------------------------------ writing
def post_bookings(ctx: AuthContext, requests: list[BookingRequest], source: str = "api",
                  appender: ledger.Appender | None = None, *, annotate: list[dict[str, Any]] | None = None,
                  check: Callable[[ledger.JournalState], None] | None = None,
                  mirror: list[bool] | None = None, lookup: _Accounts | None = None) -> list[tuple[str, int]]:
    """Append one or more bookings as one block: all or none. Returns (intent_id, entry count) each.

    For bookings that record more than their entries (receivables: an invoice, a settlement):
    ``annotate`` adds facts to each intent (e.g. ``{"invoice": {...}}``, ``{"settles": [...]}``) that
    the projectors read; ``check`` validates against the journal state the block builds on (raced
    like the lock and duplicate checks: a loser re-checks on top of the winner's block); ``mirror``
    books a request with debit and credit swapped in every entry, tax entries included, as a Storno
    does (a credit note), and marks its entries ``mirrored`` so that tax sums count them negative;
    ``lookup`` is a caller's account and tax-code cache of this request (read each item once)."""
    lookup = lookup or _Accounts(ctx)
    built = [build_booking(ctx, r, "batch" if len(requests) > 1 or source == "batch" else source, i, lookup)
             for i, r in enumerate(requests)]
    intents = [b[0] for b in built]
    entries = [b[1] for b in built]
    for i, intent in enumerate(intents):
        if annotate and annotate[i]:
            intent.update(annotate[i])
        if mirror and mirror[i]:
            for e in entries[i]:
                e["account_debit"], e["account_credit"] = e["account_credit"], e["account_debit"]
                e["mirrored"] = True
            for ln in intent["lines"]:
                ln["debit_account"], ln["credit_account"] = ln["credit_account"], ln["debit_account"]

    def build(state: ledger.JournalState) -> ledger.Draft:
        _check_locks(state, [i["booking_date"] for i in intents])
        _check_duplicates(ctx, state, intents)
        if check is not None:
            check(state)
        return ledger.Draft("bookings", intents, entries)

    (appender or ledger.APPENDER).append(ctx.tenant_id, build)
    return [(i["intent_id"], len(e)) for i, e in zip(intents, entries, strict=True)]


def post_opening_balances(ctx: AuthContext, req: OpeningBalancesRequest,
                          appender: ledger.Appender | None = None) -> dict[str, Any]:
    lookup = _Accounts(ctx)
    intent_id = str(uuid.uuid4())
    created_at = now_iso()
    date = req.booking_date.isoformat()
    text = req.description or "Eröffnungsbilanzbuchung"
    lookup.require(OPENING_BALANCE_ACCOUNT, "opening balance account")
    entries = []
    total_debit = total_credit = Decimal(0)
    for i, bal in enumerate(req.balances):
        acc = lookup.require(bal.account, f"balances[{i}].account")
        if acc.number == OPENING_BALANCE_ACCOUNT:
            raise InvalidInput.field(f"balances[{i}].account", "cannot be the opening balance account itself")
        if bal.side == "debit":
            debit, credit = acc.number, OPENING_BALANCE_ACCOUNT
            total_debit += bal.amount
        else:
            debit, credit = OPENING_BALANCE_ACCOUNT, acc.number
            total_credit += bal.amount
        entries.append(_entry(intent_id, date, debit, credit, bal.amount, ctx.base_currency, text, created_at,
                              ctx.actor_id, "api", None, None, line_index=i, tax_code=None, role="main"))
    intent = {
        "intent_id": intent_id, "kind": "opening_balance", "booking_date": date, "description": text,
        "external_reference": None, "custom_metadata": None, "document_id": None, "source": "api",
        "created_at": created_at, "created_by": ctx.actor_id, "created_by_label": ctx.actor_label,
        "provenance": provenance(ctx, "api"), "fingerprint": None, "duplicate_override": False,
        "adjustment_period": None, "fx": None, "reverses_intent_id": None, "reversal": None,
        "lines": [{"line_index": e["line_index"], "debit_account": {"number": e["account_debit"]},
                   "credit_account": {"number": e["account_credit"]}, "amount": e["amount"], "tax_code": None,
                   "fx_amount": None, "content_hash": _content_hash({k: e[k] for k in ("account_debit",
                                                                                       "account_credit",
                                                                                       "amount")})}
                  for e in entries],
        "total_amount": chain.format_amount(total_debit + total_credit), "currency": ctx.base_currency,
    }

    def build(state: ledger.JournalState) -> ledger.Draft:
        _check_locks(state, [date])
        return ledger.Draft("bookings", [intent], [entries])

    (appender or ledger.APPENDER).append(ctx.tenant_id, build)
    return {"intent_id": intent_id, "event_count": len(entries), "total_debit": total_debit,
            "total_credit": total_credit}


def reverse(ctx: AuthContext, req: ReverseRequest, today: dt.date | None = None,
            appender: ledger.Appender | None = None) -> dict[str, Any]:
    original_id = req.intent_id.lower()
    found = find_intent(ctx.tenant_id, original_id)
    if found is None:
        raise NotFound(f"Intent {original_id} not found.")
    _block, original = found
    if original.get("reverses_intent_id"):
        raise Conflict("A reversal cannot be reversed; book the correction instead.", code="ALREADY_REVERSED")
    date = original["booking_date"] if req.posting_mode == "original_date" else (
        today or dt.datetime.now(dt.UTC).date()).isoformat()
    intent_id = str(uuid.uuid4())
    created_at = now_iso()
    entries = []
    for e in entries_of_intent(ctx.tenant_id, original_id):
        # Storno: the same amounts with debit and credit swapped (a "Generalumkehr" would need
        # negative amounts, which the chain's amount format and DATEV rows both avoid).
        entries.append(_entry(intent_id, date, e["account_credit"], e["account_debit"], Decimal(e["amount"]),
                              e["currency"], f"Storno: {e['description']}"[:500], created_at, ctx.actor_id,
                              "api", e.get("document_id"), original_id, line_index=e.get("line_index"),
                              tax_code=e.get("tax_code"), role=e.get("role", "main"),
                              **({"mirrored": True} if e.get("mirrored") else {})))
    intent = {
        "intent_id": intent_id, "kind": "reversal", "booking_date": date,
        "description": f"Storno: {original['description']}"[:500], "external_reference":
            original.get("external_reference"), "custom_metadata": None, "document_id": original.get("document_id"),
        "source": "api", "created_at": created_at, "created_by": ctx.actor_id, "created_by_label": ctx.actor_label,
        "provenance": provenance(ctx, "api"), "fingerprint": None, "duplicate_override": False,
        "adjustment_period": None, "fx": original.get("fx"), "reverses_intent_id": original_id,
        "reversal": {"reason": req.reason, "posting_mode": req.posting_mode, "original_intent_id": original_id},
        "lines": original.get("lines", []), "total_amount": original.get("total_amount"),
        "currency": original.get("currency"),
    }

    def build(state: ledger.JournalState) -> ledger.Draft:
        by = state.reversed_by(ctx.tenant_id, original_id)
        if by:
            raise Conflict(f"Intent {original_id} was reversed already by {by}.", code="ALREADY_REVERSED")
        _check_locks(state, [date])
        return ledger.Draft("bookings", [intent], [entries])

    (appender or ledger.APPENDER).append(ctx.tenant_id, build)
    return {"reversal_intent_id": intent_id, "original_intent_id": original_id, "event_count": len(entries)}


# ------------------------------------------------------------------------------------------ reading
def tail(tenant_id: str) -> ledger.TailIndex:
    """The blocks not yet projected, read directly (normally none or one)."""
    watermark = store.get_watermark(tenant_id)
    index = ledger.TailIndex()
    seq = watermark + 1
    while True:
        block = store.get_block(tenant_id, seq)
        if block is None:
            return index
        index.add(block)
        seq += 1


def find_intent(tenant_id: str, intent_id: str, tail_index: ledger.TailIndex | None = None
                ) -> tuple[store.Block, dict[str, Any]] | None:
    item = views.get_intent(tenant_id, intent_id)
    if item is not None:
        block = store.get_block(tenant_id, int(item.seq))
        if block is not None:
            for intent in block.intents:
                if intent["intent_id"] == intent_id:
                    return block, intent
    index = tail_index or tail(tenant_id)
    return index.intents.get(intent_id)


def entries_of_intent(tenant_id: str, intent_id: str) -> list[dict[str, Any]]:
    found = find_intent(tenant_id, intent_id)
    if found is None:
        return []
    block, _ = found
    return [e for e in block.entries if e["intent_id"] == intent_id]


def _names(ctx: AuthContext) -> Any:
    cache: dict[str, str | None] = {}

    def name(number: str) -> str | None:
        if number not in cache:
            acc = accounts.find(ctx.tenant_id, ctx.chart, number)
            cache[number] = acc.name if acc else None
        return cache[number]

    return name


def public_entry(e: dict[str, Any]) -> dict[str, Any]:
    return {k: e.get(k) for k in ("id", "intent_id", "journal_number", "booking_date", "account_debit",
                                  "account_credit")} | {
        "amount": Decimal(e["amount"]), **{k: e.get(k) for k in (
            "currency", "description", "created_at", "created_by", "source", "document_id",
            "reverses_intent_id", "audit_hash", "prev_hash", "tax_code")}}


def intent_view(ctx: AuthContext, intent_id: str) -> dict[str, Any]:
    """The audit view of seed 002."""
    from ledgerlou.domain.receivables import projection as receivables

    index = tail(ctx.tenant_id)
    found = find_intent(ctx.tenant_id, intent_id, index)
    if found is None:
        raise NotFound(f"Intent {intent_id} not found.")
    block, intent = found
    item = views.get_intent(ctx.tenant_id, intent_id)
    reversed_by = index.reversed_by.get(intent_id) or (item.reversed_by_intent_id if item else None)
    name = _names(ctx)
    prov = intent.get("provenance") or {}
    entries = []
    for e in block.entries:
        if e["intent_id"] != intent_id:
            continue
        out = public_entry(e)
        out.update(account_debit_name=name(e["account_debit"]), account_credit_name=name(e["account_credit"]),
                   provenance_summary=prov)
        entries.append(out)
    numbers = [e["journal_number"] for e in entries]
    summary = {
        "booking_date": intent["booking_date"], "description": intent["description"], "source": intent["source"],
        "created_at": intent["created_at"], "created_by": intent["created_by"],
        "created_by_label": intent.get("created_by_label"), "provenance_summary": prov,
        "document_id": intent.get("document_id"), "reverses_intent_id": intent.get("reverses_intent_id"),
        "reversed_by_intent_id": reversed_by, "total_amount": Decimal(intent.get("total_amount") or "0"),
        "currency": intent.get("currency"), "journal_number_min": min(numbers) if numbers else None,
        "journal_number_max": max(numbers) if numbers else None, "fx": intent.get("fx"),
        "external_reference": intent.get("external_reference"), "custom_metadata": intent.get("custom_metadata"),
        "adjustment_period": intent.get("adjustment_period"), "kind": intent.get("kind"),
    }
    lines = []
    for ln in intent.get("lines", []):
        deb, cred = ln["debit_account"]["number"], ln["credit_account"]["number"]
        lines.append({"line_index": ln["line_index"], "content_hash": ln["content_hash"],
                      "debit_account": {"number": deb, "name": name(deb)},
                      "credit_account": {"number": cred, "name": name(cred)},
                      "fx_amount": Decimal(ln["fx_amount"]) if ln.get("fx_amount") else None})
    metadata = {
        "intent_category": intent.get("kind"), "confidence": 1, "source_type": intent["source"],
        "confirmed_at": intent["created_at"], "confirmed_by": intent["created_by"],
        "original_description": intent["description"], "document_id": intent.get("document_id"),
        "bank_transaction_id": intent.get("bank_transaction_id"), "is_split_booking": len(lines) > 1,
        "total_lines": len(lines), "duplicate_override": bool(intent.get("duplicate_override")),
        "fx": intent.get("fx"), "reversal": intent.get("reversal"),
        "external_reference": intent.get("external_reference"), "custom_metadata": intent.get("custom_metadata"),
        "lines": lines,
    }
    return {"intent_id": intent_id, "entries": entries, "summary": summary,
            "linked_intents": receivables.linked_intents(ctx.tenant_id, intent),
            "metadata": metadata}


def _months_between(start: str | None, end: str | None, known: list[str]) -> list[str]:
    return [m for m in known if (start is None or m >= start[:7]) and (end is None or m <= end[:7])]


def list_entries(ctx: AuthContext, account: str | None, start: str | None, end: str | None, search: str | None,
                 external_reference: str | None, limit: int, offset: int) -> dict[str, Any]:
    index = tail(ctx.tenant_id)
    tail_entries = [e for b in index.blocks for e in b.entries]
    known = sorted(set(views.months(ctx.tenant_id)) | {e["booking_date"][:7] for e in tail_entries})
    by_number: dict[int, dict[str, Any]] = {}
    for month in _months_between(start, end, known):
        pk = views.account_entries_pk(ctx.tenant_id, account, month) if account else views.entries_pk(
            ctx.tenant_id, month)
        model = views.AccountEntryItem if account else views.EntryItem
        for item in model.query(pk, consistent_read=True):
            e = json.loads(item.data)
            by_number[e["journal_number"]] = e
    tail_refs = {iid: intent.get("external_reference") for iid, (_b, intent) in index.intents.items()}
    for e in tail_entries:
        by_number.setdefault(e["journal_number"], {**e, "external_reference": tail_refs.get(e["intent_id"])})
    needle = (search or "").casefold()
    out = []
    for n in sorted(by_number):
        e = by_number[n]
        if (start and e["booking_date"] < start) or (end and e["booking_date"] > end):
            continue
        if account and account not in (e["account_debit"], e["account_credit"]):
            continue
        if needle and needle not in e["description"].casefold() and needle not in e["amount"]:
            continue
        if external_reference and e.get("external_reference") != external_reference:
            continue
        out.append(e)
    return {"entries": [public_entry(e) for e in out[offset: offset + limit]], "total": len(out),
            "offset": offset, "limit": limit}


def signed(e: dict[str, Any], account: str) -> Decimal:
    amount = Decimal(e["amount"])
    return amount if e["account_debit"] == account else -amount


def account_entries(ctx: AuthContext, account: str, start: str | None, end: str | None, limit: int
                    ) -> dict[str, Any]:
    if accounts.find(ctx.tenant_id, ctx.chart, account) is None:
        raise NotFound(f"Account {account} not found.")
    index = tail(ctx.tenant_id)
    tail_entries = [e for b in index.blocks for e in b.entries if account in (e["account_debit"],
                                                                              e["account_credit"])]
    known = sorted(set(views.months(ctx.tenant_id)) | {e["booking_date"][:7] for e in tail_entries})
    opening = Decimal(0)
    start_month = start[:7] if start else None
    # Everything before the start month: the month summaries (one BatchGetItem; cost follows months).
    before = [m for m in known if start_month is not None and m < start_month]
    summaries = month_summary.get_many(ctx.tenant_id, before)
    for block in index.blocks:
        for month, terms in projector.month_terms(block.entries).items():
            if month in summaries:
                summaries[month].add_unapplied(terms, block.seq)
    for month in before:
        debit, credit = summaries[month].accounts.get(account, [Decimal(0), Decimal(0)])
        opening += debit - credit
    projected: dict[int, dict[str, Any]] = {}
    for month in known:
        if end and month > end[:7]:
            break
        if start_month and month < start_month:
            continue
        for item in views.AccountEntryItem.query(views.account_entries_pk(ctx.tenant_id, account, month),
                                                 consistent_read=True):
            e = json.loads(item.data)
            projected[e["journal_number"]] = e
    for block in index.blocks:
        for e in block.entries:
            if account not in (e["account_debit"], e["account_credit"]):
                continue
            if not (start_month and e["booking_date"][:7] < start_month):
                projected.setdefault(e["journal_number"], e)
    rows = sorted(projected.values(), key=lambda e: (e["booking_date"], e["journal_number"]))
    balance = opening
    out = []
    for e in rows:
        if start and e["booking_date"] < start:
            opening += signed(e, account)
            balance += signed(e, account)
            continue
        if end and e["booking_date"] > end:
            continue
        balance += signed(e, account)
        out.append({**public_entry(e), "side": "debit" if e["account_debit"] == account else "credit",
                    "contra_account": e["account_credit"] if e["account_debit"] == account else e["account_debit"],
                    "running_balance": balance})
    return {"account": account, "entries": out[:limit], "opening_balance": opening, "balance": balance,
            "total": len(out)}


# ------------------------------------------------------------------------------------------ export/verify
def iter_chain_entries(tenant_id: str, start: str | None = None, end: str | None = None
                       ) -> Iterator[dict[str, Any]]:
    for block in store.iter_blocks(tenant_id):
        for e in block.entries:
            if (start and e["booking_date"] < start) or (end and e["booking_date"] > end):
                continue
            yield e


def verify(tenant_id: str) -> dict[str, Any]:
    verifier = chain.ChainVerifier()
    for e in iter_chain_entries(tenant_id):
        verifier.feed(e)
    return verifier.result().to_dict()


def export_lines(tenant_id: str, start: str | None, end: str | None) -> Iterator[bytes]:
    for e in iter_chain_entries(tenant_id, start, end):
        yield chain.export_line(e)
