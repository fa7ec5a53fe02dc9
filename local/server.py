"""`make run`: the whole API on http://127.0.0.1:3000 with no Docker and no AWS account.

moto's server runs in-process as the AWS endpoint; the table, buckets and queues come from
template.yaml; every HTTP request becomes an API Gateway v2 event through the authorizer and the
group function; SQS and stream pollers feed the workers; the books are saved under .ledgerlou-local/.
"""

from __future__ import annotations

import argparse
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


def start_moto() -> Any:
    import logging

    from moto.server import ThreadedMotoServer

    from local.moto_fidelity import make_conditional_writes_atomic

    make_conditional_writes_atomic()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log would drown ours

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    })
    return server


class Runtime:
    def __init__(self) -> None:
        from local import pollers, resources
        from local.gateway import Gateway

        self.names = resources.create_all()
        resources.apply_environment(self.names)
        self.state_file = STATE_DIR / "state.json.gz"
        from local import state

        restored = state.restore(self.state_file, self.names["LedgerTable"], self.names["DocumentsBucket"])
        if restored:
            print(f"restored {restored} items from {self.state_file}", flush=True)
        from ledgerlou.store.base import warm_connections

        warm_connections()  # before the request threads start (see its docstring)
        self.gateway = Gateway()
        self.stop = threading.Event()
        self.dirty = threading.Event()
        self.threads = pollers.start_all(self.gateway, self.names, self.stop)
        threading.Thread(target=self._saver, daemon=True, name="state-saver").start()

    def _saver(self) -> None:
        while not self.stop.wait(2.0):
            if self.dirty.is_set():
                self.dirty.clear()
                self.save()

    def save(self) -> None:
        from local import state

        try:
            state.save(self.state_file, self.names["LedgerTable"], self.names["DocumentsBucket"])
        except Exception as ex:  # noqa: BLE001 - never kill the server over a snapshot
            print(f"warning: could not save local state: {ex}", file=sys.stderr, flush=True)

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
        self.dirty.set()
        return new.tenant_id, new.admin_key

    def shutdown(self) -> None:
        self.stop.set()
        self.save()


def make_handler(runtime: Runtime) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "LedgerLouLocal/1"

        def log_message(self, fmt: str, *args: Any) -> None:
            if os.environ.get("LEDGERLOU_ACCESS_LOG"):
                super().log_message(fmt, *args)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.path.startswith("/_local/"):
                status, payload = self._local(body)
                headers = {"content-type": "application/json"}
                raw = json.dumps(payload).encode("utf-8")
            else:
                resp = runtime.gateway.request(self.command, self.path, dict(self.headers.items()), body)
                status, headers, raw = resp.status, resp.headers, resp.body
                if self.command not in ("GET", "HEAD", "OPTIONS") and status < 400:
                    runtime.dirty.set()
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() not in ("content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer has the headers of the body but never the body
                self.wfile.write(raw)

        def _local(self, body: bytes | None) -> tuple[int, dict[str, Any]]:
            """Local-only operator endpoints (never deployed): create a tenant for `make tenant`."""
            if self.command == "POST" and self.path == "/_local/tenants":
                from ledgerlou.domain.admin import tenants
                from ledgerlou.errors import DomainError

                data = json.loads(body or b"{}")
                try:
                    new = tenants.create_tenant(str(data.get("name", "")), str(data.get("chart", "skr03")))
                except DomainError as ex:
                    return ex.status, {"error": {"code": ex.code, "message": ex.message}}
                runtime.dirty.set()
                return 201, {"tenant_id": new.tenant_id, "name": new.name, "chart": new.chart,
                             "api_key": new.admin_key}
            from ledgerlou.errors import NotFound

            return NotFound.status, {"error": {"code": NotFound.code, "message": "No such local endpoint."}}

        # Every method goes to the gateway, which answers a JSON 405 METHOD_NOT_ALLOWED (or 404 NOT_FOUND) for
        # one no route has, as for any other request: not http.server's 501 HTML page.
        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = do_CONNECT = _handle

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):  # extension methods (PROPFIND, ...): http.server looks up do_<METHOD>
                return self._handle
            raise AttributeError(name)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="LedgerLou local runtime")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    started = time.monotonic()
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core" / "python")]
    moto = start_moto()
    runtime = Runtime()
    tenant_id, key = runtime.demo_tenant()
    httpd = ThreadingHTTPServer((args.host, args.port), make_handler(runtime))
    httpd.daemon_threads = True

    def _stop(*_: Any) -> None:
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    base = f"http://{args.host}:{args.port}"
    print(f"LedgerLou local API ready in {time.monotonic() - started:.1f}s", flush=True)
    print(f"  base URL:      {base}/v1", flush=True)
    print(f"  OpenAPI:       {base}/v1/openapi.json", flush=True)
    print(f"  demo tenant:   {tenant_id} (SKR03)", flush=True)
    print(f"  demo API key:  {key}", flush=True)
    print(f"  try:           curl -H \"Authorization: Bearer {key}\" {base}/v1/accounts", flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        runtime.shutdown()
        moto.stop()
        print("stopped; local books saved in " + str(runtime.state_file), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
