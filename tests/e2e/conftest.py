"""e2e helpers: start `python -m local` (what `make run` starts) in a subprocess and speak HTTP to it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "ll_" + "E2eTestKey0123456789abcdefghijABCDEFGHIJ"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m local --port <free port>` with its books in `state_dir` and `KEY` as the demo tenant's key."""

    def __init__(self, state_dir: Path) -> None:
        self.port = _port()
        self.smtp_port = _port()  # the inbox's SMTP listener: never the default 2525 (servers run side by side)
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "LEDGERLOU_STATE_DIR": str(state_dir), "LEDGERLOU_DEV_API_KEY": KEY,
               "SMTP_PORT": str(self.smtp_port),
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
                # Keep reading what the server logs: once the pipe's buffer is full, the next log line would block
                # the request thread that writes it (and with it every request waiting for that function's lock).
                threading.Thread(target=self._drain, daemon=True, name=f"local-{self.port}-output").start()
                return
        raise AssertionError("local runtime did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

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

    def raw(self, method: str, path: str, token: str | None = KEY) -> tuple[int, dict[str, str], bytes]:
        """Any method over a plain socket: status, headers (lower-case names) and every byte after the header
        block exactly as the server sent it until it closed the connection (HTTP clients would not read a
        body after a HEAD, so they could not tell whether one was sent)."""
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        request = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{auth}Connection: close\r\n\r\n"
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(request.encode("ascii"))
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("iso-8859-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
        return int(status_line.split()[1]), headers, body

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        if log := os.environ.get("LEDGERLOU_E2E_LOG"):
            # Where a 500 came from: the runtime logs every unhandled error with its traceback.
            Path(log).write_text("".join(self.output), encoding="utf-8")


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One local runtime for the whole module, its books in a temporary directory (never .ledgerlou-local)."""
    server = Server(tmp_path_factory.mktemp("local-runtime") / "state")
    try:
        yield server
    finally:
        server.stop()
