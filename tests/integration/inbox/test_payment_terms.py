"""The payment terms an invoice states (e-invoice BT-20, or the text's "2 % Skonto bei Zahlung innerhalb
10 Tagen") reach the incoming invoice a review case books, so that a payment run offers the Skonto; PATCH
corrects them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import samples_dir
from tests.integration.inbox.conftest import drain
from tests.integration.inbox.support import address, deliver, inbox, make_mail
from tests.unit.inbox.invoices import HANDWERK
from tests.unit.inbox.pdfgen import text_pdf


def _vendor(client: Any) -> str:
    resp = client.post("/v1/vendors", {"name": "Lieferant GmbH", "iban": "DE89370400440532013000"})
    assert resp.status == 201, resp.body
    return str(resp.json()["id"])


def _case(client: Any, aws: dict[str, str], ocr_worker: Any, name: str, pdf: bytes) -> dict[str, Any]:
    to = address(client)
    assert len(deliver(client.gateway, aws, make_mail(to, [(name, "application/pdf", pdf)]).as_bytes(),
                       [to])["accepted"]) == 1
    drain(ocr_worker)
    [item] = inbox(client)
    assert item["status"] == "extracted", item
    case_id = client.post(f"/v1/inbox/{item['id']}/confirm").json()["review_case_id"]
    return dict(client.get(f"/v1/invoice-review-cases/{case_id}").json())


def _approve(client: Any, case_id: str, vendor_id: str) -> dict[str, Any]:
    assert client.patch(f"/v1/invoice-review-cases/{case_id}", {"vendor_id": vendor_id}).status == 200
    approved = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    assert approved.status == 200, approved.body
    invoice = client.get(f"/v1/invoices/{approved.json()['invoiceId']}")
    assert invoice.status == 200, invoice.body
    return dict(invoice.json())


def _eligible(client: Any, execution_date: str) -> list[dict[str, Any]]:
    resp = client.get(f"/v1/payment-runs/eligible-invoices?execution_date={execution_date}")
    assert resp.status == 200, resp.body
    return list(resp.json()["items"])


def test_given_a_zugferd_invoice_with_skonto_when_approved_then_a_payment_run_offers_the_skonto(
        client: Any, aws: dict[str, str], ocr_worker: Any) -> None:
    vendor_id = _vendor(client)
    # Given the FeRD sample: 529.87 EUR of 2018-03-05, "… 30 Tagen netto …, 3% Skonto innerhalb 10 Tagen …" (BT-20)
    pdf = (samples_dir("zugferd") / "zf2_EN16931_Einfach.pdf").read_bytes()
    case = _case(client, aws, ocr_worker, "EN16931_Einfach.pdf", pdf)
    terms = case["normalized_invoice"]["payment_terms"]
    assert (terms["skonto_percent"], terms["skonto_days"], terms["net_days"]) == (3, 10, 30)
    # When it is approved
    invoice = _approve(client, case["id"], vendor_id)
    # Then the incoming invoice carries the terms
    assert invoice["payment_terms"]["skonto_percent"] == 3 and invoice["payment_terms"]["skonto_days"] == 10
    assert invoice["payment_terms"]["skonto_until"] == "2018-03-15"
    # and a payment run within the Skonto period offers 3 % of 529.87
    [item] = _eligible(client, "2018-03-08")
    assert item["invoice_id"] == invoice["id"]
    assert (item["skonto_amount"], item["amount"]) == (Decimal("15.90"), Decimal("513.97"))
    # and one after it none
    [late] = _eligible(client, "2018-03-20")
    assert late["skonto_amount"] == 0


def test_given_a_text_invoice_with_skonto_on_its_own_line_when_approved_then_the_payment_run_offers_it(
        client: Any, aws: dict[str, str], ocr_worker: Any) -> None:
    vendor_id = _vendor(client)
    # Given a text-layer PDF whose terms stand on two lines, the Skonto on the second
    lines = [ln for ln in HANDWERK if not ln[2].startswith("Zahlbar")] + [
        (50, 500, "Zahlbar innerhalb von 30 Tagen netto."), (50, 488, "2 % Skonto bei Zahlung innerhalb 10 Tagen.")]
    case = _case(client, aws, ocr_worker, "handwerk.pdf", text_pdf(lines))
    terms = case["normalized_invoice"]["payment_terms"]
    assert (terms["skonto_percent"], terms["skonto_days"], terms["net_days"]) == (2, 10, 30)
    invoice = _approve(client, case["id"], vendor_id)
    # Then due 30 days after 2026-01-15, and 2 % of 1,470.25 off within 10 days
    assert invoice["due_date"] == "2026-02-14"
    [item] = _eligible(client, "2026-01-20")
    assert (item["skonto_amount"], item["skonto_until"]) == (Decimal("29.41"), "2026-01-25")


def test_given_terms_corrected_by_patch_then_the_booked_invoice_has_the_corrected_terms(
        client: Any, aws: dict[str, str], ocr_worker: Any) -> None:
    vendor_id = _vendor(client)
    lines = [ln for ln in HANDWERK if not ln[2].startswith("Zahlbar")]  # no terms printed
    case = _case(client, aws, ocr_worker, "ohne.pdf", text_pdf(lines))
    assert case["normalized_invoice"]["payment_terms"] is None
    # A PATCH with inconsistent terms is refused, nothing changed
    bad = client.patch(f"/v1/invoice-review-cases/{case['id']}", {"normalized_invoice": {"payment_terms": {
        "skonto_percent": "2"}}})
    assert bad.status == 400 and "payment_terms" in bad.json()["error"]["details"][0]["field"]
    # When the reviewer enters the terms agreed with the vendor
    patched = client.patch(f"/v1/invoice-review-cases/{case['id']}", {"normalized_invoice": {"payment_terms": {
        "skonto_percent": "3", "skonto_days": 14, "net_days": 30, "text": "3 % Skonto 14 Tage, 30 Tage netto"}}})
    assert patched.status == 200, patched.body
    assert patched.json()["normalized_invoice"]["payment_terms"]["skonto_days"] == 14
    invoice = _approve(client, case["id"], vendor_id)
    # Then the invoice has them: due 30 days after its date, 3 % within 14 days
    assert invoice["due_date"] == "2026-02-14"
    assert (invoice["payment_terms"]["skonto_percent"], invoice["payment_terms"]["skonto_until"]) == (3, "2026-01-29")
    [item] = _eligible(client, "2026-01-27")
    assert item["skonto_amount"] == Decimal("44.11")  # 3 % of 1,470.25 = 44.1075
