"""Documents: multipart upload to S3 with SHA-256, download/preview, type checked by content."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def multipart(data: bytes, filename: str, content_type: str = "application/octet-stream",
              field: str = "file") -> tuple[bytes, dict[str, str]]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


def upload(client: Any, data: bytes, name: str = "Rechnung März.pdf", **kw: Any) -> Any:
    body, headers = multipart(data, name, **kw)
    return client.request("POST", "/v1/documents", body=body, headers=headers)


def test_given_a_pdf_when_uploaded_then_stored_with_its_hash_and_downloadable(client: Any) -> None:
    resp = upload(client, PDF)
    assert resp.status == 201, resp.body
    doc = resp.json()
    assert doc["mime_type"] == "application/pdf" and doc["original_name"] == "Rechnung März.pdf"
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest()
    file = client.get(f"/v1/documents/{doc['id']}/file")
    assert file.status == 200 and file.body == PDF
    assert file.headers["content-type"] == "application/pdf"
    assert file.headers["content-disposition"].startswith("attachment;")
    preview = client.get(f"/v1/documents/{doc['id']}/preview")
    assert preview.body == PDF and preview.headers["content-disposition"].startswith("inline;")


def test_given_a_document_then_a_booking_can_reference_it(client: Any) -> None:
    doc = upload(client, PNG, "beleg.png").json()
    assert doc["mime_type"] == "image/png"
    assert client.get(f"/v1/documents/{doc['id']}/file").body == PNG  # binary, not UTF-8
    resp = client.post("/v1/bookings", {"booking_date": "2026-01-15", "description": "mit Beleg",
                                        "document_id": doc["id"], "lines": [
                                            {"account_debit": "4930", "account_credit": "1000", "amount": 5}]})
    assert resp.status == 201
    view = client.get(f"/v1/journal/{resp.json()['intent_id']}").json()
    assert view["summary"]["document_id"] == doc["id"] and view["entries"][0]["document_id"] == doc["id"]


def test_given_a_disallowed_type_or_empty_file_then_400(client: Any) -> None:
    resp = upload(client, b"MZ\x90\x00 this is an exe", "virus.pdf", content_type="application/pdf")
    assert resp.status == 400 and resp.json()["error"]["code"] == "UNSUPPORTED_FILE_TYPE"
    assert upload(client, b"", "empty.pdf").status == 400
    no_file = client.request("POST", "/v1/documents", body=b"{}", headers={"content-type": "application/json"})
    assert no_file.status == 400


def test_given_a_too_large_file_then_413(client: Any) -> None:
    resp = upload(client, PDF + b"0" * (5 * 1024 * 1024))
    assert resp.status == 413 and resp.json()["error"]["code"] == "FILE_TOO_LARGE"


def test_given_another_tenants_document_then_404(client: Any, make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    doc = upload(client, PDF).json()
    other = make_client(tenants.create_tenant("Fremd GmbH").admin_key)
    assert other.get(f"/v1/documents/{doc['id']}/file").status == 404
    assert client.get(f"/v1/documents/{uuid.uuid4()}/file").status == 404


def test_given_a_derived_document_id_then_a_second_upload_is_the_first_document_and_other_bytes_are_refused(
        client: Any, monkeypatch: Any) -> None:
    import boto3
    from ledgerlou import config
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.domain.documents import archive
    from ledgerlou.errors import DocumentIntegrity
    from ledgerlou.store import blobs
    from ledgerlou.store.documents import objects

    ctx = api_keys.authenticate(client.token)
    assert ctx is not None
    doc_id = "5b0e9c3a-1f2d-5e4b-8a7c-6d5e4f3a2b1c"
    # Given an attempt that wrote the original to S3 and died before its metadata item
    monkeypatch.setattr(objects, "put_if_absent", lambda *_a: (_ for _ in ()).throw(TimeoutError("killed")))
    with pytest.raises(TimeoutError):
        archive.upload(ctx.tenant_id, PDF, "a.pdf", "test", doc_id=doc_id)
    monkeypatch.undo()
    # When the retry uploads the same bytes under the same id
    again = archive.upload(ctx.tenant_id, PDF, "a.pdf", "test", doc_id=doc_id)
    # Then it is that document, stored once (one S3 version), and downloadable
    assert again.id == doc_id and client.get(f"/v1/documents/{doc_id}/file").body == PDF
    assert archive.upload(ctx.tenant_id, PDF, "a.pdf", "test", doc_id=doc_id).created_at == again.created_at
    versions = boto3.client("s3").list_object_versions(Bucket=config.documents_bucket(),
                                                       Prefix=blobs.document_key(ctx.tenant_id, doc_id))
    assert len(versions.get("Versions", [])) == 1
    # and other bytes under that id are refused, the original untouched
    with pytest.raises(DocumentIntegrity):
        archive.upload(ctx.tenant_id, PDF + b"%x", "a.pdf", "test", doc_id=doc_id)
    other = "6c1f0d4b-2e3a-5f5c-9b8d-7e6f5a4b3c2d"
    with pytest.raises(TimeoutError):
        monkeypatch.setattr(objects, "put_if_absent", lambda *_a: (_ for _ in ()).throw(TimeoutError("killed")))
        archive.upload(ctx.tenant_id, PDF, "b.pdf", "test", doc_id=other)
    monkeypatch.undo()
    with pytest.raises(DocumentIntegrity):
        archive.upload(ctx.tenant_id, PDF + b"%y", "b.pdf", "test", doc_id=other)  # S3 holds other bytes
    assert client.get(f"/v1/documents/{doc_id}/file").body == PDF
