"""Reconciling bank transactions: against an open item (a settlement intent), by linking a booking
that exists, dismissing; unmatching each of them again; and all of it for 100 pairs at once.

One winner per transaction. Every transition of a transaction is ONE TransactWriteItems
(store/bank/pages.change_statuses): its page's status, the account's ``unreconciled_count`` and its
match record (conditional on the state and version read) commit together or not at all, so two
requests racing for one transaction cannot both win (the loser gets 409 BANK_TX_NOT_OPEN, nothing
written), and the counter is exact.

Claim, then book — crash-safe. A settlement first claims the transaction (status ``reconciled``,
match ``claimed`` with claim version v), then books the settlement through the journal
(domain/receivables/settlements) under the intent id ``settlement_intent_id(tx, v)``, derived from the
transaction and the claim, then marks the match ``matched``. Why derived: if the process dies between
the claim and the end, the claim still names the one intent it may have booked, so whoever touches
the transaction next looks it up in the journal — found: finish the match; not found and the claim
older than STALE_CLAIM_S (far beyond a Lambda's 29 s, so no writer of it is alive): release it. A
retry never books a second settlement, and a claim never stays stuck. A booking refused by the
journal (period locked, the open amount taken by a racing settlement) releases the claim at once.
An unmatch is resumable the same way: ``unmatching`` → Storno (``ALREADY_REVERSED`` = done) →
unreconciled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ledgerlou.domain.bank import accounts as bank_accounts
from ledgerlou.domain.bank.transactions import tx_view
from ledgerlou.domain.caller import Caller
from ledgerlou.domain.journal import appender as ledger
from ledgerlou.domain.journal import booking as journal_booking
from ledgerlou.domain.journal import reads as journal_reads
from ledgerlou.domain.journal import reversal
from ledgerlou.domain.receivables import invoices, open_items, settlements
from ledgerlou.domain.receivables.sides import PAYABLES, RECEIVABLES, SIDES, Side
from ledgerlou.domain.reconciliation import ledger as bank_ledger
from ledgerlou.errors import (
    AlreadyReversed,
    AmountMismatch,
    BankTxNotOpen,
    DirectionMismatch,
    DomainError,
    InMatchGroup,
    IntentAlreadyLinked,
    InvalidInput,
    InvalidState,
    InvoiceCancelled,
    NotFound,
    PeriodLocked,
    SettlementExceedsOpenAmount,
    TargetKindUnsupported,
    TransactionStatusChanged,
    UnsupportedSettlementCurrency,
)
from ledgerlou.models.journal import BookingRequest, ReverseRequest
from ledgerlou.models.reconciliation import ReconcileIn
from ledgerlou.money import CENT
from ledgerlou.store.bank import pages
from ledgerlou.store.base import now_iso
from ledgerlou.store.reconciliation import ledger as ledger_store
from ledgerlou.store.reconciliation import matches

STALE_CLAIM_S = 120.0
KINDS: dict[str, Side] = {"open_receivable": RECEIVABLES, "open_liability": PAYABLES}
SOURCE = "bank_reconciliation"


# ------------------------------------------------------------------------------------- loading
@dataclass
class Tx:
    tx: dict[str, Any]
    where: pages.Location
    match: matches.Match

    @property
    def id(self) -> str:
        return str(self.tx["id"])

    @property
    def amount(self) -> Decimal:
        return Decimal(self.tx["amount"])


def _blank(tx: dict[str, Any]) -> matches.Match:
    return matches.Match(tx["id"], tx["bank_account_id"], exists=False)


def load(ctx: Caller, tx_id: str, field: str | None = None) -> Tx:
    """The transaction and its match record, with an interrupted claim or unmatch resolved first."""
    where = pages.locate(ctx.tenant_id, tx_id.lower())
    tx = pages.get_at(ctx.tenant_id, where) if where else None
    if where is None or tx is None:
        if field:
            raise NotFound(f"{field}: bank transaction {tx_id} not found.",
                           details=[{"field": field, "issue": "bank transaction not found"}])
        raise NotFound("Bank transaction not found.")
    t = Tx(tx, where, matches.get_match(ctx.tenant_id, tx["id"]) or _blank(tx))
    return resolve(ctx, t)


def reload(ctx: Caller, t: Tx) -> Tx:
    tx = pages.get_at(ctx.tenant_id, t.where) or t.tx
    return Tx(tx, t.where, matches.get_match(ctx.tenant_id, t.id) or _blank(tx))


def resolve(ctx: Caller, t: Tx) -> Tx:
    """Finish or release what a request that died left behind (see the module doc)."""
    m = t.match
    if m.state == "claimed" and m.mode == "settlement" and m.intent_id:
        if journal_reads.find_intent(ctx.tenant_id, m.intent_id) is not None:
            matches.transition(ctx.tenant_id, m, replace(m, state="matched", updated_at=now_iso()))
            return reload(ctx, t)
        if time.time() - float(m.extra.get("claimed_at", 0)) > STALE_CLAIM_S:
            try:
                _release(ctx, t.where, m)
            except (pages.ExtraConditionFailed, pages.StatusMismatch):
                pass  # someone else resolved it first
            return reload(ctx, t)
    elif m.mode == "group" and m.group_id and m.state == "matched":
        group = matches.get_group(ctx.tenant_id, m.group_id)
        if group is not None and group.state in ("claimed", "unmatching"):
            from ledgerlou.domain.reconciliation import groups  # it imports this module

            groups.resolve(ctx, m.group_id)
            return reload(ctx, t)
    elif m.state == "unmatching" and m.mode == "settlement":
        _finish_unmatch(ctx, t)
        return reload(ctx, t)
    return t


def _require_open(t: Tx) -> None:
    if t.tx["status"] != "unreconciled" or not t.match.is_open:
        what = "being reconciled right now" if t.match.state == "claimed" else t.tx["status"]
        raise BankTxNotOpen(f"Bank transaction {t.id} is {what}, not unreconciled.",
                            details=[{"field": "bank_transaction_id", "issue": f"is {what}"}])


def _lost(t: Tx) -> BankTxNotOpen:
    return BankTxNotOpen(f"Bank transaction {t.id} was reconciled by another request a moment ago.",
                         details=[{"field": "bank_transaction_id", "issue": "reconciled meanwhile"}])


# ------------------------------------------------------------------------------------- planning
@dataclass
class Plan:
    """What a reconcile will do, fully checked, nothing written yet."""

    t: Tx
    mode: str  # settlement | link
    kind: str
    target_intent_id: str
    open_item_account: str | None = None
    prepared: settlements.Prepared | None = None
    invoice: tuple[str, str] | None = None  # (side, invoice id)
    amount: Decimal = Decimal(0)  # in the open item's currency
    ledger_entry: tuple[str, str] | None = None  # link: (ledger account, booking date) of its unmatched entry


@dataclass
class Reads:
    """What a batch has read for all its pairs at once (each item once); a single request reads on
    demand. ``links``: invoice intent → (side, invoice id); ``states``: (side, invoice id) → state."""

    banks: dict[str, Any] = field(default_factory=dict)
    links: dict[str, tuple[str, str]] = field(default_factory=dict)
    states: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def plan(ctx: Caller, t: Tx, body: ReconcileIn, reads: Reads | None = None) -> Plan:
    """Check a reconcile completely (nothing written)."""
    _require_open(t)
    kind = body.candidate_kind
    intent_id = body.intent_id.lower()
    reads = reads if reads is not None else Reads()
    banks = reads.banks
    if t.tx["bank_account_id"] not in banks:
        banks[t.tx["bank_account_id"]] = bank_accounts.get_account(ctx.tenant_id, t.tx["bank_account_id"])
    bank = banks[t.tx["bank_account_id"]]
    if kind == "booking":
        return _plan_link(ctx, t, bank, intent_id)
    side = KINDS.get(kind)
    if side is None:
        raise TargetKindUnsupported(f"candidate_kind {kind!r} is not supported: use open_receivable, open_liability "
                                    "or booking.", details=[{"field": "candidate_kind", "issue": "unsupported"}])
    if body.open_item_account is None:
        raise InvalidInput.field("open_item_account", f"required for {kind}")
    return _plan_settlement(ctx, t, bank, side, kind, intent_id, body.open_item_account, reads)


def open_item(ctx: Caller, side: Side, kind: str, intent_id: str, open_item_account: str, field: str = "",
              reads: Reads | None = None) -> dict[str, Any]:
    """The open item an invoice intent opened, checked against the pair's kind and account."""
    link = (reads.links.get(intent_id) if reads else None) or settlements.find_by_intent(
        ctx.tenant_id, intent_id) or _unprojected_link(ctx, intent_id)
    if link is None:
        raise NotFound(f"{field}intent_id: no open item has intent {intent_id}.",
                       details=[{"field": f"{field}intent_id", "issue": "no open item with this intent"}])
    if link[0] != side.code:
        other = "a payable (open_liability)" if link[0] == "AP" else "a receivable (open_receivable)"
        raise InvalidInput.field(f"{field}candidate_kind", f"intent {intent_id} opened {other}, not {kind}")
    known = reads.states.get(link) if reads else None
    state = known if known is not None else invoices.require_state(ctx, SIDES[link[0]], link[1])
    if state["intent_id"] != intent_id:
        raise NotFound(f"{field}intent_id: intent {intent_id} no longer books invoice {state['invoice_number']}.",
                       details=[{"field": f"{field}intent_id", "issue": "not the invoice's booking any more"}])
    if state["cancelled"]:
        raise InvoiceCancelled(f"Invoice {state['invoice_number']} is cancelled.",
                               details=[{"field": f"{field}intent_id", "issue": "invoice cancelled"}])
    if open_item_account != state["open_item_account"]:
        raise InvalidInput.field(f"{field}open_item_account",
                                 f"the open item is on account {state['open_item_account']}, not {open_item_account}")
    return state


def _unprojected_link(ctx: Caller, intent_id: str) -> tuple[str, str] | None:
    """(side, invoice id) of an invoice whose booking the projector has not reached yet (a reconcile
    right after the invoice): its own booking carries the invoice, a linking one is a control event."""
    from ledgerlou.domain.receivables import projection

    tail = journal_reads.tail(ctx.tenant_id)
    found = tail.intents.get(intent_id)
    if found is not None and found[1].get("invoice"):
        inv = found[1]["invoice"]
        return str(inv["side"]), str(inv["id"])
    link: tuple[str, str] | None = None
    for block in tail.blocks:
        control = block.payload.get("control") or {}
        if control.get("action") != projection.CONTROL_ACTION:
            continue
        for ev in control.get("events", []):
            if (ev["type"] == "open" and ev["invoice"]["intent_id"] == intent_id) or (
                    ev["type"] == "relink" and ev["intent_id"] == intent_id):
                link = (str(ev["side"]), str(ev["invoice_id"]))
    return link


def money_in_closes(side: Side, state: dict[str, Any]) -> bool:
    """Whether money in (a positive bank amount) settles this open item: a receivable is paid in, a
    payable paid out; a credit note the other way round."""
    return side.open_on_debit != (state["type"] == "credit_note")


def _plan_settlement(ctx: Caller, t: Tx, bank: Any, side: Side, kind: str, intent_id: str, account: str,
                     reads: Reads) -> Plan:
    state = open_item(ctx, side, kind, intent_id, account, reads=reads)
    money_in = t.amount > 0
    if money_in != money_in_closes(side, state):
        raise DirectionMismatch(f"Money {'in' if money_in else 'out'} cannot settle "
                                f"{'an open liability' if side is PAYABLES else 'an open receivable'} "
                                f"{state['invoice_number']} ({state['type']}).",
                                details=[{"field": "candidate_kind", "issue": "direction does not fit"}])
    if state["currency"] != bank.currency:
        how = ("settle it with a match group (settled_document_amount: the " + state["currency"] + " amount it "
               "settles; the difference is the FX gain or loss)") if bank.currency == ctx.base_currency else (
            f"settle it from a {state['currency']} or {ctx.base_currency} bank account")
        raise UnsupportedSettlementCurrency(
            f"Invoice {state['invoice_number']} is in {state['currency']}, the bank account in {bank.currency}: "
            f"{how}.",
            details=[{"field": "intent_id", "issue": f"open item in {state['currency']}, "
                                                     f"bank account in {bank.currency}"}])
    amount = abs(t.amount)
    left = open_items.unsigned_remaining(state)
    if amount > left:
        cur = state["currency"]
        raise SettlementExceedsOpenAmount(f"Invoice {state['invoice_number']} has {left.quantize(CENT)} {cur} open; "
                                          f"the transaction's {amount.quantize(CENT)} {cur} exceed it.",
                                          details=[{"field": "intent_id",
                                                    "issue": f"exceeds the open {left.quantize(CENT)} {cur}"}])
    rate = Decimal(state["exchange_rate"]) if state["currency"] != ctx.base_currency else None
    base = journal_booking._fx_to_base(amount, _Rate(rate)) if rate else amount
    debit, credit = (bank.ledger_account, account) if money_in else (account, bank.ledger_account)
    name = t.tx.get("counterparty_name") or state["partner_name"]
    booking = BookingRequest.model_validate({
        "booking_date": t.tx["booking_date"], "skip_duplicate_check": True,
        "description": f"Bankabgleich {state['invoice_number']} {name}"[:500],
        "lines": [{"account_debit": debit, "account_credit": credit, "amount": amount}],
        "custom_metadata": {"bank_transaction_id": t.id, "invoice_id": state["id"]},
        "fx": {"currency": state["currency"], "rate": rate} if rate else None})
    prepared = settlements.prepare(ctx, [settlements.OpenItemAmount(side.code, state["id"], amount, base)], booking,
                                   states={(side.code, state["id"]): state})
    return Plan(t, "settlement", kind, intent_id, account, prepared, (side.code, state["id"]), amount)


@dataclass(frozen=True)
class _Rate:
    rate: Decimal


def _plan_link(ctx: Caller, t: Tx, bank: Any, intent_id: str) -> Plan:
    found = journal_reads.find_intent(ctx.tenant_id, intent_id)
    if found is None:
        raise NotFound(f"Intent {intent_id} not found.", details=[{"field": "intent_id", "issue": "not found"}])
    block, intent = found
    if intent.get("reverses_intent_id"):
        raise InvalidInput.field("intent_id", "is a reversal (Storno); link the booking it corrects instead")
    if journal_reads.tail(ctx.tenant_id).reversed_by.get(intent_id) or _reversed(ctx, intent_id):
        raise InvalidInput.field("intent_id", "was reversed; link its correction instead")
    if matches.is_linked(ctx.tenant_id, intent_id):
        raise IntentAlreadyLinked(f"Intent {intent_id} is matched to a bank transaction already.",
                                  details=[{"field": "intent_id", "issue": "matched to a bank transaction"}])
    mine = [e for e in block.entries if e["intent_id"] == intent_id]
    base, fx = bank_ledger.postings(mine, bank.ledger_account)
    posted = base if bank.currency == ctx.base_currency else fx.get(bank.currency, Decimal(0))
    cur = bank.currency
    if posted == 0:
        # a USD account's booking must carry its USD amount; one booked in EUR only names what it posts
        also = (f" (the bank account is in {cur}; it posts {abs(base).quantize(CENT)} {ctx.base_currency} "
                f"without a {cur} amount)") if cur != ctx.base_currency and base else ""
        raise AmountMismatch(f"Intent {intent_id} posts no {cur} amount on the bank's ledger account "
                             f"{bank.ledger_account}{also}.",
                             details=[{"field": "intent_id", "issue": f"no {cur} posting on {bank.ledger_account}"}])
    if (posted > 0) != (t.amount > 0):
        raise DirectionMismatch(f"Intent {intent_id} {'debits' if posted > 0 else 'credits'} "
                                f"{bank.ledger_account}; the transaction is money {'in' if t.amount > 0 else 'out'}.",
                                details=[{"field": "intent_id", "issue": "other direction"}])
    if abs(posted) != abs(t.amount):
        raise AmountMismatch(f"Intent {intent_id} posts {abs(posted).quantize(CENT)} {cur} on {bank.ledger_account}; "
                             f"the transaction is {abs(t.amount).quantize(CENT)} {cur}.",
                             details=[{"field": "intent_id", "issue": f"posts {abs(posted).quantize(CENT)} {cur}, "
                                                                      f"not {abs(t.amount).quantize(CENT)} {cur}"}])
    return Plan(t, "link", "booking", intent_id, ledger_entry=(bank.ledger_account, intent["booking_date"]))


def _reversed(ctx: Caller, intent_id: str) -> bool:
    from ledgerlou.store.journal import projections

    item = projections.get_intent(ctx.tenant_id, intent_id)
    return bool(item is not None and item.reversed_by_intent_id)


# ------------------------------------------------------------------------------------- claiming
def claim_change(ctx: Caller, p: Plan) -> tuple[pages.StatusChange, matches.Match]:
    """The status change that claims the transaction for ``p`` (and the match record it writes)."""
    t, m = p.t, p.t.match
    version = m.version + 1
    if p.mode == "settlement":
        intent_id = matches.settlement_intent_id(ctx.tenant_id, t.id, version)
        after = matches.Match(t.id, t.tx["bank_account_id"], version, "claimed", "settlement", intent_id, p.kind,
                              p.open_item_account, p.target_intent_id, updated_at=now_iso(),
                              extra={"claimed_at": time.time()})
        ops = [matches.claim_op(ctx.tenant_id, m, after),
               matches.link_op(ctx.tenant_id, intent_id, [t.id], "settlement", t.tx["bank_account_id"])]
    else:
        after = matches.Match(t.id, t.tx["bank_account_id"], version, "matched", "link", p.target_intent_id,
                              "booking", target_intent_id=p.target_intent_id, updated_at=now_iso())
        ops = [matches.claim_op(ctx.tenant_id, m, after),
               matches.link_op(ctx.tenant_id, p.target_intent_id, [t.id], "link", t.tx["bank_account_id"])]
        if p.ledger_entry:
            ops.append(ledger_store.delete_entry_op(ctx.tenant_id, *p.ledger_entry, p.target_intent_id))
    return pages.StatusChange(t.where, "reconciled", "unreconciled", ops), after


def _release(ctx: Caller, where: pages.Location, claimed: matches.Match) -> None:
    """Undo a claim whose settlement was not booked: unreconciled again, the intent id given up (the
    next claim has the next version, so a late append of this one could never be mistaken for it)."""
    after = replace(claimed, state="none", mode=None, intent_id=None, candidate_kind=None, open_item_account=None,
                    target_intent_id=None, updated_at=now_iso(), extra={})
    ops = [matches.claim_op(ctx.tenant_id, claimed, after)]
    if claimed.intent_id:
        ops.append(matches.unlink_op(ctx.tenant_id, claimed.intent_id))
    pages.change_statuses(ctx.tenant_id, [pages.StatusChange(where, "unreconciled", "reconciled", ops)])


def bank_match(p: Plan, version: int) -> dict[str, Any]:
    return {"bank_match": {"tx_ids": [p.t.id], "version": version}}


# ------------------------------------------------------------------------------------- one transaction
def reconcile(ctx: Caller, tx_id: str, body: ReconcileIn, appender: ledger.Appender | None = None) -> dict[str, Any]:
    t = load(ctx, tx_id)
    p = plan(ctx, t, body)
    change, after = claim_change(ctx, p)
    try:
        pages.change_statuses(ctx.tenant_id, [change])
    except (pages.ExtraConditionFailed, pages.StatusMismatch) as ex:
        if isinstance(ex, pages.ExtraConditionFailed) and p.mode == "link" and \
                matches.is_linked(ctx.tenant_id, p.target_intent_id):
            raise IntentAlreadyLinked(f"Intent {p.target_intent_id} was matched to another bank transaction a "
                                      "moment ago.", details=[{"field": "intent_id", "issue": "matched"}]) from None
        raise _lost(t) from None
    if p.mode == "link":
        return {"ok": True, "mode": "link", "intent_id": p.target_intent_id}
    assert p.prepared is not None and after.intent_id is not None
    try:
        settlements.post(ctx, p.prepared, SOURCE, appender, intent_id=after.intent_id,
                         annotate=bank_match(p, after.version))
    except DomainError:
        _release(ctx, t.where, after)  # refused by the journal: nothing was booked
        raise
    matches.transition(ctx.tenant_id, after, replace(after, state="matched", updated_at=now_iso()))
    return {"ok": True, "mode": "settlement", "intent_id": after.intent_id}


def dismiss(ctx: Caller, tx_id: str) -> dict[str, Any]:
    t = load(ctx, tx_id)
    _require_open(t)
    m = t.match
    after = matches.Match(t.id, t.tx["bank_account_id"], m.version + 1, "dismissed", "dismissed", updated_at=now_iso())
    try:
        pages.change_statuses(ctx.tenant_id, [pages.StatusChange(t.where, "dismissed", "unreconciled",
                                                                 [matches.claim_op(ctx.tenant_id, m, after)])])
    except (pages.ExtraConditionFailed, pages.StatusMismatch):
        raise _lost(t) from None
    return {"ok": True}


def unmatch(ctx: Caller, tx_id: str) -> dict[str, Any]:
    t = load(ctx, tx_id)
    m = t.match
    if m.group_id and m.state != "none":
        raise InMatchGroup(f"Bank transaction {t.id} belongs to match group {m.group_id}; unmatch the group.",
                           details=[{"field": "match_group_id", "issue": m.group_id}])
    if m.state == "claimed":
        raise TransactionStatusChanged(f"Bank transaction {t.id} is being reconciled right now; retry.")
    if m.state == "none" or t.tx["status"] == "unreconciled":
        raise InvalidState(f"Bank transaction {t.id} is not reconciled or dismissed; nothing to unmatch.",
                           details=[{"field": "status", "issue": t.tx["status"]}])
    cleared = replace(m, state="none", mode=None, intent_id=None, candidate_kind=None, open_item_account=None,
                      target_intent_id=None, updated_at=now_iso(), extra={})
    if m.state == "dismissed" or m.mode == "link":
        ops = [matches.claim_op(ctx.tenant_id, m, cleared)]
        if m.mode == "link" and m.intent_id:
            ops.append(matches.unlink_op(ctx.tenant_id, m.intent_id))
            restored = _unmatched_entry(ctx, t, m.intent_id)
            if restored is not None:
                ops.append(ledger_store.put_entry_op(ctx.tenant_id, *restored))
        try:
            pages.change_statuses(ctx.tenant_id, [pages.StatusChange(t.where, "unreconciled", t.tx["status"], ops)])
        except (pages.ExtraConditionFailed, pages.StatusMismatch):
            raise TransactionStatusChanged(f"Bank transaction {t.id} changed meanwhile; retry.") from None
        return {"ok": True, "status": "unreconciled", "reversal_intent_id": None}
    unmatching = replace(m, state="unmatching", updated_at=now_iso())
    if not matches.transition(ctx.tenant_id, m, unmatching):
        raise TransactionStatusChanged(f"Bank transaction {t.id} changed meanwhile; retry.")
    reversal_id = _finish_unmatch(ctx, replace(t, match=unmatching))
    return {"ok": True, "status": "unreconciled", "reversal_intent_id": reversal_id}


def _unmatched_entry(ctx: Caller, t: Tx, intent_id: str) -> tuple[str, dict[str, Any]] | None:
    """(ledger account, entry) a linked booking becomes again when its link goes."""
    bank = bank_accounts.get_account(ctx.tenant_id, t.tx["bank_account_id"])
    found = journal_reads.find_intent(ctx.tenant_id, intent_id)
    if found is None or _reversed(ctx, intent_id):
        return None
    block, intent = found
    entry = bank_ledger.entry_of(intent, [e for e in block.entries if e["intent_id"] == intent_id],
                                 bank.ledger_account)
    return (bank.ledger_account, entry) if entry else None


def storno(ctx: Caller, intent_id: str, reason: str) -> str:
    """Reverse a settlement intent on its own date (or today, when its period is locked); the id of
    the Storno — also when an earlier, interrupted attempt booked it already."""
    for mode in ("original_date", "current_date"):
        try:
            return str(reversal.reverse(ctx, ReverseRequest.model_validate(
                {"intent_id": intent_id, "reason": reason, "posting_mode": mode}))["reversal_intent_id"])
        except AlreadyReversed:
            return _reversal_of(ctx, intent_id)
        except PeriodLocked:
            if mode == "current_date":
                raise
    raise AssertionError("unreachable")


def _reversal_of(ctx: Caller, intent_id: str) -> str:
    from ledgerlou.store.journal import projections

    by = journal_reads.tail(ctx.tenant_id).reversed_by.get(intent_id)
    if by:
        return by
    item = projections.get_intent(ctx.tenant_id, intent_id)
    if item is None or not item.reversed_by_intent_id:
        raise InvalidState(f"Intent {intent_id} is not reversed.")
    return str(item.reversed_by_intent_id)


def _finish_unmatch(ctx: Caller, t: Tx) -> str:
    m = t.match
    assert m.intent_id is not None
    reversal_id = storno(ctx, m.intent_id, "Bankabgleich aufgehoben")
    after = replace(m, state="none", mode=None, intent_id=None, candidate_kind=None, open_item_account=None,
                    target_intent_id=None, reversal_intent_id=reversal_id, updated_at=now_iso(), extra={})
    try:
        pages.change_statuses(ctx.tenant_id, [pages.StatusChange(
            t.where, "unreconciled", "reconciled",
            [matches.claim_op(ctx.tenant_id, m, after), matches.unlink_op(ctx.tenant_id, m.intent_id)])])
    except (pages.ExtraConditionFailed, pages.StatusMismatch):
        pass  # another request finished this unmatch a moment ago
    return reversal_id


def view_tx(t: Tx) -> dict[str, Any]:
    return tx_view(t.tx)
