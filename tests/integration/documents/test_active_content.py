"""Active content (issue 14, item 4): what a browser would run is never served inline.

The type is found from the bytes (never the file name or the client's Content-Type); only PDF, PNG,
JPEG, TIFF and plain XML (as text/plain) are previewed inline, everything else is an attachment with a
neutral type, and every file the API answers carries a CSP sandbox and nosniff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.documents.test_documents import PDF, PNG, upload

CSP = "default-src 'none'; sandbox"

SVG_WITH_SCRIPT = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                   b'<script>alert(document.domain)</script><rect width="10" height="10"/></svg>')
XHTML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x'
         b'</title></head><body><script>alert(1)</script></body></html>')
HTML_AS_PDF = b"<html><body><img src=x onerror=alert(1)><p>Rechnung</body></html>"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
TIFF = b"II*\x00" + b"\x00" * 32
E_INVOICE = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">'
             '<rsm:ExchangedDocument><ram:ID xmlns:ram="urn:un:unece:uncefact:data:standard:'
             'ReusableAggregateBusinessInformationEntity:100">RE-2026-0001 Müller</ram:ID>'
             '</rsm:ExchangedDocument></rsm:CrossIndustryInvoice>').encode()


def _assert_file_headers(resp: Any) -> None:
    assert resp.headers.get("content-security-policy") == CSP, resp.headers
    assert resp.headers.get("x-content-type-options") == "nosniff", resp.headers


@pytest.mark.parametrize(("data", "name", "claimed"), [
    (SVG_WITH_SCRIPT, "logo.svg", "image/svg+xml"),
    (XHTML, "rechnung.xhtml", "application/xhtml+xml"),
    (HTML_AS_PDF, "a.pdf", "application/pdf"),
])
def test_given_active_content_when_previewed_then_an_attachment_with_a_neutral_type(
        client: Any, data: bytes, name: str, claimed: str) -> None:
    resp = upload(client, data, name, content_type=claimed)
    assert resp.status == 201, resp.body
    doc = resp.json()
    assert doc["mime_type"] != "application/xml"  # the upload says what it is, not "plain XML"
    for route in ("preview", "file"):
        got = client.get(f"/v1/documents/{doc['id']}/{route}")
        assert got.status == 200
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["content-disposition"].startswith("attachment;")
        _assert_file_headers(got)
        assert got.body == data  # the original, byte for byte (GoBD)


@pytest.mark.parametrize(("data", "name", "inline_type", "file_type"), [
    (PDF, "rechnung.png", "application/pdf", "application/pdf"),
    (PNG, "scan.pdf", "image/png", "image/png"),
    (JPEG, "foto.jpg", "image/jpeg", "image/jpeg"),
    (TIFF, "fax.tif", "image/tiff", "image/tiff"),
    (E_INVOICE, "xrechnung.html", "text/plain; charset=UTF-8", "application/xml"),
])
def test_given_an_allowed_type_when_previewed_then_inline_as_the_sniffed_type(
        client: Any, data: bytes, name: str, inline_type: str, file_type: str) -> None:
    doc = upload(client, data, name, content_type="text/html").json()
    preview = client.get(f"/v1/documents/{doc['id']}/preview")
    assert preview.status == 200 and preview.body == data
    assert preview.headers["content-type"] == inline_type
    assert preview.headers["content-disposition"].startswith("inline;")
    _assert_file_headers(preview)
    file = client.get(f"/v1/documents/{doc['id']}/file")
    assert file.headers["content-type"] == file_type and file.body == data
    assert file.headers["content-disposition"].startswith("attachment;")
    _assert_file_headers(file)


def test_given_a_document_stored_before_the_fix_as_xml_then_its_bytes_decide(client: Any) -> None:
    # Documents uploaded earlier carry mime_type application/xml whatever they were: serving must not trust it.
    from ledgerlou.store.documents import objects

    doc = upload(client, SVG_WITH_SCRIPT, "alt.svg").json()
    item = objects.get(client_tenant(client), doc["id"])
    assert item is not None
    item.update(actions=[objects.DocumentItem.mime_type.set("application/xml")])
    got = client.get(f"/v1/documents/{doc['id']}/preview")
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>',                    # a DTD
    b'<invoice xmlns:h="http://www.w3.org/1999/xhtml"><h:script>alert(1)</h:script></invoice>',  # XHTML inside
    b'<invoice><svg xmlns="http://www.w3.org/2000/svg"/></invoice>',                        # SVG inside
    b'<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"/>',   # XSLT
    b"<invoice><unclosed></invoice>",                                                        # not well-formed
    b"<SVG><script>alert(1)</script></SVG>",                                                 # root svg, any case
])
def test_given_xml_that_is_not_plain_then_never_inline(client: Any, xml: bytes) -> None:
    doc = upload(client, xml, "rechnung.xml", content_type="application/xml").json()
    got = client.get(f"/v1/documents/{doc['id']}/preview")
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    _assert_file_headers(got)


# ----------------------------------------------------------------- every file route of the API
def _file_routes() -> list[tuple[str, str]]:
    doc = json.loads((Path(__file__).resolve().parents[3] / "functions" / "openapi" / "openapi.json").read_text())
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            content = (op.get("responses", {}).get("200") or {}).get("content") or {}
            if any(ct != "application/json" for ct in content):
                out.append((method.upper(), path))
    return sorted(out)


def test_given_every_file_answering_route_in_the_openapi_document_then_each_has_the_file_headers(
        client: Any) -> None:
    booked = client.post("/v1/bookings", {"booking_date": "2026-01-15", "description": "Büromaterial",
                                          "lines": [{"account_debit": "4930", "account_credit": "1000",
                                                     "amount": 5}]})
    assert booked.status == 201, booked.body
    doc_id = upload(client, SVG_WITH_SCRIPT, "x.svg").json()["id"]
    # How to call each file route. A new file route fails here until it is added: it must carry the headers too.
    calls = {
        ("GET", "/v1/documents/{doc_id}/file"): f"/v1/documents/{doc_id}/file",
        ("GET", "/v1/documents/{doc_id}/preview"): f"/v1/documents/{doc_id}/preview",
        ("GET", "/v1/journal/export"): "/v1/journal/export",
        ("GET", "/v1/reports/datev-export"): "/v1/reports/datev-export?startDate=2026-01-01&endDate=2026-01-31",
    }
    routes = _file_routes()
    assert len(routes) >= 4 and set(routes) == set(calls), f"file routes changed: {routes}"
    for method, path in routes:
        resp = client.request(method, calls[(method, path)])
        assert resp.status == 200, (path, resp.status, resp.body[:300])
        assert resp.body
        _assert_file_headers(resp)


def test_given_a_large_export_when_redirected_then_the_redirect_carries_the_headers_too(
        client: Any, monkeypatch: Any) -> None:
    from ledgerlou.api import downloads

    client.post("/v1/bookings", {"booking_date": "2026-01-15", "description": "x", "lines": [
        {"account_debit": "4930", "account_credit": "1000", "amount": 5}]})
    monkeypatch.setattr(downloads, "INLINE_LIMIT", 10)
    resp = client.get("/v1/journal/export")
    assert resp.status == 303
    _assert_file_headers(resp)


def client_tenant(client: Any) -> str:
    from ledgerlou.domain.admin import api_keys

    caller = api_keys.authenticate(client.token)
    assert caller is not None
    return caller.tenant_id


@pytest.mark.parametrize(("sample", "account_number", "inline_type", "file_type"), [
    (("mt940", "sparkasse.sta"), "123456789", "text/plain", "text/plain"),
    (("camt053", "de_vrbank-rottal-inn_camt.053.001.02.xml"), None, "text/plain; charset=UTF-8", "application/xml"),
])
def test_given_an_imported_statement_file_then_it_is_previewed_as_text_with_the_file_headers(
        client: Any, sample: tuple[str, str], account_number: str | None, inline_type: str, file_type: str) -> None:
    from tests.conftest import samples_dir
    from tests.integration.bank import support

    data = samples_dir(*sample).read_bytes()
    if account_number:
        support.create_account(client, iban=None, account_number=account_number)
    else:
        support.create_account(client, iban="DE14740618130000033626")
    imported = support.upload(client, data, name=sample[1])
    assert imported.status == 201, imported.body
    doc_id = imported.json()["document_id"]
    preview = client.get(f"/v1/documents/{doc_id}/preview")
    assert (preview.headers["content-type"], preview.body) == (inline_type, data)
    assert preview.headers["content-disposition"].startswith("inline;")
    _assert_file_headers(preview)
    file = client.get(f"/v1/documents/{doc_id}/file")
    assert file.headers["content-type"] == file_type and file.body == data
    _assert_file_headers(file)


@pytest.mark.parametrize(("data", "name", "route", "content_type", "disposition"), [
    (PDF, "rechnung.pdf", "preview", "application/pdf", "inline"),
    (PDF, "rechnung.pdf", "file", "application/pdf", "attachment"),
    (SVG_WITH_SCRIPT, "logo.svg", "preview", "application/octet-stream", "attachment"),
])
def test_given_a_document_too_large_for_a_lambda_answer_when_downloaded_then_303_to_the_original_with_its_rule(
        client: Any, tenant: Any, monkeypatch: pytest.MonkeyPatch, data: bytes, name: str, route: str,
        content_type: str, disposition: str) -> None:
    # Given a stored document larger than what one answer may carry (the limit made small here: base64
    # grows a file by a third, so on AWS a document above ~4.4 MB would pass Lambda's 6 MB)
    import os
    import urllib.parse

    import boto3
    from ledgerlou.api import downloads

    doc = upload(client, data, name).json()
    monkeypatch.setattr(downloads, "INLINE_LIMIT", len(data) - 1)
    # When it is downloaded
    got = client.get(f"/v1/documents/{doc['id']}/{route}")
    # Then 303 to a presigned URL that pins the type and disposition the allow-list chose, with the headers
    assert got.status == 303, got.body
    _assert_file_headers(got)
    url = got.headers["location"]
    assert got.json() == {"download_url": url, "expires_in": downloads.URL_TTL_S, "size": len(data)}
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["response-content-type"] == [content_type]
    assert query["response-content-disposition"][0].startswith(f"{disposition};")
    # And the URL names the stored original (the tenant's document key), byte for byte
    parts = urllib.parse.urlsplit(url)
    bucket = os.environ["DOCUMENTS_BUCKET"]
    key = urllib.parse.unquote(parts.path.lstrip("/"))
    if not parts.netloc.startswith(bucket + "."):  # path-style: /<bucket>/<key>
        assert key.startswith(bucket + "/"), url
        key = key[len(bucket) + 1:]
    assert key == f"tenant/{tenant.tenant_id}/documents/{doc['id']}"
    assert boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == data
