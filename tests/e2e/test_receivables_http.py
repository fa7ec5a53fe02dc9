"""e2e: receivables and payables over HTTP against `python -m local` (what `make run` starts), with the
projector fed by the local stream poller as on AWS: a GET by id sees a write at once (the unprojected
tail is folded in), the lists follow as soon as the projector has run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("receivables") / "state")
    try:
        yield srv
    finally:
        srv.stop()


def eventually(read: Callable[[], Any], ok: Callable[[Any], bool], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        got = read()
        if ok(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def test_given_the_local_runtime_then_a_customer_invoice_reversal_and_open_items_work_over_http(
        server: Server) -> None:
    status, kunde = server.call("POST", "/v1/customers", {"name": "HTTP Kunde GmbH", "vat_id": "DE136695976",
                                                          "default_account": "8400",
                                                          "address": {"city": "Berlin"}})
    assert status == 201 and int(kunde["number"]) >= 10000
    status, created = server.call("POST", "/v1/outgoing-invoices", {
        "customer_id": kunde["id"], "invoice_number": "HTTP-1", "invoice_date": "2026-01-15",
        "due_date": "2026-02-14", "total_net": 100, "total_tax": 19, "total_gross": 119,
        "lines": [{"net_amount": 100, "tax_code": "USt19"}]})
    assert status == 201, created
    status, got = server.call("GET", f"/v1/outgoing-invoices/{created['id']}")
    assert status == 200 and got["status"] == "open" and got["remaining_amount"] == 119
    items = eventually(lambda: server.call("GET", "/v1/outgoing-invoices/open-items")[1],
                       lambda body: any(r["invoice_id"] == created["id"] for r in body))
    assert [r["invoice_number"] for r in items if r["invoice_id"] == created["id"]] == ["HTTP-1"]
    assert server.call("GET", f"/v1/customers/{kunde['id']}")[1]["open_amount"] == 119
    status, _ = server.call("POST", "/v1/journal/reverse", {"intent_id": created["intent_id"], "reason": "e2e",
                                                            "posting_mode": "original_date"})
    assert status == 201
    assert server.call("GET", f"/v1/outgoing-invoices/{created['id']}")[1]["status"] == "cancelled"
    assert server.call("GET", f"/v1/customers/{kunde['id']}")[1]["open_amount"] == 0
    items = eventually(lambda: server.call("GET", "/v1/outgoing-invoices/open-items")[1],
                       lambda body: all(r["invoice_id"] != created["id"] for r in body))
    assert all(r["invoice_id"] != created["id"] for r in items)


def test_given_the_local_runtime_then_vendors_and_incoming_invoices_work_over_http(server: Server) -> None:
    status, lieferant = server.call("POST", "/v1/vendors", {"name": "HTTP Lieferant KG", "default_account": "4930",
                                                            "iban": "DE89370400440532013000"})
    assert status == 201 and int(lieferant["number"]) >= 70000
    body = {"vendor_id": lieferant["id"], "invoice_number": "ER-1", "invoice_date": "2026-01-20",
            "total_net": 100, "total_tax": 0, "total_gross": 100,
            "lines": [{"net_amount": 100, "tax_code": "RC19"}]}
    status, created = server.call("POST", "/v1/invoices", body)
    assert status == 201, created
    assert server.call("POST", "/v1/invoices", body)[0] == 409
    status, view = server.call("GET", f"/v1/journal/{created['intent_id']}")
    assert sorted((e["account_debit"], e["account_credit"]) for e in view["entries"]) == [("1577", "1787"),
                                                                                           ("4930", "1600")]
    status, patched = server.call("PATCH", f"/v1/invoices/{created['id']}", {"notes": "geprüft"})
    assert status == 200 and patched["notes"] == "geprüft"
    listed = eventually(lambda: server.call("GET", f"/v1/invoices?vendor_id={lieferant['id']}")[1],
                        lambda rows: len(rows) == 1)
    assert [r["invoice_number"] for r in listed] == ["ER-1"]
    assert server.call("GET", f"/v1/vendors?search={lieferant['number']}")[1][0]["id"] == lieferant["id"]
    assert server.call("DELETE", f"/v1/vendors/{lieferant['id']}")[1]["is_active"] is False

