"""GET /v1/bank-transactions/suggestions through the API: open receivables for money in, open
liabilities for money out, existing bookings on the bank's ledger account; the candidate index the
projector keeps as open items are settled; fit rules, paging, auth and tenancy."""

from __future__ import annotations

from decimal import Decimal
from decimal import Decimal as D
from typing import Any

import pytest

from tests.integration.bank.support import create_account, row
from tests.integration.receivables.test_customers import customer
from tests.integration.receivables.test_outgoing_invoices import create, invoice_body

PAYER_IBAN = "DE02120300000000202051"


def project(tenant_id: str) -> None:
    from ledgerlou.domain.journal import projector

    projector.project_through(tenant_id)


def tenant_of(client: Any) -> str:
    from ledgerlou.domain.admin import api_keys

    return api_keys.authenticate(client.token).tenant_id  # type: ignore[no-any-return]


def import_rows(client: Any, account_id: str, *rows: dict[str, Any]) -> list[str]:
    resp = client.post("/v1/bank-transactions", {"bank_account_id": account_id, "transactions": list(rows)})
    assert resp.status == 201, resp.body
    txs = client.get(f"/v1/bank-transactions?bank_account_id={account_id}&limit=500").json()["transactions"]
    return [t["id"] for t in sorted(txs, key=lambda t: (t["booking_date"], t["id"]))]


def suggestions(client: Any, account_id: str, **query: Any) -> Any:
    params = "&".join(f"{k}={v}" for k, v in {"bank_account_id": account_id, **query}.items())
    return client.get(f"/v1/bank-transactions/suggestions?{params}")


def by_tx(resp: Any) -> dict[str, list[dict[str, Any]]]:
    assert resp.status == 200, resp.body
    return {e["bank_transaction_id"]: e["candidates"] for e in resp.json()}


@pytest.fixture
def setup(client: Any) -> dict[str, Any]:
    kunde = customer(client, name="Müller Maschinenbau GmbH", iban=PAYER_IBAN, default_account="8400")
    other = customer(client, name="Schulze Logistik KG", default_account="8400")
    first = create(client, invoice_body(kunde["id"], "RE-2026-0042"))
    second = create(client, invoice_body(other["id"], "RE-2026-0043", total_net="200.00", total_tax="38.00",
                                         total_gross="238.00", lines=[{"description": "x", "quantity": "1",
                                                                      "unit_price": "200.00", "tax_code": "USt19",
                                                                      "account": "8400"}]))
    project(tenant_of(client))
    return {"account": create_account(client), "kunde": kunde, "other": other, "first": first, "second": second}


def test_given_a_payment_naming_the_invoice_from_the_partners_iban_then_it_is_the_best_candidate_with_its_reasons(
        client: Any, setup: dict[str, Any]) -> None:
    # Given an open invoice RE-2026-0042 of 119.00 and a payment of it from the customer's IBAN
    [tx] = import_rows(client, setup["account"]["id"], row(
        booking_date="2026-01-20", amount="119.00", counterparty_name="Mueller Maschinenbau",
        counterparty_iban=PAYER_IBAN, purpose="RE 2026-0042"))
    # When the suggestions are read
    resp = suggestions(client, setup["account"]["id"])
    # Then the invoice is the first candidate with every reason, and X-Total-Count counts the open transactions
    [best, *_rest] = by_tx(resp)[tx]
    assert resp.headers.get("x-total-count") == "1"
    assert (best["candidate_kind"], best["invoice_id"], best["intent_id"], best["open_item_account"]) == \
        ("open_receivable", setup["first"]["id"], setup["first"]["intent_id"], "1400")
    assert (best["invoice_number"], best["partner_id"], best["partner_name"]) == \
        ("RE-2026-0042", setup["kunde"]["id"], "Müller Maschinenbau GmbH")
    assert (best["amount"], best["remaining_amount"]) == (Decimal("119.00"), Decimal("119.00"))
    assert best["reasons"] == ["invoice_number_in_purpose", "iban_matches_partner", "amount_exact", "name_similar",
                               "date_window"]
    assert 0.9 < best["confidence"] <= 1


def test_given_an_amount_over_the_remaining_or_money_out_then_no_open_receivable_is_suggested(
        client: Any, setup: dict[str, Any]) -> None:
    # Given a payment of more than the invoice's remaining amount, and money out naming it
    over, out = import_rows(client, setup["account"]["id"],
                            row(booking_date="2026-01-20", amount="120.00", purpose="RE 2026-0042"),
                            row(booking_date="2026-01-21", amount="-119.00", purpose="RE 2026-0042"))
    got = by_tx(suggestions(client, setup["account"]["id"]))
    # Then neither gets the invoice (money out is matched to liabilities only)
    assert setup["first"]["id"] not in [c["invoice_id"] for c in got.get(over, [])]
    assert setup["first"]["id"] not in [c["invoice_id"] for c in got.get(out, [])]


def test_given_skonto_deducted_then_amount_within_skonto(client: Any, setup: dict[str, Any]) -> None:
    # 238.00 − 2 % (4.76) = 233.24, paid within the discount period
    [tx] = import_rows(client, setup["account"]["id"], row(
        booking_date="2026-01-22", amount="233.24", counterparty_name="Schulze Logistik",
        purpose="Kd-Nr 10002 RG 2026-0043 abzgl. 2% Skonto"))
    [best, *_] = by_tx(suggestions(client, setup["account"]["id"]))[tx]
    assert best["invoice_id"] == setup["second"]["id"]
    assert "amount_within_skonto" in best["reasons"] and "invoice_number_in_purpose" in best["reasons"]


def test_given_a_partial_settlement_then_the_index_follows_the_remaining_amount(
        client: Any, setup: dict[str, Any]) -> None:
    from tests.integration.receivables.test_settlements import payment, settle

    ctx = _ctx(client)
    # Given 19.00 of the 119.00 settled already
    settle(ctx, setup["first"]["id"], "19.00", payment("19.00"))
    # When 100.00 arrive without a reference from an unknown payer
    [tx] = import_rows(client, setup["account"]["id"], row(booking_date="2026-01-25", amount="100.00",
                                                           purpose="Zahlung"))
    [best] = by_tx(suggestions(client, setup["account"]["id"]))[tx]
    # Then the invoice is found by its new remaining amount alone
    assert (best["invoice_id"], best["remaining_amount"], best["reasons"]) == \
        (setup["first"]["id"], Decimal("100.00"), ["amount_exact", "date_window"])
    # and once it is paid in full (a settlement booked on 1200 by hand) it is no candidate any more: the
    # settling booking is (no bank transaction claimed it)
    paid = settle(ctx, setup["first"]["id"], "100.00", payment("100.00", date="2026-01-25"))
    [only] = by_tx(suggestions(client, setup["account"]["id"]))[tx]
    assert (only["candidate_kind"], only["intent_id"]) == ("booking", paid)


def test_given_a_settlement_the_projector_has_not_reached_then_the_suggestion_already_knows_it(
        client: Any, setup: dict[str, Any]) -> None:
    from ledgerlou.domain.receivables import settlements

    from tests.integration.receivables.test_settlements import payment

    [tx] = import_rows(client, setup["account"]["id"], row(booking_date="2026-01-25", amount="119.00",
                                                           purpose="RE 2026-0042"))
    assert by_tx(suggestions(client, setup["account"]["id"]))[tx][0]["invoice_id"] == setup["first"]["id"]
    # Given 19.00 of the 119.00 settled in a block not projected yet (no request ran the stream since)
    settlements.settle(_ctx(client), [settlements.OpenItemAmount("AR", setup["first"]["id"], D("19.00"))],
                       payment("19.00"), source="bank_reconciliation")
    from ledgerlou.domain.journal import reads

    assert reads.tail(tenant_of(client)).blocks
    got = by_tx(suggestions(client, setup["account"]["id"])).get(tx, [])
    # Then 119.00 no longer fits the invoice (100.00 open), whatever the index still holds
    assert setup["first"]["id"] not in [c["invoice_id"] for c in got]


def _ctx(client: Any) -> Any:
    from ledgerlou.domain.admin import api_keys

    return api_keys.authenticate(client.token)


def test_given_a_booking_on_the_bank_ledger_account_then_booking_exists_until_a_transaction_claims_it(
        client: Any, setup: dict[str, Any]) -> None:
    # Given a booking 1200 an 4970 over 12.50 (bank fees booked by hand) and the bank's debit of them
    booked = client.post("/v1/bookings", {"booking_date": "2026-01-30", "description": "Kontoführung Januar",
                                          "lines": [{"account_debit": "4970", "account_credit": "1200",
                                                     "amount": "12.50"}]})
    assert booked.status == 201, booked.body
    intent_id = booked.json()["intent_id"]
    project(tenant_of(client))
    [tx] = import_rows(client, setup["account"]["id"], row(booking_date="2026-01-31", amount="-12.50",
                                                           purpose="Entgelte"))
    [best] = by_tx(suggestions(client, setup["account"]["id"]))[tx]
    assert (best["candidate_kind"], best["intent_id"], best["amount"]) == ("booking", intent_id, Decimal("12.50"))
    assert best["reasons"] == ["amount_exact", "date_window", "booking_exists"]
    assert (best["invoice_id"], best["remaining_amount"], best["open_item_account"]) == (None, None, None)


def test_given_a_sammelzahlung_then_no_single_candidate_but_a_group_hint(client: Any, setup: dict[str, Any]) -> None:
    [tx] = import_rows(client, setup["account"]["id"], row(booking_date="2026-01-28", amount="357.00",
                                                           purpose="RE-2026-0042 RE-2026-0043"))
    resp = suggestions(client, setup["account"]["id"])
    [element] = [e for e in resp.json() if e["bank_transaction_id"] == tx]
    assert element["candidates"] == []
    hint = element["group_hint"]
    assert sorted(hint["invoice_ids"]) == sorted([setup["first"]["id"], setup["second"]["id"]])
    assert hint["amount"] == Decimal("357.00") and hint["reasons"] == ["invoice_number_in_purpose", "amount_exact"]


def test_given_limit_and_offset_then_pages_of_the_unreconciled_transactions(client: Any, setup: dict[str, Any]) -> None:
    ids = import_rows(client, setup["account"]["id"], *[row(booking_date=f"2026-01-{10 + i}", amount="119.00",
                                                            purpose=f"Zahlung {i}") for i in range(3)])
    first = suggestions(client, setup["account"]["id"], limit=2)
    second = suggestions(client, setup["account"]["id"], limit=2, offset=2)
    assert first.headers.get("x-total-count") == second.headers.get("x-total-count") == "3"
    assert [e["bank_transaction_id"] for e in first.json() + second.json()] == ids


def test_given_another_tenants_account_or_bad_query_then_404_or_400(client: Any, make_client: Any,
                                                                     setup: dict[str, Any]) -> None:
    from ledgerlou.domain.admin import tenants

    stranger = make_client(tenants.create_tenant("Fremd GmbH", "skr03").admin_key)
    assert suggestions(stranger, setup["account"]["id"]).status == 404
    assert client.get("/v1/bank-transactions/suggestions").status == 400
    assert suggestions(client, "not-a-uuid").status == 400
    assert suggestions(client, setup["account"]["id"], limit=1001).status == 400


def test_given_only_bank_read_scope_then_suggestions_are_readable(client: Any, make_client: Any,
                                                                   setup: dict[str, Any]) -> None:
    from tests.integration.bank.support import limited

    reader = limited(client, make_client, ["bank:read"])
    assert suggestions(reader, setup["account"]["id"]).status == 200
    assert suggestions(limited(client, make_client, ["journal:read"]), setup["account"]["id"]).status == 403


def test_given_open_invoices_missing_from_the_index_when_rebuilt_then_suggested_again(
        client: Any, setup: dict[str, Any]) -> None:
    from ledgerlou.config import table_name
    from ledgerlou.domain.reconciliation import candidate_index
    from ledgerlou.store.base import ddb
    from ledgerlou.store.reconciliation.candidates import index_pk

    tenant_id = tenant_of(client)
    # Given an index that lost its items (invoices booked before it existed)
    for side in ("AR", "AP"):
        for item in ddb().query(TableName=table_name(), KeyConditionExpression="PK = :pk",
                                ExpressionAttributeValues={":pk": {"S": index_pk(tenant_id, side)}})["Items"]:
            ddb().delete_item(TableName=table_name(), Key={"PK": item["PK"], "SK": item["SK"]})
    [tx] = import_rows(client, setup["account"]["id"], row(booking_date="2026-01-20", amount="119.00",
                                                           purpose="RE 2026-0042"))
    assert tx not in by_tx(suggestions(client, setup["account"]["id"]))
    # When it is rebuilt (twice: idempotent)
    assert candidate_index.rebuild(tenant_id) == 2 == candidate_index.rebuild(tenant_id)
    # Then the invoice is suggested again
    assert by_tx(suggestions(client, setup["account"]["id"]))[tx][0]["invoice_id"] == setup["first"]["id"]
