"""The balance history of bank accounts."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from tests.integration.bank.support import (
    OTHER_IBAN,
    _big_camt,
    create_account,
    row,
    upload,
)


def test_given_a_statement_with_balances_then_the_history_is_anchored_at_its_closing_balance(client: Any) -> None:
    from ledgerlou.formats.detect import parse_statement

    # Given a statement of the last three weeks: opening 10,000.00, 40 entries
    today = dt.date.today()
    data = _big_camt(40, seed=11, start=today - dt.timedelta(days=20), days=10)
    statement = parse_statement(data).statements[0]
    acc = create_account(client)
    assert upload(client, data, acc["id"]).status == 201
    # When the balance history of 30 days is read
    history = client.get(f"/v1/bank-accounts/balance-history?days=30&bank_account_id={acc['id']}").json()
    # Then it starts at the opening balance and ends at the closing balance, one point per day
    assert len(history["history"]) == 30 and history["history"][-1]["date"] == today.isoformat()
    assert history["startBalance"] == statement.opening_balance
    assert history["currentBalance"] == statement.closing_balance
    # and each day's balance is the opening plus that day's and the earlier transactions
    for point in history["history"]:
        booked = sum((t.amount for t in statement.transactions if t.booking_date.isoformat() <= point["date"]),
                     Decimal(0))
        assert point["balance"] == statement.opening_balance + booked
    # and transactions imported after the statement move the current balance on from the anchor
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"],
                                          "transactions": [row(booking_date=today.isoformat(), amount="-100.00")]})
    after = client.get(f"/v1/bank-accounts/balance-history?days=1&bank_account_id={acc['id']}").json()
    assert after["currentBalance"] == statement.closing_balance - 100


def test_given_no_stated_balance_then_the_history_sums_the_transactions_of_all_accounts(client: Any) -> None:
    today = dt.date.today()
    first, second = create_account(client), create_account(client, iban=OTHER_IBAN)
    usd = create_account(client, iban=None, account_number="777", currency="USD")
    for acc, amount in ((first, "100.00"), (second, "-30.00"), (usd, "5000.00")):
        client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [
            row(booking_date=(today - dt.timedelta(days=3)).isoformat(), amount=amount)]})
    history = client.get("/v1/bank-accounts/balance-history?days=7").json()
    assert (history["startBalance"], history["currentBalance"], history["currency"]) == (0, Decimal("70.00"), "EUR")
    assert [p["balance"] for p in history["history"]] == [0, 0, 0, 70, 70, 70, 70]
    assert client.get("/v1/bank-accounts/balance-history").json()["days"] == 30
    assert client.get("/v1/bank-accounts/balance-history?days=0").status == 400
    assert client.get("/v1/bank-accounts/balance-history?days=367").status == 400
    assert client.get(f"/v1/bank-accounts/balance-history?bank_account_id={uuid.uuid4()}").status == 404
