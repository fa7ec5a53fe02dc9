"""e2e: the local books survive what a developer does to `make run` — kill -9 right after a 201, a restart
after a compaction, Ctrl-C — and its HTTP answers are what keep-alive clients need."""

from __future__ import annotations

import http.client
import json
import os
import signal
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import KEY, Server

pytestmark = pytest.mark.e2e


def _booking(text: str, amount: str = "119.00") -> dict[str, Any]:
    return {"booking_date": "2026-02-10", "description": text,
            "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": amount, "tax_code": "VSt19"}]}


def _numbers(server: Server, intent_id: str) -> list[int]:
    status, view = server.call("GET", f"/v1/journal/{intent_id}")
    assert status == 200, view
    return sorted(e["journal_number"] for e in view["entries"])


def _kill9(server: Server) -> None:
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(timeout=10)


def _upload(server: Server, data: bytes, name: str) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/pdf\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{server.base_url}/v1/documents", data=body, method="POST", headers={  # noqa: S310
        "Authorization": f"Bearer {KEY}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback
        assert resp.status == 201
        created: dict[str, Any] = json.loads(resp.read())
        return created


def _download(server: Server, doc_id: str) -> bytes:
    req = urllib.request.Request(f"{server.base_url}/v1/documents/{doc_id}/file",  # noqa: S310 - loopback
                                 headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback
        data: bytes = resp.read()
        return data


def test_given_a_201_booking_when_the_server_is_killed_at_once_then_a_restart_has_it_with_its_numbers(
        tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    server = Server(state_dir)
    try:
        status, first = server.call("POST", "/v1/bookings", _booking("before the kill"))
        assert status == 201
        status, last = server.call("POST", "/v1/bookings", _booking("the last one", "238.00"))
        assert status == 201
    finally:
        _kill9(server)  # right after the 201: no shutdown, no chance to save anything
    restarted = Server(state_dir)
    try:
        assert _numbers(restarted, first["intent_id"]) == [1, 2]
        assert _numbers(restarted, last["intent_id"]) == [3, 4]
        status, verify = restarted.call("GET", "/v1/journal/verify")
        assert status == 200 and verify["verified"] is True and verify["entries"] == 4
        # the journal goes on where it stopped: no number is given twice
        status, after = restarted.call("POST", "/v1/bookings", _booking("after the restart", "357.00"))
        assert status == 201 and _numbers(restarted, after["intent_id"]) == [5, 6]
    finally:
        restarted.stop()


def test_given_writers_racing_for_the_journal_when_killed_and_restarted_then_the_chain_replays_as_it_was_built(
        tmp_path: Path) -> None:
    # The log's order must be the order moto applied the writes in: racing writers lose conditional
    # writes, and a replay in another order would rebuild a different (or broken) journal.
    import threading

    state_dir = tmp_path / "state"
    server = Server(state_dir)
    intents: list[str] = []
    try:
        def writer(w: int) -> None:
            for i in range(8):
                status, body = server.call("POST", "/v1/bookings", {
                    "booking_date": "2026-03-02", "description": f"writer {w} booking {i}",
                    "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": f"{w}.{i:02d}"}]})
                assert status == 201, body
                intents.append(body["intent_id"])

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(1, 5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        numbers = {i: _numbers(server, i) for i in intents}
    finally:
        _kill9(server)
    assert len(intents) == 32
    restarted = Server(state_dir)
    try:
        assert {i: _numbers(restarted, i) for i in intents} == numbers
        status, verify = restarted.call("GET", "/v1/journal/verify")
        assert status == 200 and verify["verified"] is True and verify["entries"] == 32
    finally:
        restarted.stop()


def test_given_documents_when_restarted_after_a_kill_and_after_a_stop_then_they_come_back_byte_for_byte(
        tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    originals = {f"scan-{i}.pdf": b"%PDF-1.7\n" + os.urandom(300_000 + i) for i in range(3)}
    server = Server(state_dir)
    try:
        ids = {name: _upload(server, data, name)["id"] for name, data in originals.items()}
    finally:
        _kill9(server)
    for stop in (lambda s: s.stop(), _kill9):
        restarted = Server(state_dir)
        try:
            for name, doc_id in ids.items():
                assert _download(restarted, doc_id) == originals[name]
        finally:
            stop(restarted)
    # documents are stored once each, as files of their own (not inside a snapshot or the log)
    assert len([p for p in (state_dir / "objects").rglob("*") if p.is_file()]) == 3


def test_given_a_compaction_when_more_is_booked_and_the_server_killed_then_a_restart_has_everything(
        tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    server = Server(state_dir)
    try:
        intents = [server.call("POST", "/v1/bookings", _booking(f"early {i}", f"{10 + i}.00"))[1]["intent_id"]
                   for i in range(3)]
        assert server.call("POST", "/_local/compact", token=None) == (200, {"compacted": True})
        assert [p.name for p in state_dir.glob("snapshot-*.jsonl")], "a snapshot after the compaction"
        intents += [server.call("POST", "/v1/bookings", _booking(f"late {i}", f"{20 + i}.00"))[1]["intent_id"]
                    for i in range(2)]
    finally:
        _kill9(server)
    restarted = Server(state_dir)
    try:
        assert [_numbers(restarted, i) for i in intents] == [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]
        assert restarted.call("GET", "/v1/journal/verify")[1]["verified"] is True
    finally:
        restarted.stop()


def test_given_make_run_when_sent_sigterm_then_it_exits_within_2_seconds(tmp_path: Path) -> None:
    server = Server(tmp_path / "state")
    assert server.call("POST", "/v1/bookings", _booking("one"))[0] == 201
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)  # an idle keep-alive connection
    conn.request("GET", "/v1/accounts?limit=1", headers={"Authorization": f"Bearer {KEY}"})
    conn.getresponse().read()
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=10)
    elapsed = time.monotonic() - started
    conn.close()
    assert code == 0 and elapsed < 2.0, elapsed


def test_given_a_keep_alive_connection_when_requests_follow_then_each_is_answered_and_no_banner_names_versions(
        local_server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", local_server.port, timeout=10)
    try:
        auth = {"Authorization": f"Bearer {KEY}"}
        for method, path, expected in (("GET", "/v1/accounts?limit=1", 200), ("GET", "/v1/no-such-thing", 404),
                                       ("HEAD", "/v1/accounts", 405), ("GET", "/v1/accounts?limit=1", 200)):
            conn.request(method, path, headers=auth)
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == expected
            assert resp.getheader("Server") is None  # http.server's "BaseHTTP/0.6 Python/3.11.x" is gone
            if method == "HEAD":
                assert body == b"" and int(resp.getheader("Content-Length") or 0) > 0
            else:
                assert int(resp.getheader("Content-Length") or -1) == len(body)
            assert not resp.will_close
    finally:
        conn.close()
    status, headers, _ = local_server.raw("PROPFIND", "/v1/accounts")  # an error answer has no banner either
    assert status == 405 and "server" not in headers


def test_given_a_keep_alive_client_when_it_sends_request_after_request_then_none_waits_for_a_delayed_ack(
        local_server: Server) -> None:
    # Headers and body in separate sends without TCP_NODELAY cost a keep-alive client ~40 ms per answer
    # (Nagle's algorithm holds the body until the client ACKs the headers, and the client delays that ACK).
    conn = http.client.HTTPConnection("127.0.0.1", local_server.port, timeout=10)
    try:
        took = []
        for _ in range(15):
            started = time.perf_counter()
            conn.request("GET", "/v1/no-such-thing", headers={"Authorization": f"Bearer {KEY}"})
            resp = conn.getresponse()
            resp.read()
            took.append(time.perf_counter() - started)
            assert resp.status == 404
    finally:
        conn.close()
    assert sorted(took)[len(took) // 2] < 0.02, took
