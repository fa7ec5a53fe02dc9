"""Inbox figures (issue 18, "Speed"), measured in one run against the local runtime as `make run` builds it
(moto in-process, the gateway from template.yaml, the OCR queue's poller, the aiosmtpd listener):

- e-invoice PDF end to end: SMTP in (smtplib to the listener) → inbound function (raw MIME in the inbound
  bucket, SES-shaped event, document + item + log) → OCR queue → worker batch → item ``extracted``, against
  factur-x alone on the same file (get_xml_from_pdf + parse_ubl_cii_xml, no XSD:
  domain/inbox/einvoice.facturx_floor). Rounds alternate the two sides.                         (≤ 3×)
- a mail with 20 attachments: wall time until all 20 items are done with the worker's batch running its
  records one after another (OCR_WORKER_THREADS=1) and side by side (4 threads), and the most items that
  were in extraction at the same moment (from each record's start and end).

The sample is ../shared/samples/zugferd/mustang_RE-20201121_508.pdf (ZUGFeRD 2, ~100 KB); absent, the
bench says so and measures nothing.
"""

from __future__ import annotations

import os
import smtplib
import socket
import statistics
import tempfile
import threading
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "samples" / "zugferd" / "mustang_RE-20201121_508.pdf"
ROUNDS = 12
ATTACHMENTS = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _smtp_transport_ms(msg: EmailMessage, rounds: int = ROUNDS) -> float:
    """Median ms to hand ``msg`` to an aiosmtpd listener that accepts it and does nothing with it."""
    from aiosmtpd.controller import Controller

    class Accept:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    port = _free_port()
    controller = Controller(Accept(), hostname="127.0.0.1", port=port, ready_timeout=5.0)
    controller.start()
    try:
        times = []
        for _ in range(rounds + 1):
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                smtp.send_message(msg)
            times.append(time.perf_counter() - started)
        return statistics.median(times[1:]) * 1000
    finally:
        controller.stop()


def _covered(spans: list[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of [start, end] inside at least one span (calls of several threads may overlap)."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in spans if b > start and a < end)
    total, reach = 0.0, start
    for a, b in clipped:
        if b > reach:
            total += b - max(a, reach)
            reach = b
    return total


def _mail(to: str, pdf: bytes, n: int, tag: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "rechnung@beispiel.example", to, f"Rechnung {tag}"
    msg.set_content("Anbei.")
    for i in range(n):
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{tag}-{i}.pdf")
    return msg


def run() -> dict[str, Any]:
    if not SAMPLE.exists():
        return {"skipped": f"{SAMPLE} not present"}
    os.environ["LEDGERLOU_STATE_DIR"] = tempfile.mkdtemp(prefix="ledgerlou-bench-inbox-")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from local import server

    server.start_moto(in_process=True)
    runtime = server.Runtime()
    tenant_id, key = runtime.demo_tenant()
    smtp_port = _free_port()
    runtime.start_smtp(smtp_port)
    try:
        return _measure(runtime, tenant_id, key, smtp_port)
    finally:
        runtime.shutdown()


def _measure(runtime: Any, tenant_id: str, key: str, smtp_port: int) -> dict[str, Any]:
    import botocore.client
    from ledgerlou.domain.inbox import address, einvoice, extraction
    from ledgerlou.domain.inbox import worker as inbox_worker
    from ledgerlou.store.inbox import items as item_store

    import functions.ocr_worker.app as worker_app

    pdf = SAMPLE.read_bytes()
    gw = runtime.gateway
    auth = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    created = gw.request("POST", "/v1/vendors", auth, '{"name": "Bei Spiel GmbH", "vat_id": "DE136695976"}')
    assert created.status == 201, created.body
    to = address.address_of(tenant_id)

    # Every record's extraction interval, to show how many ran at the same moment
    intervals: list[tuple[float, float]] = []
    lock = threading.Lock()
    original = inbox_worker.process_message

    def timed(body: str, receive_count: int = 1) -> str:
        start = time.perf_counter()
        try:
            return original(body, receive_count)
        finally:
            with lock:
                intervals.append((start, time.perf_counter()))

    inbox_worker.process_message = timed  # type: ignore[assignment]

    def send(msg: EmailMessage) -> None:
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as smtp:
            smtp.send_message(msg)

    def done_items(names: set[str]) -> list[Any]:
        items = item_store.query(tenant_id, None, 500, 0)
        return [i for i in items if i.original_name in names and i.status in ("extracted", "rejected", "failed")]

    def wait(names: set[str], timeout_s: float = 120.0) -> list[Any]:
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            got = done_items(names)
            if len(got) == len(names):
                return got
            time.sleep(0.02)
        raise TimeoutError(f"{len(names)} items not done in {timeout_s}s")

    def release(items: list[Any]) -> None:
        # reject what was extracted: its (vendor, number) claim is given up, the next round extracts again
        for item in items:
            if item.status == "extracted":
                resp = gw.request("POST", f"/v1/inbox/{item.inbox_id}/reject", auth, '{"reason": "bench"}')
                assert resp.status == 200, resp.body

    # warm both paths (imports, the first invocation of each function)
    einvoice.facturx_floor(pdf)
    send(_mail(to, pdf, 1, "warm"))
    release(wait({"warm-0.pdf"}))

    # AWS calls on the path (every botocore call of this process: moto answers them in-process or over HTTP)
    # and the time spent inside them: what the emulator costs, apart from the path's own code
    calls: list[str] = []
    call_spans: list[tuple[float, float]] = []
    make_api_call = botocore.client.BaseClient._make_api_call

    def counted(self: Any, operation: str, params: Any) -> Any:
        if threading.current_thread() is threading.main_thread():  # wait()'s polls are the bench's own
            return make_api_call(self, operation, params)
        calls.append(operation)
        start = time.perf_counter()
        try:
            return make_api_call(self, operation, params)
        finally:
            with lock:
                call_spans.append((start, time.perf_counter()))

    e2e, floor, pipeline, inbound_s, hop_s, worker_s, per_round_calls = [], [], [], [], [], [], []
    in_calls: list[float] = []
    last_calls: list[str] = []
    for r in range(ROUNDS):
        started = time.perf_counter()
        einvoice.facturx_floor(pdf)
        floor.append(time.perf_counter() - started)
        started = time.perf_counter()
        extraction.extract(pdf, filename="x.pdf", content_type="application/pdf")
        pipeline.append(time.perf_counter() - started)
        calls.clear()
        call_spans.clear()
        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
        tag = f"r{r}"
        intervals.clear()
        started = time.perf_counter()
        send(_mail(to, pdf, 1, tag))
        sent = time.perf_counter()
        [item] = wait({f"{tag}-0.pdf"})
        assert item.status == "extracted", (item.status, item.failure_reason, item.rejected_reason)
        # the end is the worker's own end of the record (the bench's polling of the table adds nothing)
        while not intervals:
            time.sleep(0.001)
        [(worker_start, worker_end)] = intervals
        botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
        per_round_calls.append(len(calls))
        in_calls.append(_covered(call_spans, started, worker_end))
        last_calls = list(calls)
        e2e.append(worker_end - started)
        inbound_s.append(sent - started)
        hop_s.append(worker_start - sent)
        worker_s.append(worker_end - worker_start)
        release([item])
    e2e_ms, floor_ms = statistics.median(e2e) * 1000, statistics.median(floor) * 1000
    smtp_ms = _smtp_transport_ms(_mail(to, pdf, 1, "null"))
    own_ms = statistics.median(e - c for e, c in zip(e2e, in_calls, strict=True)) * 1000

    def many(threads: int, tag: str) -> dict[str, Any]:
        worker_app.THREADS = threads
        intervals.clear()
        names = {f"{tag}-{i}.pdf" for i in range(ATTACHMENTS)}
        started = time.perf_counter()
        send(_mail(to, pdf, ATTACHMENTS, tag))
        smtp_done = time.perf_counter()
        items = wait(names)
        wall = time.perf_counter() - started
        release(items)
        events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
        running = peak = 0
        for _, step in events:
            running += step
            peak = max(peak, running)
        busy = sum(e - s for s, e in intervals)
        return {"threads": threads, "wall_s": round(wall, 3), "smtp_and_inbound_s": round(smtp_done - started, 3),
                "items_done": len(items), "records_processed": len(intervals),
                "sum_of_record_times_s": round(busy, 3), "peak_records_at_once": peak,
                "overlap": round(busy / max(wall - (smtp_done - started), 1e-9), 2)}

    serial = many(1, "serial")
    parallel = many(4, "parallel")
    inbox_worker.process_message = original  # type: ignore[assignment]
    return {
        "sample": SAMPLE.name, "sample_bytes": len(pdf), "rounds": ROUNDS,
        "einvoice_end_to_end_ms": round(e2e_ms, 1), "facturx_alone_ms": round(floor_ms, 1),
        "ratio_end_to_end_vs_facturx": round(e2e_ms / floor_ms, 2), "target_ratio": 3.0,
        "end_to_end_p90_ms": round(sorted(e2e)[int(len(e2e) * 0.9) - 1] * 1000, 1),
        "extraction_pipeline_alone_ms": round(statistics.median(pipeline) * 1000, 1),
        "aws_calls_on_the_path": statistics.median(per_round_calls),
        # the wall time of the path spent inside those calls (long polls clipped to the round), and the rest:
        # the path's own code (MIME, extraction, bookkeeping of items and logs) against factur-x alone
        "time_in_aws_calls_ms": round(statistics.median(in_calls) * 1000, 1),
        "path_without_aws_calls_ms": round(own_ms, 1),
        "ratio_path_without_aws_calls_vs_facturx": round(own_ms / floor_ms, 2),
        # the SMTP session alone (aiosmtpd answering 250 at once to the same mail): the client's side of the path
        "smtp_transport_alone_ms": round(smtp_ms, 1),
        "ratio_path_without_aws_calls_and_smtp_vs_facturx": round((own_ms - smtp_ms) / floor_ms, 2),
        "aws_calls_of_the_last_round": dict(sorted(Counter(last_calls).items())),
        "end_to_end_parts_median_ms": {
            "smtp_and_inbound_function": round(statistics.median(inbound_s) * 1000, 1),
            "queue_hop_to_worker": round(statistics.median(hop_s) * 1000, 1),
            "worker_record": round(statistics.median(worker_s) * 1000, 1)},
        "twenty_attachments": {"serial": serial, "parallel": parallel,
                               "speedup_wall": round(serial["wall_s"] / parallel["wall_s"], 2)},
        "cpus": os.cpu_count(),
    }
