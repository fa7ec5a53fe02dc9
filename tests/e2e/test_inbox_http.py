"""e2e over SMTP and HTTP against `python -m local` (what `make run` starts): a mail with a ZUGFeRD PDF sent to
the SMTP port ends as a booked incoming invoice after confirm and approve."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import samples_dir
from tests.e2e.conftest import KEY, ROOT, Server, _port

SAMPLE = "mustang_RE-20201121_508.pdf"  # ZUGFeRD 2: Bei Spiel GmbH, DE136695976, RE-20201121/508, 571.04 gross


def _wait_for(server: Server, predicate: Any, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, items = server.call("GET", "/v1/inbox")
        assert status == 200, items
        if predicate(items):
            return list(items)
        time.sleep(0.1)
    raise AssertionError(f"inbox did not reach the state in {timeout_s}s: {items}")


def test_given_a_zugferd_mail_sent_to_the_smtp_port_then_confirm_and_approve_book_the_incoming_invoice(
        local_server: Server) -> None:
    pdf = (samples_dir("zugferd") / SAMPLE).read_bytes()
    # Given the demo tenant's inbox address and the vendor
    assert any("inbox (SMTP):" in line and str(local_server.smtp_port) in line for line in local_server.output)
    status, out = local_server.call("GET", "/v1/inbox/address")
    assert status == 200
    to = out["inbox_address"]
    status, vendor = local_server.call("POST", "/v1/vendors", {"name": "Bei Spiel GmbH", "vat_id": "DE136695976"})
    assert status == 201, vendor
    # When the mail is sent over SMTP
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "rechnung@beispiel.example", to, "Rechnung RE-20201121/508"
    msg.set_content("Sehr geehrte Damen und Herren, anbei unsere Rechnung.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=SAMPLE)
    with smtplib.SMTP("127.0.0.1", local_server.smtp_port, timeout=30) as smtp:
        refused = smtp.send_message(msg)
    assert refused == {}
    # Then the OCR worker (the local poller) extracts it
    [item] = _wait_for(local_server, lambda items: items and items[0]["status"] in ("extracted", "failed"))
    assert item["status"] == "extracted", item
    assert item["vendor_match"]["vendor_id"] == vendor["id"]
    # and confirm → review case → approve books it
    status, confirmed = local_server.call("POST", f"/v1/inbox/{item['id']}/confirm")
    assert status == 200, confirmed
    status, approved = local_server.call("POST", f"/v1/invoice-review-cases/{confirmed['review_case_id']}/approve")
    assert status == 200, approved
    status, invoice = local_server.call("GET", f"/v1/invoices/{approved['invoiceId']}")
    assert status == 200
    assert (invoice["invoice_number"], invoice["total_gross"], invoice["partner_id"]) == (
        "RE-20201121/508", 571.04, vendor["id"])
    assert invoice["document_id"] == item["einvoice_document_id"]
    status, entries = local_server.call("GET", "/v1/payables/ingestion-log")
    assert [e["outcome"] for e in entries] == ["accepted"]


def test_given_a_recipient_at_another_domain_then_the_smtp_listener_refuses_it(local_server: Server) -> None:
    with smtplib.SMTP("127.0.0.1", local_server.smtp_port, timeout=30) as smtp, \
            pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp.sendmail("a@b.example", ["someone@elsewhere.example"], b"Subject: x\r\n\r\nhi\r\n")


def test_given_make_run_with_its_smtp_listener_when_sigterm_then_it_stops_within_two_seconds(tmp_path: Path) -> None:
    port, smtp_port = _port(), _port()
    env = {**os.environ, "LEDGERLOU_STATE_DIR": str(tmp_path / "state"), "LEDGERLOU_DEV_API_KEY": KEY,
           "SMTP_PORT": str(smtp_port), "PYTHONPATH": f"{ROOT}:{ROOT / 'layers' / 'core' / 'python'}"}
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "local", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "inbox (SMTP):" in line:
            break
    assert any(f"127.0.0.1:{smtp_port}" in line for line in lines), lines
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        assert smtp.noop()[0] == 250
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert time.monotonic() - started < 2.0
