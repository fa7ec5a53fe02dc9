"""`make run`: the whole API on http://127.0.0.1:3000 with no Docker and no AWS account.

moto runs in-process (its backends called directly; its HTTP server for S3's presigned URLs and other
processes); the table, buckets and queues come from template.yaml; every HTTP request becomes an API
Gateway v2 event through the authorizer and the group function; SQS and stream pollers feed the
workers; the books are kept under .ledgerlou-local/ (a write-ahead log and snapshots: local.state).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = Path(os.environ.get("LEDGERLOU_STATE_DIR", ROOT / ".ledgerlou-local"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto(in_process: bool = False) -> Any:
    """moto's HTTP server in this process, as the AWS endpoint of this process (and of any other).

    With ``in_process`` (what `make run` does) this process's own DynamoDB, SQS and Streams calls go to
    moto's backends directly (moto's botocore stub), not through the server: the same backends, without
    an HTTP round trip per call (~1.5-2 ms each, ~10 calls a booking, measured in bench local_state).
    S3 stays on the server: the presigned download URLs the API hands out must point at something a
    browser or curl can fetch."""
    import logging

    from moto.server import ThreadedMotoServer
    from werkzeug.serving import WSGIRequestHandler

    from local import state

    state.install()  # conditional writes made atomic, and every write logged before moto answers it

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log would drown ours
    # boto3 keeps its connections to moto alive; werkzeug writes a response's headers and body in two
    # sends, so without TCP_NODELAY the body waits for the ACK of the headers (Nagle), which the client
    # delays (delayed ACK): up to 40 ms per AWS call. Only this process's moto server is affected.
    WSGIRequestHandler.disable_nagle_algorithm = True
    # Its answers reach browsers too (presigned download URLs): no "Werkzeug/3.x Python/3.11.x" banner.
    WSGIRequestHandler.version_string = lambda self: "moto"  # type: ignore[method-assign]

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",  # in-process Streams need it (docs/library-notes.md)
    })
    if in_process:
        from moto import mock_aws

        # reset=False: the server has started its backends already; both must share them
        mock_aws().start(reset=False)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.environ["AWS_ENDPOINT_URL_S3"] = endpoint
    else:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
    return server


class Runtime:
    def __init__(self) -> None:
        from local import pollers, resources, state
        from local.gateway import Gateway

        self.names = resources.create_all()
        resources.apply_environment(self.names)
        # Mail is written as .eml files beside the local books (docs/api-contract.md "People").
        os.environ.setdefault("LEDGERLOU_OUTBOX_DIR", str(STATE_DIR / "outbox"))
        # The documents bucket only: the exports bucket holds copies (exports, import hand-offs) that
        # expire after a day on AWS, the inbound bucket raw mail that is stored as documents. The import and
        # OCR queues: an accepted import or mail must finish after a restart.
        self.books = state.StateLog(STATE_DIR, [self.names["LedgerTable"]], [self.names["DocumentsBucket"]],
                                    queues=[self.names[q].rsplit("/", 1)[-1] for q in ("ImportQueue", "OcrQueue")])
        loaded = self.books.restore()
        state.activate(self.books)
        if loaded["items"] or loaded["objects"]:
            print(f"restored {loaded['items']} items and {loaded['objects']} documents from {STATE_DIR} "
                  f"in {loaded['seconds']}s" + (f" (migrated {loaded['migrated']} from {state.LEGACY_FILE})"
                                                 if loaded["migrated"] else ""), flush=True)
        from ledgerlou.store.base import warm_connections

        warm_connections()  # before the request threads start (see its docstring)
        self.gateway = Gateway()
        self.stop = threading.Event()
        self.threads = pollers.start_all(self.gateway, self.names, self.stop)
        self.smtp: Any = None
        # moto holds the books as millions of small Python objects that live as long as the process:
        # move them out of the collector's sight, else every full collection walks them all (in the
        # requests' time; measured ~0.1 s at 50k items).
        gc.collect()
        gc.freeze()

    def demo_tenant(self) -> tuple[str, str]:
        from ledgerlou.domain.admin import api_keys, tenants

        demo_file = STATE_DIR / "demo.json"
        wanted = os.environ.get("LEDGERLOU_DEV_API_KEY") or None
        if wanted and not api_keys.is_well_formed(wanted):
            raise SystemExit("LEDGERLOU_DEV_API_KEY must be ll_ followed by at least 32 base62 characters")
        if demo_file.exists():
            demo = json.loads(demo_file.read_text())
            if wanted and wanted != demo["key"]:
                if api_keys.authenticate(wanted) is None:
                    api_keys.issue(demo["tenant_id"], "dev (LEDGERLOU_DEV_API_KEY)", ["admin"], "system",
                                   token=wanted)
                return demo["tenant_id"], wanted
            if api_keys.authenticate(demo["key"]) is not None:
                return demo["tenant_id"], demo["key"]
        if wanted and api_keys.authenticate(wanted) is not None:
            ctx = api_keys.authenticate(wanted)
            assert ctx is not None
            return ctx.tenant_id, wanted
        new = tenants.create_tenant("Demo GmbH", "skr03", admin_key=wanted)
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        demo_file.write_text(json.dumps({"tenant_id": new.tenant_id, "key": new.admin_key}))
        return new.tenant_id, new.admin_key

    def start_smtp(self, port: int) -> None:
        """The inbox's SMTP listener (local/smtp.py), the stand-in for SES receiving."""
        from ledgerlou import config

        from local import smtp

        self.smtp = smtp.start(self.gateway, self.names["InboundBucket"], config.inbox_domain(), port)

    def shutdown(self) -> None:
        self.stop.set()
        if self.smtp is not None:
            self.smtp.stop(no_assert=True)
        self.books.close()  # every write is in the log already: nothing to save, only to close


def make_handler(runtime: Runtime) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: every HTTP client library reuses its connections
        # No banner: http.server would announce "BaseHTTP/0.6 Python/3.11.x" (what to attack, for free).
        server_version = "LedgerLou"
        sys_version = ""
        # The answer goes out in one send (see _send); TCP_NODELAY so that no small segment ever waits
        # for the ACK of the one before (Nagle), which a keep-alive client delays by up to 40 ms.
        disable_nagle_algorithm = True

        def log_message(self, fmt: str, *args: Any) -> None:
            if os.environ.get("LEDGERLOU_ACCESS_LOG"):
                super().log_message(fmt, *args)

        def send_response(self, code: int, message: str | None = None) -> None:
            # http.server's own adds a Server header with versions; this one sends the status and Date only
            # (its error pages for unparseable requests come through here too).
            self.log_request(code)
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

        def _body(self) -> bytes | None:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else None

        def _handle(self) -> None:
            try:
                body = self._body()
            except ValueError:
                self.close_connection = True  # the request's framing is broken: the rest cannot be read
                self._send(400, {"content-type": "application/json"},
                           b'{"error":{"code":"INVALID_INPUT","message":"Malformed request body framing."}}')
                return
            try:
                if self.path.startswith("/_local/"):
                    status, payload = self._local(body)
                    headers = {"content-type": "application/json"}
                    raw = json.dumps(payload).encode("utf-8")
                else:
                    resp = runtime.gateway.request(self.command, self.path, dict(self.headers.items()), body)
                    status, headers, raw = resp.status, resp.headers, resp.body
            except Exception:  # noqa: BLE001 - the gateway answers errors itself; this is a bug: say so, stay up
                import traceback

                traceback.print_exc()
                status, headers = 500, {"content-type": "application/json"}
                raw = b'{"error":{"code":"INTERNAL_ERROR","message":"Internal error."}}'
            self._send(status, headers, raw)

        def _send(self, status: int, headers: dict[str, str], raw: bytes) -> None:
            self.log_request(status)
            reason = self.responses.get(status, ("",))[0]
            head = [f"{self.protocol_version} {status} {reason}", f"Date: {self.date_time_string()}"]
            head += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("content-length", "connection")]
            head.append(f"Content-Length: {len(raw)}")
            if self.close_connection:
                head.append("Connection: close")
            # Headers and body in one write (http.server's end_headers would send the headers on their own).
            # Header values are latin-1 on the wire (RFC 9110 5.5), as http.server writes them.
            data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "strict")
            self.wfile.write(data if self.command == "HEAD" else data + raw)  # HEAD: the headers, never a body

        def _local(self, body: bytes | None) -> tuple[int, dict[str, Any]]:
            """Local-only operator endpoints (never deployed): create a tenant for `make tenant`; fold the
            log into a snapshot now (tests, and before copying the state directory)."""
            if self.command == "POST" and self.path == "/_local/tenants":
                from ledgerlou.domain.admin import tenants
                from ledgerlou.errors import DomainError

                data = json.loads(body or b"{}")
                try:
                    new = tenants.create_tenant(str(data.get("name", "")), str(data.get("chart", "skr03")))
                except DomainError as ex:
                    return ex.status, {"error": {"code": ex.code, "message": ex.message}}
                return 201, {"tenant_id": new.tenant_id, "name": new.name, "chart": new.chart,
                             "api_key": new.admin_key}
            from ledgerlou.errors import CompactionTimeout, NotFound

            if self.command == "POST" and self.path == "/_local/compact":
                done = runtime.books.compact_now()
                return (200, {"compacted": True}) if done else (CompactionTimeout.status, {"error": {
                    "code": CompactionTimeout.code, "message": "The compaction did not finish in time."}})
            return NotFound.status, {"error": {"code": NotFound.code, "message": "No such local endpoint."}}

        # Every method goes to the gateway, which answers a JSON 405 METHOD_NOT_ALLOWED (or 404 NOT_FOUND) for
        # one no route has, as for any other request: not http.server's 501 HTML page.
        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = do_CONNECT = _handle

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):  # extension methods (PROPFIND, ...): http.server looks up do_<METHOD>
                return self._handle
            raise AttributeError(name)

    return Handler


class LocalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # an idle keep-alive connection must not keep a stopping runtime alive
    request_queue_size = 128  # socketserver's 5 refuses (or delays by a SYN retry) a burst of clients


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="LedgerLou local runtime")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=int(os.environ.get("SMTP_PORT", "2525")),
                        help="the inbox's SMTP listener on 127.0.0.1 (0: none)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core" / "python")]
    # LEDGERLOU_MOTO=server sends every AWS call over HTTP to moto (to measure what in-process saves)
    moto = start_moto(in_process=os.environ.get("LEDGERLOU_MOTO", "in-process") != "server")
    runtime = Runtime()
    tenant_id, key = runtime.demo_tenant()
    httpd = LocalHTTPServer((args.host, args.port), make_handler(runtime))
    if args.smtp_port:
        runtime.start_smtp(args.smtp_port)

    stopping = threading.Event()

    def _stop(*_: Any) -> None:
        if stopping.is_set():  # a second Ctrl-C: the books are in the log already, go now
            os._exit(130)
        stopping.set()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    base = f"http://{args.host}:{args.port}"
    print(f"LedgerLou local API ready in {time.monotonic() - started:.1f}s", flush=True)
    print(f"  base URL:      {base}/v1", flush=True)
    print(f"  OpenAPI:       {base}/v1/openapi.json", flush=True)
    print(f"  demo tenant:   {tenant_id} (SKR03)", flush=True)
    if args.smtp_port:
        from ledgerlou.domain.inbox import address

        print(f"  inbox (SMTP):  127.0.0.1:{args.smtp_port}, demo inbox {address.address_of(tenant_id)}", flush=True)
    print(f"  demo API key:  {key}", flush=True)
    print(f"  try:           curl -H \"Authorization: Bearer {key}\" {base}/v1/accounts", flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        runtime.shutdown()
        print(f"stopped; local books in {STATE_DIR}", flush=True)
        sys.stderr.flush()
    # Every write is in the closed log: nothing is left to save. Tearing down moto (its server polls
    # every 0.5 s) and freeing a heap of a million objects one by one only delays the exit (measured
    # 0.8-1.6 s of the 2 s a Ctrl-C may take), so leave without it.
    del moto
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
