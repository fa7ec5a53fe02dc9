"""The OCR worker (SQS events of events/sqs/, fed by the local poller) and the review flow: a ZUGFeRD mail →
extracted item → confirm → review case → approve → a booked incoming invoice whose original is the XML."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.conftest import samples_dir
from tests.integration.inbox.conftest import drain
from tests.integration.inbox.support import address, deliver, inbox, load_event, log, make_mail

SAMPLE = "mustang_RE-20201121_508.pdf"  # ZUGFeRD 2: Bei Spiel GmbH, DE136695976, RE-20201121/508, 496.00 + 75.04


def _pdf() -> bytes:
    return (samples_dir("zugferd") / SAMPLE).read_bytes()


def _vendor(client: Any, vat_id: str = "DE136695976") -> str:
    resp = client.post("/v1/vendors", {"name": "Bei Spiel GmbH", "vat_id": vat_id})
    assert resp.status == 201, resp.body
    return str(resp.json()["id"])


def _mail_in(client: Any, aws: dict[str, str], pdf: bytes, name: str = SAMPLE) -> None:
    to = address(client)
    result = deliver(client.gateway, aws, make_mail(to, [(name, "application/pdf", pdf)]).as_bytes(), [to])
    assert len(result["accepted"]) == 1, result


def test_given_a_zugferd_mail_then_the_worker_extracts_it_and_approve_books_the_incoming_invoice(
        client: Any, aws: dict[str, str], ocr_worker: Any) -> None:
    pdf = _pdf()
    vendor_id = _vendor(client)
    # Given the mail arrived and the worker drained the OCR queue
    _mail_in(client, aws, pdf)
    assert drain(ocr_worker) == 1
    [item] = inbox(client)
    # Then the item is extracted from the XML inside the PDF, matched by VAT id, with its §14 checks
    assert item["status"] == "extracted", item
    assert item["ocr_raw"]["path"] == "facturx_pdf"
    ext = item["ocr_extraction"]
    assert (ext["invoice_number"], ext["invoice_date"], str(ext["total_gross"])) == ("RE-20201121/508", "2020-11-21",
                                                                                      "571.04")
    assert item["vendor_match"] == {"vendor_id": vendor_id, "confidence": Decimal("0.99"), "matched_by": "vat_id"}
    assert item["compliance_check"]["checks"] and "passed" in item["compliance_check"]
    # and the e-invoice XML is kept as its own document, byte for byte what the PDF carries
    xml = client.get(f"/v1/documents/{item['einvoice_document_id']}/file")
    assert xml.status == 200 and xml.body.lstrip().startswith(b"<?xml") and b"RE-20201121/508" in xml.body
    assert [e["outcome"] for e in log(client)] == ["accepted"]
    # When it is confirmed
    confirmed = client.post(f"/v1/inbox/{item['id']}/confirm")
    assert confirmed.status == 200, confirmed.body
    case_id = confirmed.json()["review_case_id"]
    case = client.get(f"/v1/invoice-review-cases/{case_id}").json()
    assert case["queue_state"] == "open" and case["vendor_id"] == vendor_id
    # and both answers are exactly their documented models (ExactOut: no undocumented key)
    from ledgerlou.models.inbox import InboxItemOut, IngestionLogOut, ReviewCaseOut

    InboxItemOut.model_validate(client.get(f"/v1/inbox/{item['id']}").json())
    ReviewCaseOut.model_validate(case)
    [IngestionLogOut.model_validate(e) for e in log(client)]
    assert case["vendor_candidates"][0]["vendor_id"] == vendor_id
    assert [c["id"] for c in client.get("/v1/invoice-review-cases?queue_state=open").json()] == [case_id]
    # and approved
    approved = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    assert approved.status == 200, approved.body
    out = approved.json()
    assert out["reviewCaseId"] == case_id
    # Then it is an incoming invoice as POST /v1/invoices books it, its original the XML
    invoice = client.get(f"/v1/invoices/{out['invoiceId']}").json()
    assert (invoice["invoice_number"], str(invoice["total_net"]), str(invoice["total_tax"]),
            str(invoice["total_gross"])) == ("RE-20201121/508", "496.00", "75.04", "571.04")
    assert invoice["document_id"] == item["einvoice_document_id"]
    assert invoice["partner_id"] == vendor_id and invoice["status"] == "open"
    entry = client.get(f"/v1/journal/{out['intentId']}")
    assert entry.status == 200
    assert client.get(f"/v1/invoice-review-cases/{case_id}").json()["queue_state"] == "approved"
    # and approving it again answers the same booking (a retry), while every other transition is refused
    again = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    assert again.status == 200 and again.json() == out
    again = client.post(f"/v1/inbox/{item['id']}/confirm")
    assert again.status == 409 and again.json()["error"]["code"] == "INVALID_STATE"
    refused = client.post(f"/v1/inbox/{item['id']}/reject", {"reason": "zu spät"})
    assert refused.status == 409 and refused.json()["error"]["code"] == "INVALID_STATE"


def test_given_the_same_invoice_again_then_its_outcome_is_duplicate_and_no_second_case(
        client: Any, aws: dict[str, str], ocr_worker: Any) -> None:
    pdf = _pdf()
    _vendor(client)
    _mail_in(client, aws, pdf)
    drain(ocr_worker)
    # Given the same vendor and number arrive a second time (another file name, another mail)
    _mail_in(client, aws, pdf, name="Kopie.pdf")
    drain(ocr_worker)
    items = {i["original_name"]: i for i in inbox(client)}
    # Then the second is a duplicate: rejected, logged so, and it cannot be confirmed into a case
    assert items[SAMPLE]["status"] == "extracted"
    assert items["Kopie.pdf"]["status"] == "rejected" and "duplicate" in items["Kopie.pdf"]["rejected_reason"]
    assert sorted(e["outcome"] for e in log(client)) == ["accepted", "duplicate"]
    assert client.post(f"/v1/inbox/{items['Kopie.pdf']['id']}/confirm").status == 409
    # and once the first was booked, the number is the invoice's: a third copy is a duplicate of the booking
    case_id = client.post(f"/v1/inbox/{items[SAMPLE]['id']}/confirm").json()["review_case_id"]
    assert client.post(f"/v1/invoice-review-cases/{case_id}/approve").status == 200
    _mail_in(client, aws, pdf, name="Dritte.pdf")
    drain(ocr_worker)
    third = next(i for i in inbox(client) if i["original_name"] == "Dritte.pdf")
    assert third["status"] == "rejected" and "incoming invoice" in third["rejected_reason"]


def test_given_a_case_without_vendor_or_with_bad_totals_then_approve_answers_the_error_and_the_case_stays_open(
        client: Any, aws: dict[str, str], ocr_worker: Any, make_client: Any) -> None:
    _mail_in(client, aws, _pdf())  # no vendor with this VAT id exists
    drain(ocr_worker)
    [item] = inbox(client)
    assert item["vendor_match"] is None
    case_id = client.post(f"/v1/inbox/{item['id']}/confirm").json()["review_case_id"]
    # A key with the inbox scopes only may review but not book: approve needs payables:write as well
    key = client.post("/v1/api-keys", {"label": "Posteingang", "scopes": ["inbox:read", "inbox:write"]}).json()
    inbox_only = make_client(key["key"])
    assert inbox_only.get(f"/v1/invoice-review-cases/{case_id}").status == 200
    forbidden = inbox_only.post(f"/v1/invoice-review-cases/{case_id}/approve")
    assert forbidden.status == 403 and forbidden.json()["error"]["code"] == "FORBIDDEN"
    # When approved without a vendor
    refused = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    assert refused.status == 400 and refused.json()["error"]["details"][0]["field"] == "vendor_id"
    case = client.get(f"/v1/invoice-review-cases/{case_id}").json()
    assert case["queue_state"] == "open" and case["booking_errors"][0]["code"] == "INVALID_INPUT"
    # When a vendor is set and the gross corrected wrongly
    vendor_id = _vendor(client)
    patched = client.patch(f"/v1/invoice-review-cases/{case_id}",
                           {"vendor_id": vendor_id, "normalized_invoice": {"total_gross": "572.00"}})
    assert patched.status == 200, patched.body
    assert patched.json()["normalized_invoice"]["total_gross"] == 572
    bad = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    assert bad.status == 400 and bad.json()["error"]["code"] == "TOTALS_MISMATCH"
    assert client.get(f"/v1/invoice-review-cases/{case_id}").json()["booking_errors"][0]["code"] == "TOTALS_MISMATCH"
    assert client.get("/v1/invoices").json() == []  # nothing booked
    # Then corrected back, it books
    client.patch(f"/v1/invoice-review-cases/{case_id}", {"normalized_invoice": {"total_gross": "571.04"}})
    ok = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    assert ok.status == 200, ok.body
    assert client.get(f"/v1/invoice-review-cases/{case_id}").json()["booking_errors"] == []
    # and an approved case cannot be changed or rejected
    assert client.patch(f"/v1/invoice-review-cases/{case_id}", {"vendor_id": vendor_id}).status == 409
    assert client.post(f"/v1/invoice-review-cases/{case_id}/reject", {"reason": "x"}).status == 409


def test_given_a_rejected_case_then_its_number_may_arrive_again(client: Any, aws: dict[str, str],
                                                               ocr_worker: Any) -> None:
    _vendor(client)
    _mail_in(client, aws, _pdf())
    drain(ocr_worker)
    [item] = inbox(client)
    case_id = client.post(f"/v1/inbox/{item['id']}/confirm").json()["review_case_id"]
    rejected = client.post(f"/v1/invoice-review-cases/{case_id}/reject", {"reason": "falscher Mandant"})
    assert rejected.status == 200 and rejected.json()["queue_state"] == "rejected"
    _mail_in(client, aws, _pdf(), name="nochmal.pdf")
    drain(ocr_worker)
    again = next(i for i in inbox(client) if i["original_name"] == "nochmal.pdf")
    assert again["status"] == "extracted"


def test_given_a_broken_pdf_then_the_item_fails_with_its_reason_and_can_be_rejected(
        client: Any, aws: dict[str, str], ocr_worker: Any) -> None:
    _mail_in(client, aws, b"%PDF-1.7\n" + b"\x00garbage" * 100, name="kaputt.pdf")
    drain(ocr_worker)
    [item] = inbox(client)
    assert item["status"] == "failed" and item["failure_reason"].startswith("UNREADABLE_DOCUMENT")
    [entry] = log(client)
    assert entry["outcome"] == "failed" and entry["inbox_id"] == item["id"]
    assert client.post(f"/v1/inbox/{item['id']}/confirm").status == 409
    assert client.post(f"/v1/inbox/{item['id']}/reject", {"reason": "unlesbar"}).json() == {
        "rejected": True, "inbox_id": item["id"]}
    assert inbox(client, status="rejected")[0]["rejected_reason"] == "unlesbar"


def test_given_a_batch_with_one_poison_message_then_only_it_is_reported_and_it_alone_reaches_the_dlq(
        client: Any, aws: dict[str, str], ocr_worker: Any) -> None:
    _mail_in(client, aws, _pdf())
    [item] = inbox(client)
    from ledgerlou.domain.admin import api_keys

    ctx = api_keys.authenticate(client.token)
    assert ctx is not None
    # Given the sample batch of events/sqs/ with this tenant's item and a message that is not JSON
    event = copy.deepcopy(load_event("sqs/ocr_batch_with_poison.json"))
    event["Records"][0]["body"] = json.dumps({"tenant_id": ctx.tenant_id, "inbox_id": item["id"]})
    result = client.gateway.invoke("OcrWorkerFunction", event)
    # Then the partial batch response names the poison message only, and the good one is extracted
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert inbox(client)[0]["status"] == "extracted"
    # And through the queue: the poison message is received maxReceiveCount (3) times, then moves to the DLQ alone
    sqs = boto3.client("sqs")
    drain(ocr_worker)  # the item's own queued message: its item is done already
    sqs.send_message(QueueUrl=aws["OcrQueue"], MessageBody="{not json")
    sqs.send_message(QueueUrl=aws["OcrQueue"], MessageBody=json.dumps({"tenant_id": ctx.tenant_id,
                                                                       "inbox_id": item["id"]}))
    for _ in range(4):
        msgs = sqs.receive_message(QueueUrl=aws["OcrQueue"], MaxNumberOfMessages=10, VisibilityTimeout=0,
                                   AttributeNames=["All"]).get("Messages", [])
        if not msgs:
            break
        batch = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": m["Attributes"], "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                              "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:q",
                              "awsRegion": "eu-central-1"} for m in msgs]}
        try:
            failed = {f["itemIdentifier"] for f in client.gateway.invoke("OcrWorkerFunction", batch)[
                "batchItemFailures"]}
        except Exception:  # noqa: BLE001 - a batch of only failures raises (powertools), as on AWS
            failed = {m["MessageId"] for m in msgs}
        for m in msgs:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=aws["OcrQueue"], ReceiptHandle=m["ReceiptHandle"])
    dead = sqs.receive_message(QueueUrl=aws["OcrDLQ"], MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["{not json"]


@pytest.mark.parametrize("kind", ["multipart", "document_id"])
def test_given_ocr_extract_then_the_same_extraction_answers_synchronously_and_nothing_is_stored(
        client: Any, aws: dict[str, str], kind: str) -> None:
    pdf = _pdf()
    if kind == "multipart":
        boundary = "b0undary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{SAMPLE}\"\r\n"
                f"Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
        resp = client.request("POST", "/v1/ocr/extract", body=body,
                              headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    else:
        boundary = "b0undary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{SAMPLE}\"\r\n"
                f"Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
        doc = client.request("POST", "/v1/documents", body=body,
                             headers={"content-type": f"multipart/form-data; boundary={boundary}"}).json()
        resp = client.post("/v1/ocr/extract", {"document_id": doc["id"]})
    assert resp.status == 200, resp.body
    out = resp.json()
    assert (out["vendor_vat_id"], out["invoice_number"], str(out["total_gross"])) == ("DE136695976",
                                                                                       "RE-20201121/508", "571.04")
    assert inbox(client) == [] and log(client) == []
    missing = client.post("/v1/ocr/extract", {"document_id": "00000000-0000-4000-8000-000000000000"})
    assert missing.status == 404
    assert client.post("/v1/ocr/extract", {"document_id": "nope"}).status == 400


def test_given_the_invoice_period_is_soft_locked_then_approve_answers_period_locked_and_books_after_reopen(
        client: Any, aws: dict[str, str], ocr_worker: Any) -> None:
    _vendor(client)
    _mail_in(client, aws, _pdf())  # invoice date 2020-11-21
    drain(ocr_worker)
    [item] = inbox(client)
    case_id = client.post(f"/v1/inbox/{item['id']}/confirm").json()["review_case_id"]
    assert client.post("/v1/periods/2020-11/soft-lock").status == 200
    # When approved into the locked period
    refused = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    # Then 409 PERIOD_LOCKED, the case open with the error, nothing booked
    assert refused.status == 409 and refused.json()["error"]["code"] == "PERIOD_LOCKED"
    case = client.get(f"/v1/invoice-review-cases/{case_id}").json()
    assert case["queue_state"] == "open" and case["booking_errors"][0]["code"] == "PERIOD_LOCKED"
    assert client.get("/v1/invoices").json() == []
    # and once the period is reopened it books
    assert client.post("/v1/periods/2020-11/reopen").status == 200
    assert client.post(f"/v1/invoice-review-cases/{case_id}/approve").status == 200


def test_given_an_extraction_that_crashes_then_it_is_retried_and_the_last_attempt_marks_the_item_failed(
        client: Any, aws: dict[str, str], monkeypatch: Any) -> None:
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.domain.inbox import extraction, worker

    ctx = api_keys.authenticate(client.token)
    assert ctx is not None
    _mail_in(client, aws, _pdf())
    [item] = inbox(client)

    def crash(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("throttled")

    monkeypatch.setattr(extraction, "extract", crash)
    body = json.dumps({"tenant_id": ctx.tenant_id, "inbox_id": item["id"]})
    # Given the first attempts crash: they raise (SQS retries them) and leave the item processing
    for attempt in (1, 2):
        with pytest.raises(RuntimeError):
            worker.process_message(body, attempt)
        assert client.get(f"/v1/inbox/{item['id']}").json()["status"] == "processing"
    # When the last attempt (maxReceiveCount) crashes too
    with pytest.raises(RuntimeError):
        worker.process_message(body, worker.MAX_RECEIVES)
    # Then the item is failed with the reason, and the log says so, before the message moves to the DLQ
    failed = client.get(f"/v1/inbox/{item['id']}").json()
    assert failed["status"] == "failed" and "after 3 attempts: RuntimeError" in failed["failure_reason"]
    assert log(client)[0]["outcome"] == "failed"
    # and a redelivery after that does nothing
    assert worker.process_message(body, 4) == "already done"


def test_given_an_item_left_processing_by_a_killed_worker_then_it_can_be_rejected_only_once_it_is_stale(
        client: Any, aws: dict[str, str]) -> None:
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.store.base import now_iso
    from ledgerlou.store.inbox import items as item_store

    ctx = api_keys.authenticate(client.token)
    assert ctx is not None
    _mail_in(client, aws, _pdf())
    [item] = inbox(client)
    started = item_store.start(ctx.tenant_id, item["id"], "2026-01-01T00:00:00.000Z")  # then the worker died
    assert started is not None
    fresh = item_store.get(ctx.tenant_id, item["id"])
    assert fresh is not None
    # A processing item whose worker may still run is not rejected
    item_store.transition(fresh, ["processing"], updated_at=now_iso())
    assert client.post(f"/v1/inbox/{item['id']}/reject", {"reason": "hängt"}).status == 409
    # one untouched for longer than the queue's visibility timeout is
    item_store.transition(fresh, ["processing"], updated_at="2026-01-01T00:00:00.000Z")
    assert client.post(f"/v1/inbox/{item['id']}/reject", {"reason": "hängt"}).status == 200


def test_given_two_confirms_of_one_item_at_once_then_one_case_and_the_other_answers_invalid_state(
        client: Any, aws: dict[str, str], ocr_worker: Any, monkeypatch: Any) -> None:
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.domain.inbox import items
    from ledgerlou.errors import InvalidState
    from ledgerlou.store.inbox import items as item_store

    ctx = api_keys.authenticate(client.token)
    assert ctx is not None
    _mail_in(client, aws, _pdf())
    drain(ocr_worker)
    [item] = inbox(client)
    # Given two confirms interleaved at the worst moment: the second runs to its end between the first one's
    # read of the item (extracted) and its conditional write (moto's UpdateItem is not safe under threads on
    # one item, so the interleaving is made here, deterministically)
    transition, seconds, started = item_store.transition, [], []

    def interleaved(*args: Any, **kwargs: Any) -> bool:
        if not started:
            started.append(True)
            seconds.append(items.confirm(ctx, item["id"])["review_case_id"])
        return transition(*args, **kwargs)

    monkeypatch.setattr(item_store, "transition", interleaved)
    # Then the first answers INVALID_STATE and there is exactly the second one's case
    with pytest.raises(InvalidState):
        items.confirm(ctx, item["id"])
    assert [c["id"] for c in client.get("/v1/invoice-review-cases").json()] == seconds


def test_given_a_credit_note_then_approve_books_it_as_a_credit_note(client: Any, aws: dict[str, str],
                                                                   ocr_worker: Any, monkeypatch: Any) -> None:
    import dataclasses

    from ledgerlou.domain.inbox import extraction

    real = extraction.extract

    def as_credit_note(*args: Any, **kwargs: Any) -> Any:
        # the extraction names the document type (BT-3 381 → credit_note); no sample credit note has a valid VAT id
        result = real(*args, **kwargs)
        return dataclasses.replace(result, ocr_raw={**result.ocr_raw, "document_type": "credit_note",
                                                    "type_code": "381"})

    monkeypatch.setattr(extraction, "extract", as_credit_note)
    _vendor(client)
    _mail_in(client, aws, _pdf())
    drain(ocr_worker)
    [item] = inbox(client)
    case_id = client.post(f"/v1/inbox/{item['id']}/confirm").json()["review_case_id"]
    assert client.get(f"/v1/invoice-review-cases/{case_id}").json()["document_type"] == "credit_note"
    approved = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    assert approved.status == 200, approved.body
    invoice = client.get(f"/v1/invoices/{approved.json()['invoiceId']}").json()
    assert invoice["type"] == "credit_note" and invoice["remaining_amount"] < 0
