"""Match groups (seed 003): several bank transactions of one account and direction against several
open items, booked as ONE balanced settlement intent; unmatch reverses it and reopens everything.

The booking pivots on the bank's ledger account: every allocation, adjustment and FX difference is a
line against it, so the account nets exactly the transactions' sum (else 400 GROUP_NOT_BALANCED).

- Allocation: the open item is settled by ``settled_document_amount`` (default: the allocated bank
  amount), valued in the base currency at the item's own booked rate. For an item in another currency
  than the bank account's, ``settled_document_amount`` is required, and the difference between its
  booked base value and the bank amount allocated to it is the FX gain or loss, booked to the chart's
  accounts (SKR03 2660/2150, SKR04 4840/6880).
- Adjustments: fees, Skonto, write-offs, small differences, each on its account (in the base
  currency). With ``tax_code`` the adjustment corrects the VAT of the settled items by its tax part
  (§17 UStG: a Skonto lowers the taxable amount): the whole intent is booked mirrored, as a credit
  note is, so a tax-coded line takes the tax back on the side the invoice booked it.
- Currencies. The items' currencies must agree (400 MIXED_SETTLEMENT_CURRENCY). On a base-currency
  bank account they may be in any one currency (as above). On a foreign-currency account (USD) they
  must be in the account's currency (422 UNSUPPORTED_SETTLEMENT_CURRENCY otherwise: the base value of
  the USD paid for a EUR item would need the bank's rate of the day, which the API does not carry);
  every amount of the group — allocations, settled amounts, adjustments — is then in USD, and the
  balance is checked in USD. Each allocation line is valued at its item's own booked rate, as a single
  reconcile on a USD account is (so there is no FX difference), and carries its USD amount
  (journal ``fx_lines``: one intent, each line its own rate); an adjustment is valued at the group's
  mean rate (Σ base / Σ USD of its items). A tax-coded adjustment on a USD account is refused (400
  INVALID_INPUT): the VAT correction is a base-currency booking.

Claims and crash safety as for one transaction (matching.py): all transactions, the group record and
the intent's link are claimed in one TransactWriteItems; the intent id is derived from the group id;
a group left ``claimed`` by a request that died is finished or released by ``resolve``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ledgerlou.domain.bank import accounts as bank_accounts
from ledgerlou.domain.caller import Caller
from ledgerlou.domain.chart import accounts as chart_accounts
from ledgerlou.domain.journal import appender as ledger
from ledgerlou.domain.journal import booking as journal_booking
from ledgerlou.domain.journal import reads as journal_reads
from ledgerlou.domain.receivables import open_items, settlements
from ledgerlou.domain.reconciliation import matching
from ledgerlou.errors import (
    AdjustmentAccountNotFound,
    BankTxMixedBankAccounts,
    DirectionMismatch,
    DomainError,
    GroupNotBalanced,
    InvalidInput,
    InvalidState,
    MixedSettlementCurrency,
    NotFound,
    SettledDocumentAmountRequired,
    SettlementExceedsOpenAmount,
    TargetKindUnsupported,
    TaxCodeNotFound,
    TransactionStatusChanged,
    UnsupportedSettlementCurrency,
)
from ledgerlou.models.journal import BookingRequest
from ledgerlou.models.reconciliation import MatchGroupIn
from ledgerlou.money import CENT, cents
from ledgerlou.store.bank import pages
from ledgerlou.store.base import now_iso
from ledgerlou.store.reconciliation import matches

FX_ACCOUNTS = {"skr03": {"gain": "2660", "loss": "2150"}, "skr04": {"gain": "4840", "loss": "6880"}}
ZERO = Decimal("0.00")


def _fx_account(ctx: Caller, which: str) -> str:
    return FX_ACCOUNTS.get(ctx.chart.lower(), FX_ACCOUNTS["skr03"])[which]


def create(ctx: Caller, body: MatchGroupIn, appender: ledger.Appender | None = None) -> dict[str, Any]:
    txs = _transactions(ctx, body)
    bank = bank_accounts.get_account(ctx.tenant_id, txs[0].tx["bank_account_id"])
    foreign = bank.currency != ctx.base_currency
    money_in = txs[0].amount > 0
    total = sum((t.amount for t in txs), ZERO)
    items, lines, fx_diff, stamps = _allocations(ctx, body, bank, money_in, total)
    if foreign:
        # adjustments in the account's currency, valued at the items' mean booked rate
        settled_fx = sum(stamps.values(), ZERO)
        settled_base = sum((ln[2] for ln in lines), ZERO)
        for line, amount in _adjustments(ctx, body, bank, (settled_base, settled_fx)):
            stamps[len(lines)] = amount
            lines.append(line)
    else:
        lines.extend(line for line, _amount in _adjustments(ctx, body, bank))
    if fx_diff:
        # money in: Σ settled (credit) above Σ received (debit) → the shortfall is a loss, else a gain;
        # money out the other way round
        loss = (fx_diff > 0) == money_in
        fx = _fx_account(ctx, "loss" if loss else "gain")
        lines.append((fx, bank.ledger_account, abs(fx_diff), None, "Kursdifferenz") if loss
                     else (bank.ledger_account, fx, abs(fx_diff), None, "Kursdifferenz"))
    # the bank side in the account's currency: the lines' own amounts (base), or their stamped USD
    net = sum((((stamps[k] if foreign else amount) * (1 if debit == bank.ledger_account else -1))
               for k, (debit, _credit, amount, _c, _d) in enumerate(lines)), ZERO)
    if net != total:
        cur = bank.currency
        raise GroupNotBalanced(
            f"The group's booking posts {_signed(net)} {cur} on the bank account {bank.ledger_account}; the "
            f"transactions sum to {_signed(total)} {cur}. Add adjustments for the difference of "
            f"{_signed(total - net)} {cur}.",
            details=[{"field": "adjustments", "issue": f"difference {_signed(total - net)} {cur}"}])
    mirror = any(tax for _d, _c, _a, tax, _t in lines)
    booking = BookingRequest.model_validate({
        "booking_date": max(t.tx["booking_date"] for t in txs), "skip_duplicate_check": True,
        "description": f"Bankabgleich Sammelzahlung ({len(txs)} Umsätze, {len(items)} Posten)",
        "lines": [{"account_debit": c if mirror else d, "account_credit": d if mirror else c, "amount": a,
                   "tax_code": tax, "description": text} for d, c, a, tax, text in lines],
        "custom_metadata": {"bank_transaction_ids": ",".join(t.id for t in txs)[:500]}})
    prepared = settlements.prepare(ctx, items, booking, "payment", mirror=mirror)
    group_id = str(uuid.uuid4())
    intent_id = matches.group_intent_id(ctx.tenant_id, group_id)
    group = matches.Group(group_id, bank.account_id, [t.id for t in txs], intent_id, "claimed",
                          {**body.model_dump(mode="json"), "claimed_at": time.time()}, now_iso())
    changes = []
    for t in txs:
        after = matches.Match(t.id, bank.account_id, t.match.version + 1, "matched", "group", intent_id,
                              group_id=group_id, updated_at=now_iso())
        changes.append(pages.StatusChange(t.where, "reconciled", "unreconciled",
                                          [matches.claim_op(ctx.tenant_id, t.match, after)]))
    changes[0].extra += [matches.group_op(ctx.tenant_id, group, None),
                         matches.link_op(ctx.tenant_id, intent_id, group.tx_ids, "group", bank.account_id)]
    try:
        pages.change_statuses(ctx.tenant_id, changes)
    except (pages.ExtraConditionFailed, pages.StatusMismatch):
        raise matching._lost(txs[0]) from None
    try:
        settlements.post(ctx, prepared, matching.SOURCE, appender, intent_id=intent_id,
                         annotate={"bank_match": {"tx_ids": group.tx_ids, "group_id": group_id}},
                         fx_lines={k: (bank.currency, a) for k, a in stamps.items()} if foreign else None)
    except DomainError:
        _release(ctx, group)
        raise
    matches.group_transition(ctx.tenant_id, replace(group, state="matched"), "claimed")
    return {"ok": True, "match_group_id": group_id, "intent_id": intent_id, "mode": "settlement"}


def _signed(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _transactions(ctx: Caller, body: MatchGroupIn) -> list[matching.Tx]:
    ids = [i.lower() for i in body.bank_transaction_ids]
    if len(set(ids)) != len(ids):
        raise InvalidInput.field("bank_transaction_ids", "a transaction is listed twice")
    txs = [matching.load(ctx, tx_id, f"bank_transaction_ids[{k}]") for k, tx_id in enumerate(ids)]
    accounts = {t.tx["bank_account_id"] for t in txs}
    if len(accounts) > 1:
        raise BankTxMixedBankAccounts("The transactions belong to more than one bank account.",
                                      details=[{"field": "bank_transaction_ids", "issue": "mixed bank accounts"}])
    for k, t in enumerate(txs):
        try:
            matching._require_open(t)
        except DomainError as ex:
            ex.details = [{"field": f"bank_transaction_ids[{k}]", "issue": "not unreconciled"}]
            raise
    if len({t.amount > 0 for t in txs}) > 1:
        raise DirectionMismatch("The transactions mix money in and money out; a group has one direction.",
                                details=[{"field": "bank_transaction_ids", "issue": "mixed directions"}])
    return txs


Line = tuple[str, str, Decimal, str | None, str | None]  # debit, credit, amount (base), tax code, text


def _allocations(ctx: Caller, body: MatchGroupIn, bank: Any, money_in: bool, total: Decimal
                 ) -> tuple[list[settlements.OpenItemAmount], list[Line], Decimal, dict[int, Decimal]]:
    """The allocation lines, the FX difference (base-currency account), and on a foreign-currency
    account each line's amount in its currency (line index → amount)."""
    allocated = sum((a.allocated_bank_amount for a in body.allocations), ZERO)
    foreign = bank.currency != ctx.base_currency
    if allocated != abs(total):
        raise GroupNotBalanced(f"The allocations give {_signed(allocated)} {bank.currency} of the transactions' "
                               f"{_signed(abs(total))} {bank.currency}.",
                               details=[{"field": "allocations",
                                         "issue": f"Σ allocated_bank_amount must be {_signed(abs(total))} "
                                                  f"{bank.currency}"}])
    stamps: dict[int, Decimal] = {}
    items: list[settlements.OpenItemAmount] = []
    lines: list[Line] = []
    currencies: set[str] = set()
    fx_diff = ZERO
    seen: set[str] = set()
    for k, a in enumerate(body.allocations):
        field = f"allocations[{k}]."
        side = matching.KINDS.get(a.candidate_kind)
        if side is None:
            raise TargetKindUnsupported(f"{field}candidate_kind {a.candidate_kind!r}: a group settles "
                                        "open_receivable or open_liability.",
                                        details=[{"field": f"{field}candidate_kind", "issue": "unsupported"}])
        intent_id = a.intent_id.lower()
        if intent_id in seen:
            raise InvalidInput.field(f"{field}intent_id", "the open item is allocated twice")
        seen.add(intent_id)
        state = matching.open_item(ctx, side, a.candidate_kind, intent_id, a.open_item_account, field)
        if matching.money_in_closes(side, state) != money_in:
            raise DirectionMismatch(f"{field}: money {'in' if money_in else 'out'} cannot settle "
                                    f"{state['invoice_number']} ({a.candidate_kind}, {state['type']}).",
                                    details=[{"field": f"{field}candidate_kind", "issue": "direction does not fit"}])
        currency = state["currency"]
        currencies.add(currency)
        if len(currencies) > 1:
            raise MixedSettlementCurrency(f"The open items are in {', '.join(sorted(currencies))}; a group "
                                          "settles one currency.",
                                          details=[{"field": f"{field}intent_id", "issue": f"in {currency}"}])
        if foreign and currency != bank.currency:
            raise UnsupportedSettlementCurrency(
                f"{field}intent_id: invoice {state['invoice_number']} is in {currency}; a match group on the "
                f"{bank.currency} bank account {bank.ledger_account} settles {bank.currency} open items only (the "
                f"{ctx.base_currency} value of the {bank.currency} paid would need the bank's rate of the day).",
                details=[{"field": f"{field}intent_id", "issue": f"open item in {currency}, "
                                                                 f"bank account in {bank.currency}"}])
        if currency != bank.currency and a.settled_document_amount is None:
            raise SettledDocumentAmountRequired(
                f"{field}settled_document_amount: required, invoice {state['invoice_number']} is in {currency} and "
                f"the bank account in {bank.currency}: give the {currency} amount the "
                f"{_signed(a.allocated_bank_amount)} {bank.currency} settle.",
                details=[{"field": f"{field}settled_document_amount", "issue": f"required for {currency}"}])
        settled = a.settled_document_amount if a.settled_document_amount is not None else a.allocated_bank_amount
        left = open_items.unsigned_remaining(state)
        if settled > left:
            raise SettlementExceedsOpenAmount(f"{field}: invoice {state['invoice_number']} has {_signed(left)} "
                                              f"{currency} open; {_signed(settled)} {currency} exceed it.",
                                              details=[{"field": f"{field}settled_document_amount",
                                                        "issue": f"exceeds the open {_signed(left)} {currency}"}])
        base = settled if currency == ctx.base_currency else cents(
            settled * Decimal(state["base_total"]) / Decimal(state["total_gross"]))
        if currency != ctx.base_currency and not foreign:
            fx_diff += base - a.allocated_bank_amount
        items.append(settlements.OpenItemAmount(side.code, state["id"], settled, base))
        text = f"Bankabgleich {state['invoice_number']}"
        if foreign:
            stamps[len(lines)] = settled
        lines.append((bank.ledger_account, a.open_item_account, base, None, text) if money_in
                     else (a.open_item_account, bank.ledger_account, base, None, text))
    return items, lines, fx_diff, stamps


def _adjustments(ctx: Caller, body: MatchGroupIn, bank: Any, rate: tuple[Decimal, Decimal] | None = None
                 ) -> list[tuple[Line, Decimal]]:
    """(line, amount as given) of each adjustment. ``rate`` (Σ base, Σ foreign) on a foreign-currency
    account: the amounts are in its currency, the lines in base at that mean rate."""
    lines: list[tuple[Line, Decimal]] = []
    for k, adj in enumerate(body.adjustments):
        field = f"adjustments[{k}]."
        if rate is not None and adj.tax_code is not None:
            raise InvalidInput.field(f"{field}tax_code", f"a VAT correction is booked in {ctx.base_currency}; on the "
                                     f"{bank.currency} bank account a group's adjustments carry no tax code")
        acc = chart_accounts.find(ctx.tenant_id, ctx.chart, adj.account_number)
        if acc is None or not acc.is_active:
            raise AdjustmentAccountNotFound(
                f"{field}account_number: account {adj.account_number} does not exist"
                f"{'' if acc is None else ' or is inactive'}.",
                details=[{"field": f"{field}account_number", "issue": "no such active account"}])
        if adj.tax_code is not None:
            lookup = journal_booking._Accounts(ctx)
            code = lookup.tax_code(adj.tax_code)
            if code is None or not code.is_active:
                raise TaxCodeNotFound(f"{field}tax_code: tax code {adj.tax_code} does not exist or is inactive.",
                                      details=[{"field": f"{field}tax_code", "issue": "unknown or inactive tax code"}])
        text = adj.description or "Ausgleichsbuchung"
        amount = adj.amount
        if rate is not None:
            amount = cents(adj.amount * rate[0] / rate[1]) if rate[1] else ZERO
            if amount <= 0:
                raise InvalidInput.field(f"{field}amount", f"{_signed(adj.amount)} {bank.currency} is zero in "
                                         f"{ctx.base_currency} at the open items' rate")
        if adj.posting_side == "debit":
            lines.append(((acc.number, bank.ledger_account, amount, adj.tax_code, text), adj.amount))
        else:
            lines.append(((bank.ledger_account, acc.number, amount, adj.tax_code, text), adj.amount))
    return lines


# ------------------------------------------------------------------------------------- recovery and unmatch
def _members(ctx: Caller, group: matches.Group) -> list[matching.Tx]:
    out = []
    for tx_id in group.tx_ids:
        where = pages.locate(ctx.tenant_id, tx_id)
        tx = pages.get_at(ctx.tenant_id, where) if where else None
        if where is None or tx is None:
            raise NotFound(f"Bank transaction {tx_id} of match group {group.group_id} not found.")
        out.append(matching.Tx(tx, where, matches.get_match(ctx.tenant_id, tx_id) or matching._blank(tx)))
    return out


def _release(ctx: Caller, group: matches.Group, to_state: str = "released", expected: str = "claimed",
             reversal_intent_id: str | None = None) -> None:
    """Every transaction of the group unreconciled again, the group record ``to_state``, its intent
    given up — one transaction."""
    changes = []
    for t in _members(ctx, group):
        cleared = replace(t.match, state="none", mode=None, intent_id=None, group_id=None, updated_at=now_iso(),
                          reversal_intent_id=reversal_intent_id)
        if t.match.group_id == group.group_id and t.match.state == "matched":
            changes.append(pages.StatusChange(t.where, "unreconciled", "reconciled",
                                              [matches.claim_op(ctx.tenant_id, t.match, cleared)]))
    done = replace(group, state=to_state, reversal_intent_id=reversal_intent_id)
    ops = [matches.group_op(ctx.tenant_id, done, expected), matches.unlink_op(ctx.tenant_id, group.intent_id)]
    if changes:
        changes[0].extra += ops
        pages.change_statuses(ctx.tenant_id, changes)
    else:
        matches.group_transition(ctx.tenant_id, done, expected)


def resolve(ctx: Caller, group_id: str) -> None:
    """Finish or release a group a request that died left ``claimed`` or ``unmatching``."""
    group = matches.get_group(ctx.tenant_id, group_id)
    if group is None:
        return
    try:
        if group.state == "claimed":
            if journal_reads.find_intent(ctx.tenant_id, group.intent_id) is not None:
                matches.group_transition(ctx.tenant_id, replace(group, state="matched"), "claimed")
            elif time.time() - float(group.body.get("claimed_at", 0)) > matching.STALE_CLAIM_S:
                _release(ctx, group)
        elif group.state == "unmatching":
            _finish_unmatch(ctx, group)
    except (pages.ExtraConditionFailed, pages.StatusMismatch):
        pass  # resolved by someone else meanwhile


def unmatch(ctx: Caller, group_id: str) -> dict[str, Any]:
    group = matches.get_group(ctx.tenant_id, group_id.lower())
    if group is None:
        raise NotFound("Match group not found.")
    if group.state in ("claimed", "unmatching"):
        resolve(ctx, group.group_id)
        group = matches.get_group(ctx.tenant_id, group.group_id) or group
    if group.state == "unmatched" and group.reversal_intent_id:
        raise InvalidState(f"Match group {group.group_id} is unmatched already (Storno {group.reversal_intent_id}).")
    if group.state != "matched":
        raise InvalidState(f"Match group {group.group_id} is {group.state}; only a matched group can be unmatched.")
    unmatching = replace(group, state="unmatching")
    if not matches.group_transition(ctx.tenant_id, unmatching, "matched"):
        raise TransactionStatusChanged(f"Match group {group.group_id} changed meanwhile; retry.")
    reversal_id = _finish_unmatch(ctx, unmatching)
    return {"ok": True, "match_group_id": group.group_id, "status": "unmatched", "reversal_intent_id": reversal_id}


def _finish_unmatch(ctx: Caller, group: matches.Group) -> str:
    reversal_id = matching.storno(ctx, group.intent_id, "Sammelabstimmung aufgehoben")
    try:
        _release(ctx, group, "unmatched", "unmatching", reversal_id)
    except (pages.ExtraConditionFailed, pages.StatusMismatch):
        pass  # finished by another request a moment ago
    return reversal_id
