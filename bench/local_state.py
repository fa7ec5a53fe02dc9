"""The local runtime at the size of a firm's year (issue 20, "Local books that scale").

Figures (every ratio against a floor measured in the same run, on the same machine):
- growth: bookings/s over HTTP (keep-alive http.client, one POST /v1/bookings at a time) on a state of
  ~50k items and ~200 MB of documents vs an empty state                                      (>= 0.8)
  Every side (both servers, the in-process children below) runs at once and is measured in turns
  (its order turning each round, each side left to go idle before the next); a ratio is the median
  of its per-round ratios (a load change on the shared machine hits both sides of one round alike),
  a rate the median of its rounds (the best round too).
  The bookings go to the demo tenant, which is the firm that owns the big state (so the journal's own
  growth is in the figure, as a user would see it), and, as a control, to a new tenant on the big state.
- start-up: from spawning `python -m local` on the big state to the "ready" line             (<= 15 s)
- http_vs_in_process: the same booking through `python -m local` over HTTP vs through the in-process
  gateway on in-process moto (`local.gateway.Gateway().request`, as bench/journal.py)         (>= 0.5)
  with where the time goes, as CPU per booking of the serving process: the same gateway on moto as
  `python -m local` sets it up, with and without the write-ahead log, and with every AWS call over
  HTTP to moto's server (the runtime before), so that the log, the front HTTP server and moto over
  HTTP are each one difference of two measured figures.

The big state is built through the real write path (the gateway in a child process, batch bookings of
100 and document uploads, the write-ahead log on), then compacted: a steady state is one snapshot plus
a short log. LOCAL_STATE_ITEMS and LOCAL_STATE_DOC_MB make it smaller for a quick try.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KEY = "ll_" + "BenchLocalState0123456789abcdefghijKLMNOP"
ITEMS = int(os.environ.get("LOCAL_STATE_ITEMS", "50000"))
DOC_MB = int(os.environ.get("LOCAL_STATE_DOC_MB", "200"))
DOC_BYTES = 1024 * 1024
ROUNDS, ROUND_SIZE = 12, 25


def _booking(i: int, date: str = "2026-01-15") -> dict[str, Any]:
    return {"booking_date": date, "description": f"Bench {i} {uuid.uuid4().hex[:8]}",
            "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": f"{100 + i % 900}.{i % 100:02d}",
                       "tax_code": "VSt19"}]}


def _env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "TABLE_NAME")}
    env.update({"LEDGERLOU_STATE_DIR": str(state_dir), "LEDGERLOU_DEV_API_KEY": KEY,
                "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "core" / "python")]),
                "POWERTOOLS_LOG_LEVEL": "ERROR"})
    return env


def _child(args: list[str], state_dir: Path, timeout: float = 900) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.local_state", *args], cwd=ROOT, env=_env(state_dir),
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"bench.local_state {args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ------------------------------------------------------------------------------------------ children
def _item_count(table: str) -> int:
    from local import state

    t = state._find_table(table)
    return sum(len(v) for v in t.items.values())


def _build(target_items: int, doc_mb: int) -> dict[str, Any]:
    """In a fresh interpreter: the local runtime in-process, fed through its gateway until the table holds
    ``target_items`` items and the documents bucket ``doc_mb`` MB, then compacted and closed."""
    from local import server

    started = time.monotonic()
    moto = server.start_moto(in_process=True)
    runtime = server.Runtime()
    _, key = runtime.demo_tenant()
    gw, table = runtime.gateway, runtime.names["LedgerTable"]
    auth = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    def settle() -> int:
        # the projector works behind the stream: wait until it has caught up (the count stops growing)
        last = -1
        while (count := _item_count(table)) != last:
            last = count
            time.sleep(1.5)
        return count

    def book(batches: int) -> None:
        nonlocal n
        for _ in range(batches):
            # a year: each batch on its own day
            day = n // 100
            batch = [_booking(n + i, f"2026-{1 + day % 12:02d}-{1 + day // 12 % 28:02d}") for i in range(100)]
            n += 100
            resp = gw.request("POST", "/v1/bookings/batch", auth, json.dumps({"bookings": batch}))
            assert resp.status == 201, resp.body[:300]

    n = 0
    base = _item_count(table)
    book(5)
    per_booking = (settle() - base) / n  # then as many more as the target needs
    book(max(0, round((target_items - _item_count(table)) / per_booking / 100)))
    settle()
    doc_bytes = 0
    for i in range(doc_mb * 1024 * 1024 // DOC_BYTES):
        pdf = b"%PDF-1.7\n" + os.urandom(DOC_BYTES - 9)  # incompressible, as scanned invoices are
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"invoice-{i}.pdf\"\r\n"
                f"Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
        resp = gw.request("POST", "/v1/documents", {"authorization": f"Bearer {key}",
                                                    "content-type": f"multipart/form-data; boundary={boundary}"}, body)
        assert resp.status == 201, resp.body[:300]
        doc_bytes += len(pdf)
    items = _item_count(table)
    assert runtime.books.compact_now(timeout=600)
    runtime.shutdown()
    moto.stop()
    return {"bookings": n, "items": items, "documents": doc_mb * 1024 * 1024 // DOC_BYTES,
            "document_mb": round(doc_bytes / 2**20, 1), "build_s": round(time.monotonic() - started, 1)}


def _in_process(mode: str) -> None:
    """In a fresh interpreter: bookings through local.gateway.Gateway().request, on in-process moto
    (``mock``, as bench/journal.py), on moto as `python -m local` runs it (``runtime``: its backends
    called in-process, the write-ahead log on; ``runtime-nolog``: the log off), or with every AWS call
    over HTTP to moto's server (``http-moto``, as `python -m local` did before). Serves rounds on
    request (stdin: ``round BASE SIZE``), so that the parent can interleave them with its HTTP rounds
    (a load change then hits every side)."""
    import gc

    from local import server, state

    if mode == "mock":
        os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                           "AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1",
                           "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"})
        from moto import mock_aws

        from local.moto_fidelity import make_conditional_writes_atomic

        make_conditional_writes_atomic()
        mock_aws().start()
    else:
        server.start_moto(in_process=mode != "http-moto")
    runtime = server.Runtime()
    if mode == "runtime-nolog":
        state.activate(None)
    _, key = runtime.demo_tenant()
    auth = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    gc.collect()
    gc.freeze()
    # the app logs JSON to stdout too: the replies to the parent carry a prefix of their own
    print("BENCH " + json.dumps({"ready": mode}), flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command != "round":
            break
        base, size = int(args[0]), int(args[1])
        bodies = [json.dumps(_booking(base + i)) for i in range(size)]
        latencies = []
        start = time.perf_counter()
        for body in bodies:
            t0 = time.perf_counter()
            resp = runtime.gateway.request("POST", "/v1/bookings", auth, body)
            latencies.append(time.perf_counter() - t0)
            assert resp.status == 201, resp.body[:300]
        print("BENCH " + json.dumps({"rate": size / (time.perf_counter() - start), "latencies": latencies}),
              flush=True)
    runtime.shutdown()


class InProcess:
    """A child running _in_process(mode), driven round by round."""

    def __init__(self, mode: str, state_dir: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.local_state", "--in-process", mode], cwd=ROOT,
                                     env=_env(state_dir), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        assert json.loads(self._line())["ready"] == mode

    def _line(self) -> str:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("in-process bench child died")
            if line.startswith("BENCH "):
                return line[len("BENCH "):]

    def round(self, base: int, size: int) -> tuple[float, list[float]]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"round {base} {size}\n")
        self.proc.stdin.flush()
        out = json.loads(self._line())
        return float(out["rate"]), list(out["latencies"])

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _cpu_s(pid: int) -> float:
    """A process's CPU time (user + system, every thread), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _settle(pid: int, timeout: float = 5.0) -> None:
    """Wait until the process is idle again: its projector catches up behind the bookings (~half of a
    booking's CPU), and that work must not land in the next side's round. Idle means no CPU for longer
    than the stream poller's pause between empty polls (0.5 s), else a pause would look like the end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _cpu_s(pid)
        time.sleep(0.7)
        if _cpu_s(pid) - before < 0.021:  # two clock ticks (pollers' idle work): idle
            return


# ------------------------------------------------------------------------------------------ over HTTP
class LocalServer:
    def __init__(self, state_dir: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        spawned = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "local", "--port", str(self.port)], cwd=ROOT,
                                     env=_env(state_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output: list[str] = []
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            if "demo API key" in line:
                break
        else:
            raise RuntimeError("local runtime did not start:\n" + "".join(self.output))
        self.ready_s = time.monotonic() - spawned
        threading.Thread(target=self._drain, daemon=True).start()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.key = KEY

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    def round(self, base: int, size: int, key: str | None = None) -> tuple[float, list[float]]:
        latencies = []
        start = time.perf_counter()
        for i in range(size):
            t0 = time.perf_counter()
            status, body = self.call("POST", "/v1/bookings", _booking(base + i), key=key)
            latencies.append(time.perf_counter() - t0)
            assert status == 201, body
        return size / (time.perf_counter() - start), latencies

    def stop(self) -> float:
        self.conn.close()
        started = time.monotonic()
        self.proc.terminate()
        self.proc.wait(timeout=30)
        return time.monotonic() - started


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(len(s) * q))] * 1000, 1)


def run() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-local-state-"))
    try:
        big_dir, empty_dir = work / "big", work / "empty"
        built = _child(["--build", str(ITEMS), str(DOC_MB)], big_dir, timeout=1800)
        on_disk = {p.name: round(p.stat().st_size / 2**20, 1) for p in big_dir.glob("*.jsonl")}
        big = LocalServer(big_dir)
        empty = LocalServer(empty_dir)
        inproc = {mode: InProcess(mode, work / f"inproc-{mode}")
                  for mode in ("mock", "runtime-nolog", "runtime", "http-moto")}
        try:
            status, fresh = big.call("POST", "/_local/tenants", {"name": "Bench fresh", "chart": "skr03"})
            assert status == 201, fresh
            sides: dict[str, Any] = {
                "empty": (empty.proc.pid, lambda b, n: empty.round(b, n)),
                "big": (big.proc.pid, lambda b, n: big.round(b, n)),
                "big_new_tenant": (big.proc.pid, lambda b, n: big.round(b, n, key=fresh["api_key"])),
                **{f"in_process_{m}": (child.proc.pid, child.round) for m, child in inproc.items()}}
            for pid, side in sides.values():  # warm: the first booking of the day reads the day's fingerprints
                side(900_000, 2)
                _settle(pid)
            rates: dict[str, list[float]] = {k: [] for k in sides}
            lat: dict[str, list[float]] = {k: [] for k in sides}
            cpu: dict[str, float] = dict.fromkeys(sides, 0.0)
            names = list(sides)
            for r in range(ROUNDS):
                # the order turns every round (no side always follows the same one), and each side's round
                # counts its process's CPU until it is idle again (the projector's catch-up included)
                for name in names[r % len(names):] + names[:r % len(names)]:
                    pid, side = sides[name]
                    before = _cpu_s(pid)
                    rate, latencies = side(r * 1000, ROUND_SIZE)
                    _settle(pid)
                    rates[name].append(rate)
                    lat[name].extend(latencies)
                    cpu[name] += _cpu_s(pid) - before
            verified = big.call("GET", "/v1/journal/verify")[1]
            assert verified["verified"], verified
            rss = {"big": big.rss_mb(), "empty": empty.rss_mb()}
        finally:
            stop_big, stop_empty = big.stop(), empty.stop()
            for child in inproc.values():
                child.stop()
        restart = LocalServer(big_dir)  # the same books again, now with this run's log to replay
        try:
            assert restart.call("GET", "/v1/journal/verify")[1]["verified"]
        finally:
            restart.stop()
        best = {k: max(v) for k, v in rates.items()}
        median = {k: statistics.median(v) for k, v in rates.items()}

        def ratio(a: str, b: str) -> float:
            return round(statistics.median(x / y for x, y in zip(rates[a], rates[b], strict=True)), 3)

        # CPU per booking of the process that serves it (its request and projector threads, until idle; for
        # the HTTP server not the client's): what each layer costs, much less moved by the machine's other
        # load than wall time is.
        per_ms = {k: cpu[side] / (ROUNDS * ROUND_SIZE) * 1000 for k, side in (
            ("in_process_gateway_mock", "in_process_mock"), ("gateway_runtime_no_log", "in_process_runtime-nolog"),
            ("gateway_runtime_with_log", "in_process_runtime"),
            ("gateway_all_aws_calls_over_http", "in_process_http-moto"), ("http_local_server", "empty"))}
        return {
            "name": "local_state",
            "state": {**built, "files_mb": on_disk},
            "bookings_per_s": {k: {"median": round(median[k], 1), "best": round(best[k], 1),
                                   "server_cpu_ms_per_booking": round(cpu[k] / (ROUNDS * ROUND_SIZE) * 1000, 2)}
                               for k in rates},
            "latency_ms": {k: {"p50": _pct(v, 0.5), "p99": _pct(v, 0.99)} for k, v in lat.items()},
            "growth_big_vs_empty": {"ratio": ratio("big", "empty"), "target": ">= 0.8",
                                    "new_tenant_on_big_state": ratio("big_new_tenant", "empty"),
                                    "method": f"median of per-round ratios, {ROUNDS} alternating rounds of "
                                              f"{ROUND_SIZE} keep-alive POSTs"},
            "startup_s": {"big": round(big.ready_s, 2), "big_after_its_log": round(restart.ready_s, 2),
                          "empty": round(empty.ready_s, 2), "target": "<= 15 (big)"},
            "sigterm_exit_s": {"big": round(stop_big, 2), "empty": round(stop_empty, 2), "target": "<= 2"},
            "server_rss_mb": rss,
            "http_vs_in_process": {
                "ratio": ratio("empty", "in_process_mock"), "target": ">= 0.5",
                "gateway_with_every_aws_call_over_http_vs_mock": ratio("in_process_http-moto", "in_process_mock"),
                "cpu_ms_per_booking": {k: round(v, 2) for k, v in per_ms.items()},
                "where_the_cpu_goes_ms_per_booking": {
                    "app_and_moto_in_process": round(per_ms["in_process_gateway_mock"], 2),
                    "runtime_setup_vs_plain_mock": round(per_ms["gateway_runtime_no_log"]
                                                         - per_ms["in_process_gateway_mock"], 2),
                    "write_ahead_log": round(per_ms["gateway_runtime_with_log"] - per_ms["gateway_runtime_no_log"], 2),
                    "front_http_server": round(per_ms["http_local_server"] - per_ms["gateway_runtime_with_log"], 2),
                    "saved_by_calling_moto_in_process": round(per_ms["gateway_all_aws_calls_over_http"]
                                                              - per_ms["gateway_runtime_with_log"], 2)}},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        print(json.dumps(_build(int(sys.argv[2]), int(sys.argv[3]))))
    elif sys.argv[1:2] == ["--in-process"]:
        _in_process(sys.argv[2])
    else:
        print(json.dumps(run(), indent=2))
