"""e2e over HTTP against `python -m local`: invite → setup → login → book → logout, forgot → reset, and
the contact form, reading the mails where `make run` writes them (`<LEDGERLOU_STATE_DIR>/outbox/*.eml`)."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


def _mails(outbox: Path, to: str) -> list[Any]:
    parser = BytesParser(policy=policy.default)
    found = [parser.parsebytes(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]
    return [m for m in found if m["To"] == to]


def _token(outbox: Path, to: str) -> str:
    match = re.search(r"token=([A-Za-z0-9_-]+)", _mails(outbox, to)[-1].get_content())
    assert match
    return match.group(1)


def test_given_make_run_when_a_user_is_invited_then_the_whole_people_path_works_over_http(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGERLOU_OUTBOX_DIR", raising=False)  # the runtime's own default: beside its books
    state = tmp_path / "state"
    outbox = state / "outbox"
    server = Server(state)
    try:
        status, user = server.call("POST", "/v1/users", {"email": "erika@muster.de", "name": "Erika",
                                                         "scopes": ["journal:read", "journal:write"]})
        assert status == 201, user
        status, body = server.call("POST", "/v1/auth/setup-password",
                                   {"token": _token(outbox, "erika@muster.de"), "password": "ein langes Passwort"},
                                   token=None)
        assert status == 200 and body == {"ok": True}
        status, session = server.call("POST", "/v1/auth/login", {"email": "erika@muster.de",
                                                                 "password": "ein langes Passwort"}, token=None)
        assert status == 200 and session["token"].startswith("ls_")
        token = session["token"]
        status, booked = server.call("POST", "/v1/bookings", {"booking_date": "2026-01-15", "description": "e2e",
                                     "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": 10}]},
                                     token=token)
        assert status == 201, booked
        status, view = server.call("GET", f"/v1/journal/{booked['intent_id']}", token=token)
        assert view["entries"][0]["provenance_summary"]["actor_type"] == "user"
        assert server.call("POST", "/v1/auth/logout", token=token) == (200, {"ok": True})
        assert server.call("GET", "/v1/accounts", token=token)[0] == 401

        assert server.call("POST", "/v1/auth/forgot-password", {"email": "erika@muster.de"}, token=None) == (
            202, {"ok": True})
        reset = _token(outbox, "erika@muster.de")
        assert server.call("POST", "/v1/auth/setup-password", {"token": reset, "password": "ein neues Passwort"},
                           token=None)[0] == 200
        assert server.call("POST", "/v1/auth/login", {"email": "erika@muster.de", "password": "ein neues Passwort"},
                           token=None)[0] == 200

        assert server.call("POST", "/v1/contact", {"name": "Max", "email": "max@example.com", "message": "Hallo"},
                           token=None) == (201, {"ok": True})
        [operator_mail] = _mails(outbox, "betrieb@ledgerlou.local")
        assert "Hallo" in operator_mail.get_content()
    finally:
        server.stop()
