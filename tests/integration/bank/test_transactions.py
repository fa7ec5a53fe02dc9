"""Reading bank transactions: filters, search and paging."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.bank.support import (
    OTHER_IBAN,
    account,
    create_account,
    row,
)


def test_given_transactions_then_they_can_be_filtered_searched_and_paged(client: Any) -> None:
    acc = create_account(client)
    second = create_account(client, iban=OTHER_IBAN, name="Tagesgeld")
    rows = [row(booking_date="2026-01-05", amount="100.00", counterparty_name="Müller GmbH", purpose="RE-100"),
            row(booking_date="2026-01-20", amount="-20.00", purpose="Gebühren Januar"),
            row(booking_date="2026-02-03", amount="-1234.56", counterparty_name="Finanzamt", purpose="USt"),
            row(booking_date="2026-03-01", amount="50.00", purpose="Zinsen")]
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows})
    client.post("/v1/bank-transactions", {"bank_account_id": second["id"], "transactions": [row(amount="9.99")]})

    everything = client.get("/v1/bank-transactions").json()
    assert everything["total"] == 5
    ours = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}").json()
    assert [t["booking_date"] for t in ours["transactions"]] == ["2026-03-01", "2026-02-03", "2026-01-20", "2026-01-05"]
    january = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&start_date=2026-01-06"
                         "&end_date=2026-02-28").json()
    assert [t["amount"] for t in january["transactions"]] == [Decimal("-1234.56"), Decimal("-20.00")]
    assert client.get("/v1/bank-transactions?search=müller").json()["total"] == 1
    assert client.get("/v1/bank-transactions?search=1234,56").json()["transactions"][0]["purpose"] == "USt"
    page = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&limit=2&offset=1").json()
    assert page["total"] == 4 and [t["booking_date"] for t in page["transactions"]] == ["2026-02-03", "2026-01-20"]
    assert client.get("/v1/bank-transactions?status=unreconciled").json()["total"] == 5
    assert client.get("/v1/bank-transactions?status=reconciled").json()["total"] == 0
    assert client.get("/v1/bank-transactions/unreconciled-count").json() == {"count": 5}
    assert client.get(f"/v1/bank-transactions/unreconciled-count?bank_account_id={second['id']}").json() == {
        "count": 1}
    got = client.get(f"/v1/bank-transactions/{ours['transactions'][0]['id']}").json()["transaction"]
    assert got == ours["transactions"][0]
    detail = account(client, acc["id"])
    assert (detail["tx_count"], detail["unreconciled_count"], detail["last_tx_date"]) == (4, 4, "2026-03-01")


def test_given_many_months_and_accounts_then_every_page_is_a_slice_of_the_full_order(client: Any) -> None:
    # Given transactions over three months in two accounts
    acc, second = create_account(client), create_account(client, iban=OTHER_IBAN)
    start = dt.date(2026, 1, 1)
    for target, count, step in ((acc, 30, 3), (second, 12, 7)):
        rows = [row(booking_date=(start + dt.timedelta(days=i * step % 85)).isoformat(), amount=f"{i + 1}.00",
                    purpose=f"{target['id']} {i}") for i in range(count)]
        client.post("/v1/bank-transactions", {"bank_account_id": target["id"], "transactions": rows})
    for query in ("", "&start_date=2026-01-10&end_date=2026-02-20", f"&bank_account_id={second['id']}"):
        # The filtered path reads everything: the reference order
        full = client.get(f"/v1/bank-transactions?status=unreconciled&limit=500{query}").json()
        ids = [t["id"] for t in full["transactions"]]
        dates = [t["booking_date"] for t in full["transactions"]]
        assert dates == sorted(dates, reverse=True)
        # When pages are read without a filter (month counts, partial reads)
        for offset, limit in ((0, 7), (5, 10), (20, 15), (len(ids) - 3, 10), (len(ids) + 5, 5)):
            page = client.get(f"/v1/bank-transactions?limit={limit}&offset={offset}{query}").json()
            # Then each page is exactly that slice, and the total is the same
            assert page["total"] == full["total"] == len(ids)
            assert [t["id"] for t in page["transactions"]] == ids[offset : offset + limit]


@pytest.mark.parametrize("query", ["limit=501", "limit=0", "offset=-1", "status=open", "start_date=2026-13-01",
                                   "bank_account_id=x", "start_date=2026-02-01&end_date=2026-01-01"])
def test_given_bad_list_parameters_then_400(client: Any, query: str) -> None:
    resp = client.get(f"/v1/bank-transactions?{query}")
    assert resp.status == 400, resp.body
    assert resp.json()["error"]["details"]
