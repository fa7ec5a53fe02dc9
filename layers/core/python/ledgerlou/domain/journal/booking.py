"""Bookings (Buchungssätze) and opening balances: a request becomes an intent and its entries.

A booking request becomes an *intent* with one or more journal *entries* (debit account, credit
account, amount). Tax-code lines are split into net and tax entries (docs/api-contract.md "Bookings"). Building is
pure but for the account/tax-code lookups; the intent and its entries are appended as one block by
``appender``; the projector (``projector``) builds the read side from the blocks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerlou.domain.caller import Caller
from ledgerlou.domain.chain.canonical import format_amount
from ledgerlou.domain.chart import accounts, tax_codes
from ledgerlou.domain.chart.skr import OPENING_BALANCE_ACCOUNT
from ledgerlou.domain.journal.appender import APPENDER, Appender, Draft, JournalState
from ledgerlou.domain.journal.entries import Entry, Intent
from ledgerlou.errors import (
    AccountInactive,
    AccountNotFound,
    DocumentNotFound,
    DuplicateBooking,
    InvalidInput,
    PeriodLocked,
    TaxCodeNotFound,
)
from ledgerlou.models.journal import BookingRequest, OpeningBalancesRequest
from ledgerlou.store.base import now_iso

CENT = Decimal("0.01")
SOURCES = {"api": "API", "dashboard": "Dashboard", "mcp": "MCP", "bank_reconciliation": "Bank-Abgleich",
           "import": "Import", "system": "System", "payment_run": "Zahlungslauf"}
LOCKED_STATES = ("locked", "soft_locked")


def period_of(date: str | dt.date) -> str:
    return str(date)[:7]


def month_of(date: str) -> str:
    return date[:7]


# ------------------------------------------------------------------------------------------ provenance
def provenance(ctx: Caller, source: str) -> dict[str, Any]:
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

    def __init__(self, ctx: Caller) -> None:
        self.ctx = ctx
        self._cache: dict[str, accounts.Account | None] = {}
        self._codes: dict[str, Any] = {}

    def tax_code(self, code: str) -> Any:
        if code not in self._codes:
            from ledgerlou.store.chart import tax_codes as tc_store

            self._codes[code] = tc_store.get(self.ctx.tenant_id, code)
        return self._codes[code]

    def require(self, number: str, field: str) -> accounts.Account:
        if number not in self._cache:
            self._cache[number] = accounts.find(self.ctx.tenant_id, self.ctx.chart, number)
        acc = self._cache[number]
        if acc is None:
            raise AccountNotFound(f"{field}: account {number} does not exist.",
                                  details=[{"field": field, "issue": f"account {number} does not exist"}])
        if not acc.is_active:
            raise AccountInactive.field(field, f"account {number} is inactive")
        return acc


def _fx_to_base(amount: Decimal, fx: Any) -> Decimal:
    return (amount / fx.rate).quantize(CENT, rounding=ROUND_HALF_UP)


def _entry(intent_id: str, date: str, debit: str, credit: str, amount: Decimal, currency: str, description: str,
           created_at: str, created_by: str, source: str, document_id: str | None, reverses: str | None,
           **extra: Any) -> Entry:
    return Entry(id=str(uuid.uuid4()), intent_id=intent_id, booking_date=date, account_debit=debit,
                 account_credit=credit, amount=format_amount(amount), currency=currency, description=description,
                 created_at=created_at, created_by=created_by, source=source, document_id=document_id,
                 reverses_intent_id=reverses, **extra)


def fingerprint(req: BookingRequest) -> str:
    """Same date, lines and description → the same booking (docs/api-contract.md "Bookings")."""
    lines = [[ln.account_debit, ln.account_credit, str(ln.amount), ln.tax_code or ""] for ln in req.lines]
    raw = json.dumps([req.booking_date.isoformat(), req.description.strip().casefold(), lines])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _content_hash(line: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(line, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def build_booking(ctx: Caller, req: BookingRequest, source: str, index: int = 0,
                  lookup: _Accounts | None = None, intent_id: str | None = None) -> tuple[Intent, list[Entry]]:
    """Validate a booking request and turn it into an intent and its entries (not yet chained).
    ``intent_id``: a caller's derived id (bank reconciliation: found again after a crash), else random."""
    lookup = lookup or _Accounts(ctx)
    prefix = f"bookings[{index}]." if index >= 0 and source == "batch" else ""
    _check_adjustment(req, prefix)
    if req.document_id:
        from ledgerlou.domain.documents import archive as documents

        if not documents.exists(ctx.tenant_id, req.document_id.lower()):
            raise DocumentNotFound(f"{prefix}document_id: document {req.document_id} does not exist.",
                                   details=[{"field": f"{prefix}document_id", "issue": "document does not exist"}])
    intent_id = intent_id or str(uuid.uuid4())
    created_at = now_iso()
    date = req.booking_date.isoformat()
    currency = ctx.base_currency
    channel = "import" if source == "batch" else source
    doc = req.document_id.lower() if req.document_id else None
    entries: list[Entry] = []
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
            extra.update(fx_amount=format_amount(fx_amount), fx_currency=req.fx.currency if req.fx else None)
        if line.tax_code is None:
            entries.append(_entry(intent_id, date, deb.number, cred.number, amount, currency, text, created_at,
                                  ctx.actor_id, channel, doc, None, **extra))
        else:
            if line.tax_code not in codes:
                item = lookup.tax_code(line.tax_code)
                if item is None or not item.is_active:
                    raise TaxCodeNotFound(f"{f}.tax_code: tax code {line.tax_code} does not exist or is inactive.",
                                          details=[{"field": f"{f}.tax_code", "issue": "unknown or inactive tax code"}])
                codes[line.tax_code] = item
            code = codes[line.tax_code]
            entries.extend(_tax_entries(intent_id, date, deb.number, cred.number, amount, code, currency, text,
                                        created_at, ctx.actor_id, channel, doc, extra))
        meta_lines.append({
            "line_index": i, "debit_account": {"number": deb.number, "name": deb.name},
            "credit_account": {"number": cred.number, "name": cred.name},
            "amount": format_amount(line.amount), "tax_code": line.tax_code,
            "fx_amount": format_amount(fx_amount) if fx_amount is not None else None,
            "content_hash": _content_hash({"account_debit": deb.number, "account_credit": cred.number,
                                           "amount": format_amount(line.amount),
                                           "tax_code": line.tax_code, "description": line.description}),
        })
    total = sum((Decimal(e.amount) for e in entries if e.role == "main"), Decimal(0))
    fx = None
    if req.fx is not None:
        fx = {"currency": req.fx.currency, "rate": str(req.fx.rate), "base_currency": currency,
              "total_foreign": format_amount(sum((ln.amount for ln in req.lines), Decimal(0)))}
    intent = Intent(
        intent_id=intent_id,
        kind="booking",
        booking_date=date,
        description=req.description,
        external_reference=req.external_reference,
        custom_metadata=req.custom_metadata,
        document_id=doc,
        source=channel,
        created_at=created_at,
        created_by=ctx.actor_id,
        created_by_label=ctx.actor_label,
        provenance=provenance(ctx, channel),
        fingerprint=None if req.skip_duplicate_check else fingerprint(req),
        duplicate_override=req.skip_duplicate_check,
        adjustment_period=req.adjustment_period,
        fx=fx,
        reverses_intent_id=None,
        reversal=None,
        lines=meta_lines,
        total_amount=format_amount(total),
        currency=currency,
    )
    return intent, entries


def _tax_entries(intent_id: str, date: str, debit: str, credit: str, gross: Decimal, code: Any, currency: str,
                 text: str, created_at: str, created_by: str, source: str, doc: str | None,
                 extra: dict[str, Any]) -> list[Entry]:
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


def _check_locks(state: JournalState, dates: list[str]) -> None:
    for date in dates:
        status = state.locks.get(period_of(date))
        if status in LOCKED_STATES:
            raise PeriodLocked(f"Period {period_of(date)} is {status.replace('_', '-')}; "
                               "nothing can be booked into it.")


def _check_duplicates(ctx: Caller, state: JournalState, intents: list[Intent]) -> None:
    seen: dict[str, int] = {}
    dates: dict[str, str] = {}
    for i, intent in enumerate(intents):
        fp = intent.fingerprint
        if not fp:
            continue
        if fp in seen:
            raise DuplicateBooking(f"bookings[{i}] duplicates bookings[{seen[fp]}] of the same batch.")
        seen[fp] = i
        dates[fp] = intent.booking_date
    if not seen:
        return
    owners = state.fingerprint_owners(ctx.tenant_id, [(dates[fp], fp) for fp in seen])
    for fp, i in seen.items():
        owner = owners.get(fp)
        if owner:
            where = f"bookings[{i}]: " if len(intents) > 1 else ""
            raise DuplicateBooking(f"{where}An identical booking exists already (intent {owner}); set "
                                   "skip_duplicate_check to book it again.",
                                   details=[{"field": "skip_duplicate_check", "issue": f"duplicate of intent {owner}"}])


def _check_derived_ids(ctx: Caller, state: JournalState, intent_ids: list[str]) -> None:
    """409 DUPLICATE_BOOKING if a caller's derived intent id is in the journal already: a derived id names
    one booking (a payment run's completion, a review case's incoming invoice), so a retry that reaches
    the append a second time is refused here, against the state the block builds on, whatever the
    caller checked before. The tail holds the blocks after the watermark, the projection those up to it."""
    from ledgerlou.store.journal import projections

    for intent_id in intent_ids:
        if intent_id in state.tail.intents or projections.get_intent(ctx.tenant_id, intent_id) is not None:
            raise DuplicateBooking(f"Intent {intent_id} is booked already.",
                                   details=[{"field": "intent_id", "issue": "booked already"}])


# ------------------------------------------------------------------------------------------ writing
def _mirrored(e: Entry) -> Entry:
    """The entry with debit and credit swapped, marked ``mirrored`` (a credit note books as a Storno does)."""
    return replace(e, account_debit=e.account_credit, account_credit=e.account_debit, mirrored=True)


def _with_fx_lines(built: tuple[Intent, list[Entry]], stamps: dict[int, tuple[str, Decimal]] | None
                   ) -> tuple[Intent, list[Entry]]:
    """Stamp lines (index → (currency, foreign amount)) of a booking without ``fx`` with their foreign
    amounts: on their entries (the bank ledger's foreign side sums them) and on the intent's lines,
    and the intent's ``fx`` names the currency, the sum and the mean rate (its lines' own rates differ)."""
    intent, entries = built
    if not stamps:
        return built
    if intent.fx is not None:
        raise ValueError("fx_lines is for bookings without fx")
    if any(e.line_index in stamps and e.role != "main" for e in entries):
        raise ValueError("fx_lines cannot stamp a tax-coded line")
    [currency] = {c for c, _a in stamps.values()}
    out = [replace(e, fx_amount=format_amount(stamps[e.line_index][1]), fx_currency=currency)
           if e.line_index in stamps else e for e in entries]
    lines = [{**ln, "fx_amount": format_amount(stamps[ln["line_index"]][1])} if ln["line_index"] in stamps else ln
             for ln in intent.lines]
    foreign = sum((a for _c, a in stamps.values()), Decimal(0))
    base = sum((Decimal(e.amount) for e in out if e.line_index in stamps), Decimal(0))
    rate = (foreign / base).quantize(Decimal("0.0000000001"), rounding=ROUND_HALF_UP) if base else Decimal(0)
    fx = {"currency": currency, "rate": str(rate.normalize()), "base_currency": intent.currency,
          "total_foreign": format_amount(foreign)}
    return replace(intent, lines=lines, fx=fx), out


def post_bookings(ctx: Caller, requests: list[BookingRequest], source: str = "api",
                  appender: Appender | None = None, *, annotate: list[dict[str, Any]] | None = None,
                  check: Callable[[JournalState], None] | None = None,
                  mirror: list[bool] | None = None, lookup: _Accounts | None = None,
                  intent_ids: list[str] | None = None,
                  fx_lines: list[dict[int, tuple[str, Decimal]] | None] | None = None) -> list[tuple[str, int]]:
    """Append one or more bookings as one block: all or none. Returns (intent_id, entry count) each.

    For bookings that record more than their entries (receivables: an invoice, a settlement):
    ``annotate`` adds facts to each intent (e.g. ``{"invoice": {...}}``, ``{"settles": [...]}``) that
    the projectors read; ``check`` validates against the journal state the block builds on (raced
    like the lock and duplicate checks: a loser re-checks on top of the winner's block); ``mirror``
    books a request with debit and credit swapped in every entry, tax entries included, as a Storno
    does (a credit note), and marks its entries ``mirrored`` so that tax sums count them negative;
    ``lookup`` is a caller's account and tax-code cache of this request (read each item once);
    ``intent_ids`` are the callers' derived intent ids (default: random); ``fx_lines`` (line index →
    (currency, amount)) gives lines of a base-currency booking their own foreign amounts (a match group
    on a USD bank account: each line valued at its open item's own rate, which one ``fx`` cannot say)."""
    lookup = lookup or _Accounts(ctx)
    built = [build_booking(ctx, r, "batch" if len(requests) > 1 or source == "batch" else source, i, lookup,
                           intent_ids[i] if intent_ids else None)
             for i, r in enumerate(requests)]
    if fx_lines:
        built = [_with_fx_lines(b, fx_lines[i]) if i < len(fx_lines) and fx_lines[i] else b
                 for i, b in enumerate(built)]
    intents = [b[0] for b in built]
    entries = [[_mirrored(e) for e in b[1]] if mirror and mirror[i] else b[1] for i, b in enumerate(built)]
    intent_items = []
    for i, intent in enumerate(intents):
        item = intent.to_item()
        if annotate and annotate[i]:
            item.update(annotate[i])
        if mirror and mirror[i]:
            item["lines"] = [{**ln, "debit_account": ln["credit_account"], "credit_account": ln["debit_account"]}
                             for ln in item["lines"]]
        intent_items.append(item)

    def build(state: JournalState) -> Draft:
        _check_locks(state, [i.booking_date for i in intents])
        _check_duplicates(ctx, state, intents)
        if intent_ids:
            _check_derived_ids(ctx, state, [i for i in intent_ids if i])
        if check is not None:
            check(state)
        return Draft("bookings", intent_items, [[e.to_item() for e in es] for es in entries])

    (appender or APPENDER).append(ctx.tenant_id, build)
    return [(i.intent_id, len(e)) for i, e in zip(intents, entries, strict=True)]


def post_opening_balances(ctx: Caller, req: OpeningBalancesRequest,
                          appender: Appender | None = None) -> dict[str, Any]:
    lookup = _Accounts(ctx)
    intent_id = str(uuid.uuid4())
    created_at = now_iso()
    date = req.booking_date.isoformat()
    text = req.description or "Eröffnungsbilanzbuchung"
    lookup.require(OPENING_BALANCE_ACCOUNT, "opening balance account")
    entries: list[Entry] = []
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
    intent = Intent(
        intent_id=intent_id,
        kind="opening_balance",
        booking_date=date,
        description=text,
        external_reference=None,
        custom_metadata=None,
        document_id=None,
        source="api",
        created_at=created_at,
        created_by=ctx.actor_id,
        created_by_label=ctx.actor_label,
        provenance=provenance(ctx, "api"),
        fingerprint=None,
        duplicate_override=False,
        adjustment_period=None,
        fx=None,
        reverses_intent_id=None,
        reversal=None,
        lines=[{"line_index": e.line_index, "debit_account": {"number": e.account_debit},
                "credit_account": {"number": e.account_credit}, "amount": e.amount, "tax_code": None,
                "fx_amount": None, "content_hash": _content_hash({"account_debit": e.account_debit,
                                                                  "account_credit": e.account_credit,
                                                                  "amount": e.amount})}
               for e in entries],
        total_amount=format_amount(total_debit + total_credit),
        currency=ctx.base_currency,
    )

    def build(state: JournalState) -> Draft:
        _check_locks(state, [date])
        return Draft("bookings", [intent.to_item()], [[e.to_item() for e in entries]])

    (appender or APPENDER).append(ctx.tenant_id, build)
    return {"intent_id": intent_id, "event_count": len(entries), "total_debit": total_debit,
            "total_credit": total_credit}
