"""e2e: `python -m local` (what `make run` starts) serves the API over HTTP; state survives a restart."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "ll_" + "E2eTestKey0123456789abcdefghijABCDEFGHIJ"
pytestmark = pytest.mark.e2e


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, state_dir: Path) -> None:
        self.port = _port()
        env = {**os.environ, "LEDGERLOU_STATE_DIR": str(state_dir), "LEDGERLOU_DEV_API_KEY": KEY,
               "PYTHONPATH": f"{ROOT}:{ROOT / 'layers' / 'core' / 'python'}"}
        for k in ("AWS_ENDPOINT_URL", "TABLE_NAME"):
            env.pop(k, None)
        self.proc = subprocess.Popen([sys.executable, "-m", "local", "--port", str(self.port)], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output: list[str] = []
        deadline = time.monotonic() + 60
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if "demo API key" in line:
                return
        raise AssertionError("local runtime did not start:\n" + "".join(self.output))

    def call(self, method: str, path: str, body: Any = None, token: str | None = KEY) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback
                raw = resp.read()
                return resp.status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw
        except urllib.error.HTTPError as ex:
            return ex.code, json.loads(ex.read() or b"{}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


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
