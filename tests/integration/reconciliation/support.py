"""Helpers of the reconciliation tests: a bank account with transactions, open items, the journal head."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.bank.support import create_account, row
from tests.integration.payables.test_payables import body as incoming_body
from tests.integration.payables.test_payables import create as create_incoming
from tests.integration.payables.test_payables import vendor
from tests.integration.receivables.test_customers import customer
from tests.integration.receivables.test_outgoing_invoices import create as create_outgoing
from tests.integration.receivables.test_outgoing_invoices import head, invoice_body

__all__ = ["account_of", "bank_with", "code", "head", "incoming", "invoice_of", "outgoing", "reconcile", "tx_status"]


def bank_with(client: Any, *amounts: str, date: str = "2026-02-01", **account: Any) -> tuple[dict[str, Any],
                                                                                             list[dict[str, Any]]]:
    """A bank account with one transaction per amount (in that order; purpose ``Umsatz <i>``)."""
    acc = create_account(client, **account)
    rows = [row(amount=a, booking_date=date, purpose=f"Umsatz {i}", counterparty_name="Muster Handel GmbH")
            for i, a in enumerate(amounts)]
    resp = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows})
    assert resp.status in (200, 201), resp.body
    listed = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&limit=500").json()["transactions"]
    by_purpose = {t["purpose"]: t for t in listed}
    return acc, [by_purpose[f"Umsatz {i}"] for i in range(len(amounts))]


def outgoing(client: Any, number: str = "RE-2026-001", customer_id: str | None = None, **fields: Any
             ) -> dict[str, Any]:
    """An outgoing invoice (default 119.00 gross, receivable 1400 on SKR03)."""
    kunde = customer_id or customer(client, default_account="8400")["id"]
    return create_outgoing(client, invoice_body(kunde, number, **fields))


def incoming(client: Any, number: str = "2026-4711", vendor_id: str | None = None, **fields: Any) -> dict[str, Any]:
    lieferant = vendor_id or vendor(client)["id"]
    return create_incoming(client, incoming_body(lieferant, number, **fields))


def invoice_of(client: Any, invoice_id: str, side: str = "AR") -> dict[str, Any]:
    url = "/v1/outgoing-invoices" if side == "AR" else "/v1/invoices"
    return client.get(f"{url}/{invoice_id}").json()  # type: ignore[no-any-return]


def tx_status(client: Any, tx_id: str) -> str:
    return str(client.get(f"/v1/bank-transactions/{tx_id}").json()["transaction"]["status"])


def account_of(client: Any, account_id: str) -> dict[str, Any]:
    return client.get(f"/v1/bank-accounts/{account_id}").json()  # type: ignore[no-any-return]


def reconcile(client: Any, tx_id: str, intent_id: str, kind: str = "open_receivable",
              open_item_account: str | None = "1400", **kw: Any) -> Any:
    body = {"intent_id": intent_id, "candidate_kind": kind}
    if open_item_account is not None:
        body["open_item_account"] = open_item_account
    return client.post(f"/v1/bank-transactions/{tx_id}/reconcile", body, **kw)


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def code(resp: Any) -> str:
    """The error code of a refused request."""
    return str(resp.json()["error"]["code"])
