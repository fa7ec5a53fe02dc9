"""Redelivery: SES/Lambda retry the inbound function after an error or a timeout, and SQS delivers an OCR
message more than once (at least once; a second copy may run while the first still does). A retry
completes what the first attempt left and stores nothing twice: one document, one inbox item and one
ingestion-log entry per (SES message, attachment); one e-invoice XML document per item.

The events are those of events/ (support.deliver builds the SES one from events/ses/receipt.json, the
OCR messages are events/sqs/ocr.json's shape)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.conftest import samples_dir
from tests.integration.inbox.support import address, deliver, inbox, load_event, log, make_mail, queued

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MESSAGE_ID = "retried00000000000000000000000000000"


def _ctx(client: Any) -> Any:
    from ledgerlou.domain.admin import api_keys

    ctx = api_keys.authenticate(client.token)
    assert ctx is not None
    return ctx


def _documents(tenant_id: str) -> list[Any]:
    from ledgerlou.store.documents import objects

    return list(objects.DocumentItem.query(objects._pk(tenant_id), consistent_read=True))


def _ses_record(to: str, message_id: str) -> dict[str, Any]:
    """The record of events/ses/receipt.json for this mail (as support.deliver sends it)."""
    event = copy.deepcopy(load_event("ses/receipt.json"))
    ses = event["Records"][0]["ses"]
    ses["mail"]["messageId"] = message_id
    ses["mail"]["destination"] = ses["receipt"]["recipients"] = [to]
    return dict(event["Records"][0])


def _raw(to: str, files: int = 1) -> bytes:
    return make_mail(to, [(f"r{n}.pdf", "application/pdf", PDF + b"%" + str(n).encode())
                          for n in range(files)]).as_bytes()


@pytest.mark.parametrize("dies_in", ["item", "log", "queue"])
def test_given_the_inbound_function_died_midway_when_lambda_retries_then_each_thing_exists_once(
        client: Any, aws: dict[str, str], monkeypatch: Any, dies_in: str) -> None:
    from ledgerlou.store import queue
    from ledgerlou.store.inbox import items as item_store
    from ledgerlou.store.inbox import log as log_store

    to, ctx = address(client), _ctx(client)
    raw = _raw(to, files=2)
    # Given the first invocation stores the first attachment's document and then dies: before its item
    # is written, before its log entry is, or before the queue hears of the items
    target = {"item": (item_store, "put"), "log": (log_store, "put"), "queue": (queue, "enqueue_ocr")}[dies_in]
    monkeypatch.setattr(*target, lambda *_a, **_k: (_ for _ in ()).throw(TimeoutError("Task timed out")))
    with pytest.raises(Exception, match="Task timed out"):
        deliver(client.gateway, aws, raw, [to], message_id=MESSAGE_ID)
    monkeypatch.undo()
    # When Lambda invokes it again with the same event
    again = deliver(client.gateway, aws, raw, [to], message_id=MESSAGE_ID)
    # Then there are two documents, two items, two log entries that say accepted, and both items are queued
    assert len(again["accepted"]) == 2
    items = inbox(client)
    assert len(items) == 2 and {i["status"] for i in items} == {"received"}
    assert sorted(d.doc_id for d in _documents(ctx.tenant_id)) == sorted(i["document_id"] for i in items)
    entries = log(client)
    assert [e["outcome"] for e in entries] == ["accepted", "accepted"]
    assert {e["inbox_id"] for e in entries} == {i["id"] for i in items}
    assert {e["document_id"] for e in entries} == {i["document_id"] for i in items}
    assert {m["inbox_id"] for m in queued(aws)} == {i["id"] for i in items}


def test_given_two_deliveries_of_one_message_at_once_then_one_document_and_one_item(
        client: Any, aws: dict[str, str], monkeypatch: Any) -> None:
    from ledgerlou.domain.documents import archive
    from ledgerlou.domain.inbox import inbound

    to, ctx = address(client), _ctx(client)
    raw = _raw(to)
    # Given the second delivery runs to its end between the first one's look for the item and its upload
    upload, nested = archive.upload, []

    def racing(*args: Any, **kwargs: Any) -> Any:
        if not nested:
            # (the domain call: the local gateway runs one invocation per function at a time, as one instance)
            nested.append(None)
            out = inbound.handle_record(_ses_record(to, MESSAGE_ID))
            nested[0] = {"accepted": [i for _t, i in out.accepted]}
        return upload(*args, **kwargs)

    monkeypatch.setattr(archive, "upload", racing)
    first = deliver(client.gateway, aws, raw, [to], message_id=MESSAGE_ID)
    # Then both answer the same item, and it exists once, with one document and one log entry
    assert first["accepted"] == nested[0]["accepted"]
    [item] = inbox(client)
    assert [d.doc_id for d in _documents(ctx.tenant_id)] == [item["document_id"]]
    assert [e["inbox_id"] for e in log(client)] == [item["id"]]


def test_given_the_same_ocr_message_twice_at_once_then_one_xml_document_and_one_extraction(
        client: Any, aws: dict[str, str], monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import extraction, worker

    to, ctx = address(client), _ctx(client)
    pdf = (samples_dir("zugferd") / "mustang_RE-20201121_508.pdf").read_bytes()
    deliver(client.gateway, aws, make_mail(to, [("re.pdf", "application/pdf", pdf)]).as_bytes(), [to])
    [item] = inbox(client)
    event = copy.deepcopy(load_event("sqs/ocr.json"))
    event["Records"][0]["body"] = json.dumps({"tenant_id": ctx.tenant_id, "inbox_id": item["id"]})
    # Given SQS hands the message to a second worker while the first is still extracting it
    extract, second = extraction.extract, []

    def racing(*args: Any, **kwargs: Any) -> Any:
        result = extract(*args, **kwargs)
        if not second:
            second.append(None)
            second[0] = worker.process_message(event["Records"][0]["body"], 1)
        return result

    monkeypatch.setattr(extraction, "extract", racing)
    first = client.gateway.invoke("OcrWorkerFunction", event)
    # Then both succeed, the item is extracted once, and its XML is one document (not one per delivery)
    assert first == {"batchItemFailures": []} and second == ["extracted"]
    done = client.get(f"/v1/inbox/{item['id']}").json()
    assert done["status"] == "extracted" and done["einvoice_document_id"]
    assert sorted(d.doc_id for d in _documents(ctx.tenant_id)) == sorted([item["document_id"],
                                                                          done["einvoice_document_id"]])
    assert [e["outcome"] for e in log(client)] == ["accepted"]
    # and a third delivery after that does nothing
    monkeypatch.undo()
    assert client.gateway.invoke("OcrWorkerFunction", event) == {"batchItemFailures": []}
    assert len(_documents(ctx.tenant_id)) == 2


def test_given_a_worker_that_died_after_storing_the_xml_when_the_message_comes_again_then_the_xml_once(
        client: Any, aws: dict[str, str], monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import worker
    from ledgerlou.store.inbox import items as item_store

    to, ctx = address(client), _ctx(client)
    pdf = (samples_dir("zugferd") / "mustang_RE-20201121_508.pdf").read_bytes()
    deliver(client.gateway, aws, make_mail(to, [("re.pdf", "application/pdf", pdf)]).as_bytes(), [to])
    [item] = inbox(client)
    body = json.dumps({"tenant_id": ctx.tenant_id, "inbox_id": item["id"]})
    # Given the first attempt stored the XML and died before the item was marked extracted
    transition = item_store.transition

    def dies(it: Any, expected: list[str], **changes: Any) -> bool:
        if changes.get("status") == "extracted":
            raise TimeoutError("Task timed out")
        return transition(it, expected, **changes)

    monkeypatch.setattr(item_store, "transition", dies)
    with pytest.raises(TimeoutError):
        worker.process_message(body, 1)
    monkeypatch.undo()
    # When SQS delivers the message again
    assert worker.process_message(body, 2) == "extracted"
    # Then the item is extracted and there is one XML document beside the PDF
    done = client.get(f"/v1/inbox/{item['id']}").json()
    assert done["status"] == "extracted"
    assert len(_documents(ctx.tenant_id)) == 2
