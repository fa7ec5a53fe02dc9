"""Fixtures for the people tests: a private outbox per test, and helpers to invite and log in."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

PASSWORD = "korrekt Pferd Batterie"


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self) -> list[Any]:
        if not self.folder.exists():
            return []
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(p.read_bytes()) for p in sorted(self.folder.glob("*.eml"))]

    def last_to(self, address: str) -> Any:
        found = [m for m in self.messages() if m["To"] == address]
        assert found, f"no mail to {address}"
        return found[-1]

    def token_for(self, address: str) -> str:
        body = self.last_to(address).get_content()
        match = re.search(r"token=([A-Za-z0-9_-]+)", body)
        assert match, body
        return match.group(1)


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Outbox:
    folder = tmp_path / "outbox"
    monkeypatch.setenv("LEDGERLOU_OUTBOX_DIR", str(folder))
    return Outbox(folder)


@pytest.fixture
def invite(client: Any, outbox: Outbox) -> Any:
    def _invite(email: str = "erika@muster.de", scopes: list[str] | None = None, name: str = "Erika Mustermann"
                ) -> dict[str, Any]:
        resp = client.post("/v1/users", {"email": email, "name": name,
                                         "scopes": scopes or ["journal:read", "journal:write"]})
        assert resp.status == 201, resp.body
        return dict(resp.json())

    return _invite


@pytest.fixture
def active_user(client: Any, invite: Any, outbox: Outbox) -> Any:
    """Invite, then set the password from the mailed token: an active user who can log in."""
    def _make(email: str = "erika@muster.de", scopes: list[str] | None = None) -> dict[str, Any]:
        user = invite(email, scopes)
        resp = client.post("/v1/auth/setup-password", {"token": outbox.token_for(email), "password": PASSWORD},
                           token=None)
        assert resp.status == 200, resp.body
        return user

    return _make


def login(client: Any, email: str = "erika@muster.de", password: str = PASSWORD) -> Any:
    return client.post("/v1/auth/login", {"email": email, "password": password}, token=None)
