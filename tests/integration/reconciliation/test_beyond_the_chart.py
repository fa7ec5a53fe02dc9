"""A tenant with more bank accounts than its chart has (API.md "Reconciliation", last point): the
eighth bank account of an SKR03 tenant gets 1201, a custom bank account — and everything of
reconciliation works on it: the projector's ledger side, suggestions, reconcile, link, the view."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.bank.support import create_account, row
from tests.integration.receivables.test_customers import customer
from tests.integration.reconciliation.support import invoice_of, outgoing, reconcile
from tests.integration.reconciliation.test_suggestions import import_rows, project, suggestions, tenant_of

PAYER_IBAN = "DE02120300000000202051"
EIGHTH_IBAN = "DE75512108001245126199"


def test_given_an_skr03_tenant_with_eight_bank_accounts_then_the_eighth_is_suggested_reconciled_and_viewed(
        client: Any) -> None:
    # Given the seven SKR03 bank accounts linked and an eighth bank account (→ 1201, created for it)
    for number in range(7):
        create_account(client, iban=None, account_number=str(number))
    eighth = create_account(client, name="Sparkasse Tagesgeld", iban=EIGHTH_IBAN)
    assert eighth["ledger_account"] == "1201"
    # and an open invoice, a cash deposit booked on 1201, and the eighth account's statement
    kunde = customer(client, name="Müller Maschinenbau GmbH", iban=PAYER_IBAN, default_account="8400")
    inv = outgoing(client, "RE-2026-0042", kunde["id"])
    deposit = client.post("/v1/bookings", {"booking_date": "2026-02-02", "description": "Bareinzahlung", "lines": [
        {"account_debit": "1201", "account_credit": "1000", "amount": "50.00"}]})
    assert deposit.status == 201, deposit.body
    paid, cash = import_rows(client, eighth["id"],
                             row(booking_date="2026-02-01", amount="119.00", purpose="RE-2026-0042 Danke",
                                 counterparty_name="Müller Maschinenbau GmbH", counterparty_iban=PAYER_IBAN),
                             row(booking_date="2026-02-02", amount="50.00", purpose="Einzahlung"))
    project(tenant_of(client))
    # When the suggestions of the eighth account are asked for
    resp = suggestions(client, eighth["id"])
    assert resp.status == 200, resp.body
    got = {e["bank_transaction_id"]: e["candidates"] for e in resp.json()}
    # Then the invoice is the payment's best candidate, the booking on 1201 the deposit's
    best = got[paid][0]
    assert (best["candidate_kind"], best["invoice_id"], best["open_item_account"]) == (
        "open_receivable", inv["id"], "1400")
    assert {"invoice_number_in_purpose", "iban_matches_partner", "amount_exact"} <= set(best["reasons"])
    booking = got[cash][0]
    assert (booking["candidate_kind"], booking["intent_id"]) == ("booking", deposit.json()["intent_id"])
    assert "booking_exists" in booking["reasons"]
    # When both are reconciled as suggested
    r1 = reconcile(client, paid, best["intent_id"], best["candidate_kind"], best["open_item_account"])
    r2 = reconcile(client, cash, booking["intent_id"], "booking", None)
    assert (r1.status, r2.status) == (200, 200), (r1.body, r2.body)
    # Then the settlement debits 1201, the invoice is paid, and the eighth account's view balances
    view = client.get(f"/v1/journal/{r1.json()['intent_id']}").json()
    assert [(e["account_debit"], e["account_credit"], e["amount"]) for e in view["entries"]] == [
        ("1201", "1400", Decimal("119.00"))]
    assert invoice_of(client, inv["id"])["status"] == "paid"
    rec = client.get(f"/v1/bank-accounts/{eighth['id']}/reconciliation").json()
    assert rec["ledger"] == {"account": "1201", "amount": Decimal("169.00"), "base_amount": Decimal("169.00")}
    assert (rec["bank"]["balance"], rec["difference"], rec["unmatched_ledger"]["entries"]) == (
        Decimal("169.00"), Decimal("0.00"), [])
    assert suggestions(client, eighth["id"]).json() == []
    # When the settlement is unmatched: the invoice is open again and suggested again
    assert client.post(f"/v1/bank-transactions/{paid}/unmatch").status == 200
    project(tenant_of(client))
    again = {e["bank_transaction_id"]: e["candidates"] for e in suggestions(client, eighth["id"]).json()}
    assert again[paid][0]["invoice_id"] == inv["id"]
    assert client.get(f"/v1/bank-accounts/{eighth['id']}/reconciliation").json()["ledger"]["amount"] == Decimal("50.00")
