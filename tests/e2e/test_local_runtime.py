"""e2e: `python -m local` (what `make run` starts) serves the API over HTTP; state survives a restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import KEY, ROOT, Server

pytestmark = pytest.mark.e2e


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "state"


def test_given_make_run_then_the_api_answers_over_http_and_books_survive_a_restart(state_dir: Path) -> None:
    server = Server(state_dir)
    try:
        assert any(KEY in line for line in server.output)
        status, body = server.call("GET", "/v1/accounts")
        assert status == 200 and body["total"] >= 300
        assert server.call("GET", "/v1/accounts", token=None)[0] == 401
        assert server.call("GET", "/v1/openapi.json", token=None)[0] == 200
        status, created = server.call("POST", "/v1/bookings", {
            "booking_date": "2026-01-15", "description": "e2e", "lines": [
                {"account_debit": "4930", "account_credit": "1200", "amount": 119, "tax_code": "VSt19"}]})
        assert status == 201 and created["event_count"] == 2
        status, view = server.call("GET", f"/v1/journal/{created['intent_id']}")
        assert status == 200 and len(view["entries"]) == 2
    finally:
        server.stop()
    restarted = Server(state_dir)
    try:
        status, view = restarted.call("GET", f"/v1/journal/{created['intent_id']}")
        assert status == 200 and view["summary"]["description"] == "e2e"
        assert restarted.call("GET", "/v1/journal/verify")[1]["verified"] is True
        cmd = subprocess.run([sys.executable, "-m", "local.tenant", "--name", "Zweite GmbH", "--chart", "skr04",
                              "--port", str(restarted.port)], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        new_key = cmd.stdout.strip().splitlines()[-1]
        assert new_key.startswith("ll_")
        status, codes = restarted.call("GET", "/v1/tax-codes", token=new_key)
        assert status == 200 and {c["code"]: c for c in codes["tax_codes"]}["USt19"]["vat_account"] == "3806"
    finally:
        restarted.stop()


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "CONNECT", "PROPFIND"])
def test_given_a_method_no_route_has_when_sent_then_a_json_405_or_404_never_a_501_html_page(
        local_server: Server, method: str) -> None:
    status, headers, body = local_server.raw(method, "/v1/accounts")
    assert status == 405 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert headers["allow"] == "GET, POST"  # RFC 9110: a 405 names what the resource supports
    status, headers, body = local_server.raw(method, "/v1/no-such-thing")
    assert status == 404 and json.loads(body)["error"]["code"] == "NOT_FOUND"


def test_given_head_on_a_route_when_sent_then_a_json_405_with_its_headers_but_no_body(local_server: Server) -> None:
    status, headers, body = local_server.raw("HEAD", "/v1/accounts")
    assert status == 405 and headers["content-type"] == "application/json"
    assert body == b""  # HTTP forbids a body in the answer to a HEAD
    assert int(headers["content-length"]) > 0  # the length the body would have had
    assert local_server.raw("HEAD", "/v1/no-such-thing")[::2] == (404, b"")
