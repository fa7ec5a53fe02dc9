"""e2e: a payment run over HTTP against `python -m local` (what `make run` starts): vendor and incoming
invoice with Skonto, create, four-eyes approval (refused to a key the creating key made, given by an
invited user), export (the SEPA file valid against both XSDs), completion (the invoice paid), and the
statement's batch debit, imported from a camt.053 the test writes, reconciled to the completion
booking with candidate_kind booking."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.e2e.conftest import KEY, Server
from tests.e2e.test_receivables_http import eventually

pytestmark = pytest.mark.e2e


def _mailed_token(to: str) -> str:
    """The setup token of the invitation the runtime wrote: into the outbox the server inherited from
    the test session (tests/conftest.py sets LEDGERLOU_OUTBOX_DIR; tests/e2e/test_people_http.py reads
    the runtime's own default instead)."""
    import os
    import re
    from email import policy
    from email.parser import BytesParser
    from pathlib import Path

    parser = BytesParser(policy=policy.default)
    outbox = Path(os.environ["LEDGERLOU_OUTBOX_DIR"])
    mails = [m for m in (parser.parsebytes(p.read_bytes()) for p in sorted(outbox.glob("*.eml")))
             if m["To"] == to]
    match = re.search(r"token=([A-Za-z0-9_-]+)", mails[-1].get_content())
    assert match
    return match.group(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("payment-runs") / "state")
    try:
        yield srv
    finally:
        srv.stop()


def test_given_the_local_runtime_then_a_payment_run_goes_from_draft_to_completed_over_http(server: Server) -> None:
    from ledgerlou.domain.payables import calendar

    from tests.integration.payment_runs.camt import batch_debit_statement
    from tests.unit.payables.xsd import assert_valid, texts

    today = dt.datetime.now(dt.UTC).date()
    status, account = server.call("POST", "/v1/bank-accounts", {"name": "Zahlungskonto",
                                                                "iban": "DE75512108001245126199"})
    assert status == 201, account
    status, vendor = server.call("POST", "/v1/vendors", {
        "name": "Papierfabrik Weiß & Söhne", "default_account": "4930", "iban": "DE02120300000000202051",
        "address": {"street": "Am Mühlbach 3", "postal_code": "80331", "city": "München", "country": "DE"}})
    assert status == 201, vendor
    status, inv = server.call("POST", "/v1/invoices", {
        "vendor_id": vendor["id"], "invoice_number": f"E2E-{uuid.uuid4().hex[:6]}",
        "invoice_date": (today - dt.timedelta(days=1)).isoformat(), "total_net": 1000, "total_tax": 190,
        "total_gross": 1190, "payment_terms": {"skonto_percent": 2, "skonto_days": 10, "net_days": 30},
        "lines": [{"net_amount": 1000, "tax_code": "VSt19"}]})
    assert status == 201, inv
    execution = calendar.next_business_day(today + dt.timedelta(days=1)).isoformat()
    # the list follows the projector (fed by the local stream poller), as the open items do
    eligible = eventually(lambda: server.call("GET", f"/v1/payment-runs/eligible-invoices?execution_date={execution}"),
                          lambda got: got[0] == 200 and any(i["invoice_id"] == inv["id"] for i in got[1]["items"]))
    assert [i["amount"] for i in eligible[1]["items"] if i["invoice_id"] == inv["id"]] == [1166.2]
    status, run = server.call("POST", "/v1/payment-runs", {
        "bank_account_id": account["id"], "execution_date": execution, "invoice_ids": [inv["id"]],
        "debtor_address": {"city": "Hamburg", "country": "DE"}})
    assert status == 201 and run["status"] == "draft" and run["total_amount"] == 1166.2, run
    status, refused = server.call("POST", f"/v1/payment-runs/{run['id']}/approve")
    assert status == 403 and refused["error"]["code"] == "FOUR_EYES_REQUIRED"
    # a key the demo key makes is the demo key's own (four-eyes compares persons): refused as well
    status, key = server.call("POST", "/v1/api-keys", {"label": "Freigabe", "scopes": ["payables:write",
                                                                                       "payables:read"]})
    assert status == 201, key
    status, refused = server.call("POST", f"/v1/payment-runs/{run['id']}/approve", token=key["key"])
    assert status == 403 and "through an API key they created" in refused["error"]["message"], refused
    # another person: a user the demo key invites, logged in
    email = f"prokura-{uuid.uuid4().hex[:8]}@muster.de"  # the outbox is the test session's: one mail to it
    status, user = server.call("POST", "/v1/users", {"email": email, "name": "Paula",
                                                     "scopes": ["payables:write", "payables:read"]})
    assert status == 201, user
    status, body = server.call("POST", "/v1/auth/setup-password", {"token": _mailed_token(email),
                                                                   "password": "ein langes Passwort"}, token=None)
    assert status == 200, body
    status, session = server.call("POST", "/v1/auth/login", {"email": email,
                                                             "password": "ein langes Passwort"}, token=None)
    assert status == 200, session
    status, approved = server.call("POST", f"/v1/payment-runs/{run['id']}/approve", token=session["token"])
    assert status == 200 and approved["status"] == "approved", approved
    status, exported = server.call("POST", f"/v1/payment-runs/{run['id']}/export")
    assert status == 200, exported
    root = assert_valid(exported["sepa_xml"].encode("utf-8"))
    assert texts(root, "//p:Cdtr/p:Nm") == ["Papierfabrik Weiß & Söhne"] and exported["control_sum"] == 1166.2
    status, done = server.call("POST", f"/v1/payment-runs/{run['id']}/complete")
    assert status == 200 and done["status"] == "completed", done
    status, paid = server.call("GET", f"/v1/invoices/{inv['id']}")
    assert paid["status"] == "paid" and paid["remaining_amount"] == 0
    statement = batch_debit_statement(account["iban"], execution, Decimal("1166.20"), 1, run["message_id"],
                                      "PI-" + run["message_id"][3:])
    boundary = "x" + uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"camt.xml\"\r\n"
            f"Content-Type: application/xml\r\n\r\n").encode() + statement + f"\r\n--{boundary}--\r\n".encode()
    import urllib.request

    req = urllib.request.Request(f"{server.base_url}/v1/bank-accounts/{account['id']}/upload",  # noqa: S310
                                 data=body, method="POST", headers={"Authorization": f"Bearer {KEY}",
                                                         "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback
        assert resp.status in (200, 201), resp.read()
        json.loads(resp.read() or b"{}")
    status, txs = server.call("GET", f"/v1/bank-transactions?bank_account_id={account['id']}")
    assert status == 200 and [t["amount"] for t in txs["transactions"]] == [-1166.2]
    [tx] = txs["transactions"]
    status, linked = server.call("POST", f"/v1/bank-transactions/{tx['id']}/reconcile",
                                 {"intent_id": done["intent_id"], "candidate_kind": "booking"})
    assert status == 200 and linked["mode"] == "link", linked
    status, got = server.call("GET", f"/v1/bank-transactions/{tx['id']}")
    assert got["transaction"]["status"] == "reconciled"
