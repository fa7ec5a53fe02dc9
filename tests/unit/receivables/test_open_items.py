"""The open-item fold and the invoice arithmetic, without AWS: events → state → figures; lines → tax
per tax code → amounts to book."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from ledgerlou.domain.receivables import open_items
from ledgerlou.domain.receivables.invoices import _allocate, check_totals, price
from ledgerlou.domain.receivables.sides import PAYABLES, RECEIVABLES
from ledgerlou.errors import DomainError


def record(**fields: Any) -> dict[str, Any]:
    return {"id": "inv-1", "side": "AR", "type": "invoice", "partner_id": "p-1", "partner_name": "Kunde",
            "partner_number": "10000", "number_scope": None, "invoice_number": "RE-1", "invoice_date": "2026-01-15",
            "due_date": "2026-02-14", "currency": "EUR", "exchange_rate": None, "total_net": "100.00",
            "total_tax": "19.00", "total_gross": "119.00", "base_total": "119.00", "lines": [], "intent_id": "i-1",
            "open_item_account": "1400", "document_id": None, "notes": None, "created_at": "t", **fields}


def opened(**fields: Any) -> dict[str, Any]:
    state = open_items.reduce(None, {"type": "open", "invoice": record(**fields)})
    assert state is not None
    return state


def settle(intent: str, amount: str, base: str | None = None) -> dict[str, Any]:
    return {"type": "settle", "intent_id": intent, "amount": amount, "base_amount": base or amount,
            "date": "2026-02-01", "kind": "payment"}


def test_given_an_opened_invoice_then_it_is_open_with_its_gross_remaining() -> None:
    state = opened()
    assert open_items.status(state) == "open" and open_items.remaining(state) == Decimal("119.00")
    assert open_items.open_base(state) == Decimal("119.00") and open_items.is_open(state)
    assert open_items.reduce(state, {"type": "open", "invoice": record(total_gross="1.00")}) is state  # replay


def test_given_settlements_then_partially_paid_then_paid_and_a_reversal_reopens() -> None:
    state = open_items.reduce_all(opened(), [settle("s-1", "50.00")])
    assert state is not None and open_items.status(state) == "partially_paid"
    assert open_items.remaining(state) == Decimal("69.00")
    state = open_items.reduce_all(state, [settle("s-2", "69.00")])
    assert state is not None and open_items.status(state) == "paid" and not open_items.is_open(state)
    assert open_items.days_overdue(state, dt.date(2026, 12, 31)) == 0
    state = open_items.reduce(state, {"type": "unsettle", "intent_id": "s-1", "reversal_intent_id": "r-1"})
    assert state is not None and open_items.remaining(state) == Decimal("50.00")
    assert [s["intent_id"] for s in open_items.active_settlements(state)] == ["s-2"]


def test_given_a_reversal_of_its_booking_then_cancelled_and_a_relink_opens_it_again() -> None:
    state = open_items.reduce_all(opened(), [settle("s-1", "19.00"),
                                            {"type": "cancel", "intent_id": "other", "reversal_intent_id": "x"}])
    assert state is not None and open_items.status(state) == "partially_paid"  # not its booking
    state = open_items.reduce(state, {"type": "cancel", "intent_id": "i-1", "reversal_intent_id": "r-1"})
    assert state is not None and open_items.status(state) == "cancelled"
    assert open_items.remaining(state) == 0 and open_items.open_base(state) == 0
    state = open_items.reduce(state, {"type": "relink", "intent_id": "i-2", "open_item_account": "1410",
                                      "base_total": "119.00"})
    assert state is not None and open_items.status(state) == "partially_paid"
    assert state["intent_id"] == "i-2" and open_items.remaining(state) == Decimal("100.00")


def test_given_a_credit_note_then_its_remaining_and_open_base_are_negative() -> None:
    state = opened(type="credit_note", total_gross="59.50", base_total="59.50")
    assert open_items.remaining(state) == Decimal("-59.50") and open_items.open_base(state) == Decimal("-59.50")


def test_given_a_foreign_currency_invoice_then_the_base_part_follows_the_settlements_base_amounts() -> None:
    state = open_items.reduce(opened(currency="USD", base_total="108.18"), settle("s-1", "59.50", "54.00"))
    assert state is not None
    assert open_items.remaining(state) == Decimal("59.50") and open_items.open_base(state) == Decimal("54.18")


def test_given_due_dates_then_days_overdue_counts_from_the_due_date() -> None:
    state = opened()
    assert open_items.days_overdue(state, dt.date(2026, 2, 14)) == 0
    assert open_items.days_overdue(state, dt.date(2026, 2, 24)) == 10
    assert open_items.days_overdue(state, dt.date(2026, 1, 1)) == 0


def test_given_events_before_the_invoice_then_they_are_ignored() -> None:
    assert open_items.reduce(None, settle("s", "1.00")) is None


# ------------------------------------------------------------------------------------- arithmetic
@dataclass(frozen=True)
class Acc:
    number: str
    category: str = "revenue"


@dataclass(frozen=True)
class Code:
    rate: str
    direction: str
    self_assess_account: str | None = None
    is_active: bool = True


class Lookup:
    codes: ClassVar[dict[str, Code]] = {"USt19": Code("19", "output"), "USt7": Code("7", "output"),
                                        "VSt19": Code("19", "input"), "RC19": Code("19", "input", "1787")}

    def require(self, number: str, field: str) -> Acc:
        return Acc(number, "receivable" if number == "1400" else "revenue")

    def tax_code(self, code: str) -> Code | None:
        return self.codes.get(code)


def body(lines: list[dict[str, Any]], **totals: str) -> Any:
    from ledgerlou.models.receivables import OutgoingInvoiceIn

    return OutgoingInvoiceIn.model_validate({
        "customer_id": "00000000-0000-4000-8000-000000000001", "invoice_number": "1", "invoice_date": "2026-01-15",
        "total_net": "0", "total_tax": "0", "total_gross": "0", "lines": lines, **totals})


def test_given_lines_then_tax_is_rounded_per_tax_code_and_spread_over_accounts_to_the_cent() -> None:
    priced = price(None, RECEIVABLES, body([  # type: ignore[arg-type]
        {"net_amount": "10.03", "tax_code": "USt19", "account": "8400"},
        {"net_amount": "10.03", "tax_code": "USt19", "account": "8300"},
        {"quantity": "3", "unit_price": "3.33", "tax_code": "USt7", "account": "8300"},
        {"net_amount": "5.00", "account": "8200"}]), None, Lookup())
    assert (priced.total_net, priced.total_tax) == (Decimal("35.05"), Decimal("4.51"))  # 3.81 + 0.70
    assert priced.groups == [("8400", "USt19", Decimal("11.94")), ("8300", "USt19", Decimal("11.93")),
                             ("8300", "USt7", Decimal("10.69")), ("8200", None, Decimal("5.00"))]
    assert sum(g[2] for g in priced.groups) == priced.total_net + priced.total_tax


def test_given_reverse_charge_then_the_invoice_carries_no_tax_and_books_the_net() -> None:
    priced = price(None, PAYABLES, body([{"net_amount": "100.00", "tax_code": "RC19", "account": "4930"}]),  # type: ignore[arg-type]
                   None, Lookup())
    assert priced.total_tax == 0 and priced.groups == [("4930", "RC19", Decimal("100.00"))]


@pytest.mark.parametrize(("line", "field"), [
    ({"net_amount": "1.00", "tax_code": "VSt19", "account": "8400"}, "lines[0].tax_code"),
    ({"net_amount": "1.00", "account": "1400"}, "lines[0].account"),
    ({"net_amount": "1.00"}, "lines[0].account"),
    ({"net_amount": "-1.00", "account": "8400"}, "lines[0].net_amount"),
])
def test_given_a_bad_line_then_400_naming_it(line: dict[str, Any], field: str) -> None:
    with pytest.raises(DomainError) as refused:
        price(None, RECEIVABLES, body([line]), None, Lookup())  # type: ignore[arg-type]
    assert refused.value.status == 400 and refused.value.details[0]["field"] == field


def test_given_totals_then_each_wrong_one_is_named() -> None:
    check_totals(body([], total_net="100.00", total_tax="19.00", total_gross="119.00", intent_id=
                      "00000000-0000-4000-8000-000000000002"), Decimal("100.00"), Decimal("19.00"))
    with pytest.raises(DomainError) as refused:
        check_totals(body([], total_net="100.00", total_tax="19.00", total_gross="118.00",
                          intent_id="00000000-0000-4000-8000-000000000002"), Decimal("100.00"), Decimal("19.00"))
    assert refused.value.code == "TOTALS_MISMATCH" and [d["field"] for d in refused.value.details] == ["total_gross"]


def test_given_a_rounded_total_then_allocation_gives_the_cents_to_the_largest_remainders() -> None:
    shares = _allocate(Decimal("3.81"), [Decimal("1.9057"), Decimal("1.9057")])
    assert shares == [Decimal("1.91"), Decimal("1.90")] and sum(shares) == Decimal("3.81")
    assert _allocate(Decimal("1.00"), [Decimal("0.333"), Decimal("0.333"), Decimal("0.334")]) == [
        Decimal("0.33"), Decimal("0.33"), Decimal("0.34")]


def test_given_the_sides_then_datev_number_ranges_and_accounts() -> None:
    assert (RECEIVABLES.first_number, RECEIVABLES.last_number) == (10000, 69999)
    assert (PAYABLES.first_number, PAYABLES.last_number) == (70000, 99999)
    assert RECEIVABLES.open_item_account == {"skr03": "1400", "skr04": "1200"}
    assert PAYABLES.open_item_account == {"skr03": "1600", "skr04": "3300"}
