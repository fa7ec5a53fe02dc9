"""The settlement record (domain/receivables/settlements.settle), the function reconciliation, match
groups and payment runs call: partial, full, refused beyond the open amount (also when two race),
reopened by a reversal, shown both ways in the audit view."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.receivables.test_customers import customer
from tests.integration.receivables.test_outgoing_invoices import create, head, invoice_body


@pytest.fixture
def ctx(tenant: Any) -> Any:
    from ledgerlou.domain.admin import api_keys

    return api_keys.authenticate(tenant.admin_key)


def payment(amount: str, credit: str = "1400", debit: str = "1200", date: str = "2026-02-01") -> Any:
    from ledgerlou.models.journal import BookingRequest

    return BookingRequest.model_validate({
        "booking_date": date, "description": f"Zahlungseingang {amount}", "skip_duplicate_check": True,
        "lines": [{"account_debit": debit, "account_credit": credit, "amount": amount}]})


def settle(ctx: Any, invoice_id: str, amount: str, booking: Any = None, side: str = "AR") -> str:
    from ledgerlou.domain.journal import projector
    from ledgerlou.domain.receivables import settlements

    intent = settlements.settle(ctx, [settlements.OpenItemAmount(side, invoice_id, Decimal(amount))],
                                booking or payment(amount), source="bank_reconciliation")
    projector.project_through(ctx.tenant_id)
    return intent


@pytest.fixture
def invoice(client: Any) -> dict[str, Any]:
    kunde = customer(client, default_account="8400")
    return {**create(client, invoice_body(kunde["id"])), "customer_id": kunde["id"]}


def test_given_an_open_invoice_when_settled_in_part_then_partially_paid_and_linked_both_ways(
        client: Any, ctx: Any, invoice: dict[str, Any]) -> None:
    intent = settle(ctx, invoice["id"], "50.00")
    got = client.get(f"/v1/outgoing-invoices/{invoice['id']}").json()
    assert got["status"] == "partially_paid" and got["remaining_amount"] == Decimal("69.00")
    assert got["settlements"] == [{"intent_id": intent, "amount": Decimal("50.00"), "date": "2026-02-01",
                                   "kind": "payment"}]
    assert client.get(f"/v1/customers/{invoice['customer_id']}").json()["open_amount"] == Decimal("69.00")
    assert client.get("/v1/outgoing-invoices/open-items").json()[0]["remaining_amount"] == Decimal("69.00")
    view = client.get(f"/v1/journal/{intent}").json()
    assert view["linked_intents"] == {"settles_intent_ids": [invoice["intent_id"]], "settlement_intent_ids": []}
    assert view["summary"]["external_reference"] == "RE-2026-001"  # DATEV's Belegfeld 1 finds the open item
    assert client.get(f"/v1/journal/{invoice['intent_id']}").json()["linked_intents"] == {
        "settles_intent_ids": [], "settlement_intent_ids": [intent]}


def test_given_the_rest_when_settled_then_paid_and_no_open_item(client: Any, ctx: Any,
                                                                 invoice: dict[str, Any]) -> None:
    settle(ctx, invoice["id"], "50.00")
    settle(ctx, invoice["id"], "69.00")
    got = client.get(f"/v1/outgoing-invoices/{invoice['id']}").json()
    assert got["status"] == "paid" and got["remaining_amount"] == 0 and got["days_overdue"] == 0
    assert client.get("/v1/outgoing-invoices/open-items").json() == []
    assert client.get("/v1/outgoing-invoices/open-items").headers["x-total-count"] == "0"
    assert client.get(f"/v1/customers/{invoice['customer_id']}").json()["open_amount"] == 0
    assert [r["id"] for r in client.get("/v1/outgoing-invoices?status=paid").json()] == [invoice["id"]]


def test_given_more_than_the_open_amount_then_refused_and_the_chain_is_untouched(
        client: Any, ctx: Any, invoice: dict[str, Any]) -> None:
    from ledgerlou.errors import DomainError

    settle(ctx, invoice["id"], "100.00")
    before = head(client)
    with pytest.raises(DomainError) as refused:
        settle(ctx, invoice["id"], "19.01")
    assert (refused.value.status, refused.value.code) == (400, "SETTLEMENT_EXCEEDS_OPEN_AMOUNT")
    with pytest.raises(DomainError) as mismatch:
        settle(ctx, invoice["id"], "10.00", booking=payment("11.00"))
    assert mismatch.value.code == "SETTLEMENT_AMOUNT_MISMATCH"
    with pytest.raises(DomainError) as wrong_side:
        settle(ctx, invoice["id"], "10.00", booking=payment("10.00", credit="1200", debit="1400"))
    assert wrong_side.value.code == "SETTLEMENT_AMOUNT_MISMATCH"
    assert head(client) == before
    assert client.get(f"/v1/outgoing-invoices/{invoice['id']}").json()["remaining_amount"] == Decimal("19.00")


def test_given_two_settlements_racing_for_the_same_open_amount_then_exactly_one_is_booked(
        client: Any, ctx: Any, invoice: dict[str, Any]) -> None:
    from ledgerlou.domain.receivables import settlements
    from ledgerlou.errors import DomainError

    results: list[str] = []

    def pay(i: int) -> None:
        try:
            settlements.settle(ctx, [settlements.OpenItemAmount("AR", invoice["id"], Decimal("100.00"))],
                               payment("100.00", date=f"2026-02-0{i + 1}"))
            results.append("booked")
        except DomainError as ex:
            results.append(ex.code)

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["SETTLEMENT_EXCEEDS_OPEN_AMOUNT"] * 2 + ["booked"]
    got = client.get(f"/v1/outgoing-invoices/{invoice['id']}").json()  # unprojected: read from the tail
    assert got["remaining_amount"] == Decimal("19.00")


def test_given_a_settlement_when_reversed_then_the_item_reopens(client: Any, ctx: Any,
                                                               invoice: dict[str, Any]) -> None:
    intent = settle(ctx, invoice["id"], "119.00")
    assert client.get(f"/v1/outgoing-invoices/{invoice['id']}").json()["status"] == "paid"
    rev = client.post("/v1/journal/reverse", {"intent_id": intent, "reason": "Fehlbuchung",
                                              "posting_mode": "original_date"})
    assert rev.status == 201, rev.body
    got = client.get(f"/v1/outgoing-invoices/{invoice['id']}").json()
    assert got["status"] == "open" and got["remaining_amount"] == Decimal("119.00") and got["settlements"] == []
    assert [r["invoice_id"] for r in client.get("/v1/outgoing-invoices/open-items").json()] == [invoice["id"]]
    assert client.get(f"/v1/customers/{invoice['customer_id']}").json()["open_amount"] == Decimal("119.00")
    assert client.get(f"/v1/journal/{invoice['intent_id']}").json()["linked_intents"]["settlement_intent_ids"] == []


def test_given_one_payment_for_two_invoices_then_both_are_settled_by_one_intent(client: Any, ctx: Any) -> None:
    from ledgerlou.domain.journal import projector
    from ledgerlou.domain.receivables import settlements

    kunde = customer(client, default_account="8400")
    a, b = (create(client, invoice_body(kunde["id"], n)) for n in ("A-1", "A-2"))
    intent = settlements.settle(ctx, [settlements.OpenItemAmount("AR", a["id"], Decimal("119.00")),
                                      settlements.OpenItemAmount("AR", b["id"], Decimal("19.00"))],
                                payment("138.00"), kind="payment_run")
    projector.project_through(ctx.tenant_id)
    assert client.get(f"/v1/outgoing-invoices/{a['id']}").json()["status"] == "paid"
    assert client.get(f"/v1/outgoing-invoices/{b['id']}").json()["remaining_amount"] == Decimal("100.00")
    assert client.get(f"/v1/journal/{intent}").json()["linked_intents"]["settles_intent_ids"] == [
        a["intent_id"], b["intent_id"]]
    assert client.get(f"/v1/customers/{kunde['id']}").json()["open_amount"] == Decimal("100.00")


def test_given_a_cancelled_invoice_then_it_cannot_be_settled(client: Any, ctx: Any, invoice: dict[str, Any]) -> None:
    from ledgerlou.errors import DomainError

    client.post("/v1/journal/reverse", {"intent_id": invoice["intent_id"], "reason": "x",
                                        "posting_mode": "original_date"})
    with pytest.raises(DomainError) as refused:
        settle(ctx, invoice["id"], "1.00")
    assert (refused.value.status, refused.value.code) == (409, "INVOICE_CANCELLED")


def test_given_the_projector_runs_a_block_twice_then_nothing_is_counted_twice(
        client: Any, ctx: Any, invoice: dict[str, Any]) -> None:
    from ledgerlou.domain.receivables import projection
    from ledgerlou.store.journal import blocks as journal_store

    settle(ctx, invoice["id"], "19.00")
    last = journal_store.get_watermark(ctx.tenant_id)
    for seq in range(1, last + 1):  # a replay of every block (a retried stream batch)
        block = journal_store.get_block(ctx.tenant_id, seq)
        assert block is not None
        projection.apply_block(ctx.tenant_id, block)
    assert client.get(f"/v1/customers/{invoice['customer_id']}").json()["open_amount"] == Decimal("100.00")
    items = client.get("/v1/outgoing-invoices/open-items")
    assert items.headers["x-total-count"] == "1" and items.json()[0]["remaining_amount"] == Decimal("100.00")
    assert len(client.get(f"/v1/outgoing-invoices/{invoice['id']}").json()["settlements"]) == 1


def test_given_a_crash_after_one_partners_sum_when_the_block_is_projected_again_then_each_partner_counts_it_once(
        client: Any, ctx: Any) -> None:
    """The partners' sums of a block go in one transaction (store/receivables/partners.apply_open_deltas):
    a partner that took the block before a crash refuses it again, and that refusal must not cost the
    other partners of the same transaction their share."""
    from ledgerlou.domain.journal import projector
    from ledgerlou.domain.receivables import settlements
    from ledgerlou.store.journal import blocks as journal_store
    from ledgerlou.store.receivables import partners as partner_store

    # Given two customers with an open invoice each, one payment settling both, not yet projected
    first, second = customer(client, default_account="8400"), customer(client, name="Zweite Handel GmbH")
    one = create(client, invoice_body(first["id"]))
    two = create(client, invoice_body(second["id"], number="RE-2026-002"))
    settlements.settle(ctx, [settlements.OpenItemAmount("AR", one["id"], Decimal("19.00")),
                             settlements.OpenItemAmount("AR", two["id"], Decimal("19.00"))],
                       payment("38.00"), source="bank_reconciliation")
    seq = journal_store.get_watermark(ctx.tenant_id) + 1
    assert journal_store.get_block(ctx.tenant_id, seq) is not None
    # and a projector that crashed after the first customer's sum had taken the block
    partner_store.apply_open_deltas(ctx.tenant_id, {("AR", first["id"]): Decimal("-19.00")}, seq)

    # When the block is projected (the retry)
    projector.project_through(ctx.tenant_id)

    # Then each customer has the payment taken off once
    assert client.get(f"/v1/customers/{first['id']}").json()["open_amount"] == Decimal("100.00")
    assert client.get(f"/v1/customers/{second['id']}").json()["open_amount"] == Decimal("100.00")
    items = client.get("/v1/outgoing-invoices/open-items")
    assert items.headers["x-total-count"] == "2"
    assert {i["remaining_amount"] for i in items.json()} == {Decimal("100.00")}
