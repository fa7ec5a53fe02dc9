"""The MIME walk of inbound mail (domain/inbox/mail.py) and the inbox's time-ordered ids, without AWS."""

from __future__ import annotations

import io
import time
import zipfile
from email.message import EmailMessage

from ledgerlou.domain.inbox import ids, mail

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _mail(*attachments: tuple[str, str, bytes]) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@b.example", "x@inbox.localhost", "=?utf-8?q?R=C3=BCckfrage?="
    msg.set_content("Text")
    msg.add_alternative("<p>Text <img src='cid:logo'></p>", subtype="html")
    for name, ctype, data in attachments:
        main, sub = ctype.split("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg.as_bytes()


def _zip(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_given_a_mail_with_bodies_and_a_pdf_then_only_the_pdf_is_a_part_and_the_subject_is_decoded() -> None:
    parsed = mail.parse(_mail(("Rechnung Größe.pdf", "application/octet-stream", PDF)))
    assert parsed.subject == "Rückfrage" and parsed.sender == "a@b.example"
    assert [(p.name, p.mime) for p in parsed.parts] == [("Rechnung Größe.pdf", "application/pdf")]
    assert parsed.refused == []


def test_given_an_inline_logo_of_the_html_body_then_it_is_not_a_document() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@b.example", "x@inbox.localhost", "Logo"
    msg.set_content("Text")
    msg.add_alternative("<p><img src='cid:logo'></p>", subtype="html")
    html = msg.get_payload()[1]
    html.add_related(b"\x89PNG\r\n\x1a\n" + b"0" * 64, maintype="image", subtype="png", cid="<logo>")
    assert mail.parse(msg.as_bytes()).parts == []


def test_given_zips_then_limits_on_members_ratio_nesting_hold_and_one_bad_member_refuses_the_zip() -> None:
    many = _zip({f"{i}.pdf": PDF for i in range(mail.ZIP_MAX_MEMBERS + 1)})
    nested = _zip({"inner.zip": _zip({"a.pdf": PDF})})
    mixed = _zip({"a.pdf": PDF, "b.exe": b"MZ\x90\x00"})
    ratio = _zip({"r.pdf": PDF + b"\0" * (2 * 1024 * 1024)})  # ~1000× compression
    stored = _zip({"s.pdf": PDF, "t.xml": b"<?xml version='1.0'?><Invoice/>"}, zipfile.ZIP_STORED)
    parsed = mail.parse(_mail(("many.zip", "application/zip", many), ("nested.zip", "application/zip", nested),
                              ("mixed.zip", "application/zip", mixed), ("ratio.zip", "application/zip", ratio),
                              ("ok.zip", "application/zip", stored)))
    reasons = {r.name: r.reason for r in parsed.refused}
    assert "at most 20" in reasons["many.zip"]
    assert "zip inside a zip" in reasons["nested.zip"]
    assert reasons["mixed.zip"].startswith("zip member b.exe")
    assert "zip bomb" in reasons["ratio.zip"]
    assert [p.name for p in parsed.parts] == ["s.pdf", "t.xml"]


def test_given_a_zip_whose_directory_lies_about_sizes_then_the_bounded_read_still_stops_it_fast() -> None:
    bomb = _zip({"b.pdf": b"\0" * (40 * 1024 * 1024)})
    # the central directory claims a tiny member: the inflation is stopped by bytes actually read, not by the claim
    header = bomb.rfind(b"PK\x01\x02")
    forged = bytearray(bomb)
    forged[header + 24:header + 28] = (100).to_bytes(4, "little")  # uncompressed size in the directory
    started = time.perf_counter()
    parsed = mail.parse(_mail(("forged.zip", "application/zip", bytes(forged))))
    assert time.perf_counter() - started < 1.0
    assert parsed.parts == [] and len(parsed.refused) == 1


def test_given_more_files_than_the_limit_then_the_rest_is_refused_with_a_reason() -> None:
    files = [(f"{i}.pdf", "application/pdf", PDF) for i in range(mail.MAX_FILES + 2)]
    parsed = mail.parse(_mail(*files))
    assert len(parsed.parts) == mail.MAX_FILES
    assert "more than 50 files" in parsed.refused[0].reason


def test_given_ids_then_they_sort_by_time_and_derived_ones_repeat() -> None:
    early, late = ids.new(1_000_000), ids.new(2_000_000)
    assert early < late and len(early) == 36 and early[14] == "7"
    assert ids.derived(5, "msg", "part-0") == ids.derived(5, "msg", "part-0") != ids.derived(5, "msg", "part-1")
