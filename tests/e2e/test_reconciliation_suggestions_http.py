"""e2e: match suggestions and evidence over HTTP against `python -m local` (what `make run` starts): an
invoice booked, projected by the local stream poller into the candidate index, a bank statement's
payment of it suggested first with its reasons; the Eigenbeleg of a fee without voucher versioned."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_receivables_http import eventually

pytestmark = pytest.mark.e2e

PAYER_IBAN = "DE02120300000000202051"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("suggestions") / "state")
    try:
        yield srv
    finally:
        srv.stop()


def test_given_an_open_invoice_and_its_payment_then_suggested_first_and_evidence_is_versioned(server: Server) -> None:
    status, kunde = server.call("POST", "/v1/customers", {"name": "Weber Druckerei GmbH", "iban": PAYER_IBAN,
                                                          "default_account": "8400"})
    assert status == 201, kunde
    status, invoice = server.call("POST", "/v1/outgoing-invoices", {
        "customer_id": kunde["id"], "invoice_number": "RE-2026-0815", "invoice_date": "2026-03-02",
        "due_date": "2026-04-01", "total_net": 100, "total_tax": 19, "total_gross": 119,
        "lines": [{"net_amount": 100, "tax_code": "USt19"}]})
    assert status == 201, invoice
    status, account = server.call("POST", "/v1/bank-accounts", {"name": "Girokonto", "iban": "DE89370400440532013000"})
    assert status == 201, account
    status, imported = server.call("POST", "/v1/bank-transactions", {"bank_account_id": account["id"], "transactions": [
        {"booking_date": "2026-03-10", "amount": "119.00", "counterparty_name": "WEBER DRUCKEREI",
         "counterparty_iban": PAYER_IBAN, "purpose": "Rechnung RE 2026-0815 Danke"},
        {"booking_date": "2026-03-11", "amount": "-4.90", "purpose": "Kontofuehrung"}]})
    assert status == 201 and imported["imported"] == 2, imported
    path = f"/v1/bank-transactions/suggestions?bank_account_id={account['id']}"
    body = eventually(lambda: server.call("GET", path)[1], lambda b: isinstance(b, list) and len(b) == 1)
    [element] = body
    [best] = element["candidates"]
    assert (best["candidate_kind"], best["invoice_id"], best["intent_id"]) == \
        ("open_receivable", invoice["id"], invoice["intent_id"])
    assert best["reasons"] == ["invoice_number_in_purpose", "iban_matches_partner", "amount_exact", "name_similar",
                               "date_window"] and best["confidence"] > 0.9
    status, headers, _raw = server.raw("GET", path)
    assert status == 200 and headers["x-total-count"] == "2"

    status, listed = server.call("GET", f"/v1/bank-transactions?bank_account_id={account['id']}&status=unreconciled")
    fee = next(t for t in listed["transactions"] if t["amount"] == -4.9)
    evidence = f"/v1/bank-transactions/{fee['id']}/evidence"
    assert server.call("GET", evidence) == (200, {"evidence": None, "history": []})
    status, first = server.call("PUT", evidence, {"evidence_type": "eigenbeleg", "title": "Kontoführung März"})
    assert status == 200 and first["version"] == 1
    status, second = server.call("PUT", evidence, {"evidence_type": "eigenbeleg", "title": "Kontoführung März",
                                                   "note": "laut Preisaushang"})
    assert status == 200 and second["version"] == 2
    status, got = server.call("GET", evidence)
    assert status == 200 and got["evidence"] == second and got["history"] == [first, second]
