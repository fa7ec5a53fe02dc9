"""The inbound function with the SES receipt event of events/ses/receipt.json: MIME in, documents, inbox
items and the ingestion log out; bad input ends as a clear outcome in the log with nothing stored."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.inbox.support import (
    address,
    deliver,
    forwarded,
    inbox,
    log,
    make_mail,
    queued,
    zip_of,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
XML = b'<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'


def test_given_a_mail_with_a_pdf_and_an_xml_then_each_becomes_a_document_an_item_and_an_accepted_entry(
        client: Any, aws: dict[str, str]) -> None:
    to = address(client)
    # Given a mail with two attachments, one named in RFC 2231 (UTF-8, percent-encoded)
    msg = make_mail(to, [("Rechnung März.pdf", "application/pdf", PDF), ("rechnung.xml", "application/xml", XML)],
                    subject="=?utf-8?q?Rechnung_f=C3=BCr_M=C3=A4rz?=")
    raw = msg.as_bytes()
    assert b"filename*=utf-8''Rechnung%20M%C3%A4rz.pdf" in raw
    # When SES delivers it
    result = deliver(client.gateway, aws, raw, [to])
    # Then two items, received, with their documents' original bytes
    assert len(result["accepted"]) == 2 and result["rejected"] == []
    items = inbox(client)
    assert sorted(i["original_name"] for i in items) == ["Rechnung März.pdf", "rechnung.xml"]
    assert {i["status"] for i in items} == {"received"}
    assert {i["source_subject"] for i in items} == {"Rechnung für März"}
    pdf = next(i for i in items if i["original_name"].endswith(".pdf"))
    got = client.get(f"/v1/documents/{pdf['document_id']}/file")
    assert got.body == PDF
    # and the log says accepted for each, and the OCR queue holds both items
    entries = log(client)
    assert [e["outcome"] for e in entries] == ["accepted", "accepted"]
    assert {e["inbox_id"] for e in entries} == {i["id"] for i in items}
    assert {m["inbox_id"] for m in queued(aws)} == {i["id"] for i in items}


def test_given_a_forwarded_mail_then_the_pdf_inside_the_message_rfc822_part_is_found(client: Any,
                                                                                      aws: dict[str, str]) -> None:
    to = address(client)
    inner = make_mail("buchhaltung@kunde.example", [("RE-7.pdf", "application/pdf", PDF)], subject="Rechnung 7")
    result = deliver(client.gateway, aws, forwarded(to, inner).as_bytes(), [to])
    assert len(result["accepted"]) == 1
    assert [i["original_name"] for i in inbox(client)] == ["RE-7.pdf"]


def test_given_the_same_ses_event_twice_then_nothing_is_stored_twice(client: Any, aws: dict[str, str]) -> None:
    to = address(client)
    raw = make_mail(to, [("a.pdf", "application/pdf", PDF)]).as_bytes()
    first = deliver(client.gateway, aws, raw, [to], message_id="redelivered0000000000000000000000")
    again = deliver(client.gateway, aws, raw, [to], message_id="redelivered0000000000000000000000")
    assert first["accepted"] == again["accepted"]
    assert len(inbox(client)) == 1 and len(log(client)) == 1


def test_given_a_mail_without_attachment_then_it_is_logged_skipped(client: Any, aws: dict[str, str]) -> None:
    to = address(client)
    deliver(client.gateway, aws, make_mail(to, subject="Nur Text").as_bytes(), [to])
    [entry] = log(client)
    assert entry["outcome"] == "skipped" and entry["subject"] == "Nur Text" and entry["document_id"] is None
    assert inbox(client) == []


def test_given_bad_attachments_then_each_is_rejected_with_its_reason_and_nothing_is_stored(
        client: Any, aws: dict[str, str]) -> None:
    from ledgerlou.domain.inbox import mail

    to = address(client)
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    big = b"%PDF-1.4\n" + b"0" * (mail.MAX_ATTACHMENT_BYTES + 1)
    msg = make_mail(to, [("fake.pdf", "application/pdf", b"MZ\x90\x00 this is an exe"),
                         ("xxe.xml", "application/xml", doctype), ("big.pdf", "application/pdf", big),
                         ("notes.docx", "application/octet-stream", b"\x00\x01binary")])
    result = deliver(client.gateway, aws, msg.as_bytes(), [to])
    assert result["accepted"] == []
    reasons = {e["original_name"]: e["message"] for e in log(client, outcome="rejected")}
    assert reasons["fake.pdf"] == "named .pdf but not a PDF"
    assert "DOCTYPE" in reasons["xxe.xml"]
    assert "larger than 5 MB" in reasons["big.pdf"]
    assert "type not accepted" in reasons["notes.docx"]
    assert inbox(client) == [] and queued(aws) == []


def test_given_a_zip_bomb_then_it_is_rejected_fast_and_a_small_zip_is_opened(client: Any,
                                                                             aws: dict[str, str]) -> None:
    to = address(client)
    bomb = zip_of({"bomb.pdf": b"%PDF-1.4\n" + b"\0" * (200 * 1024 * 1024)})  # 200 MB of zeros: ~200 KB zipped
    good = zip_of({"rechnungen/a.pdf": PDF, "b.xml": XML})
    started = time.perf_counter()
    deliver(client.gateway, aws, make_mail(to, [("bomb.zip", "application/zip", bomb)]).as_bytes(), [to])
    assert time.perf_counter() - started < 2.0
    [entry] = log(client, outcome="rejected")
    assert entry["original_name"] == "bomb.zip" and "zip bomb" in entry["message"]
    deliver(client.gateway, aws, make_mail(to, [("belege.zip", "application/zip", good)]).as_bytes(), [to])
    assert sorted(i["original_name"] for i in inbox(client)) == ["a.pdf", "b.xml"]


def test_given_an_unknown_address_then_the_mail_is_dropped_and_no_tenant_logs_it(client: Any,
                                                                                  aws: dict[str, str]) -> None:
    to = address(client)
    domain = to.rpartition("@")[2]
    stranger = f"rechnungen-aaaaaaaaaaaaaaaaaaaaaaaaaa@{domain}"
    result = deliver(client.gateway, aws, make_mail(stranger, [("a.pdf", "application/pdf", PDF)]).as_bytes(),
                     [stranger, "someone@other.example"])
    assert result["unknown_recipients"] == [stranger, "someone@other.example"] and result["accepted"] == []
    assert log(client) == [] and inbox(client) == []


def test_given_the_inbox_address_then_it_is_stable_unguessable_and_per_tenant(client: Any, make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    first, again = address(client), address(client)
    other = address(make_client(tenants.create_tenant("Andere GmbH", "skr04").admin_key))
    assert first == again and first != other
    local = first.partition("@")[0]
    assert local.startswith("rechnungen-") and len(local) - len("rechnungen-") == 26


def test_given_a_message_over_the_size_limit_then_one_rejected_entry_and_nothing_read_or_stored(
        client: Any, aws: dict[str, str], monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import mail

    to = address(client)
    raw = make_mail(to, [("a.pdf", "application/pdf", PDF + b"%" * 4096)]).as_bytes()
    monkeypatch.setattr(mail, "MAX_MESSAGE_BYTES", len(raw) - 1)  # 30 MB in production; this mail is just over
    result = deliver(client.gateway, aws, raw, [to])
    assert result["accepted"] == []
    [entry] = log(client)
    assert entry["outcome"] == "rejected" and "larger than" in entry["message"] and entry["original_name"] is None
    assert inbox(client) == [] and queued(aws) == []


def test_given_ses_found_a_virus_then_the_mail_is_rejected_unread(client: Any, aws: dict[str, str],
                                                                 monkeypatch: Any) -> None:
    import copy

    from tests.integration.inbox import support

    to = address(client)
    original = support.load_event

    def infected(name: str) -> dict[str, Any]:
        event = copy.deepcopy(original(name))
        event["Records"][0]["ses"]["receipt"]["virusVerdict"] = {"status": "FAIL"}
        return event

    monkeypatch.setattr(support, "load_event", infected)
    deliver(client.gateway, aws, make_mail(to, [("a.pdf", "application/pdf", PDF)]).as_bytes(), [to])
    [entry] = log(client)
    assert entry["outcome"] == "rejected" and "virus" in entry["message"]
    assert inbox(client) == []
