"""Seeded fuzz of the people routes (as tests/integration/test_semantic_fuzz.py does for the others):
mutated bodies always get a 2xx or a 4xx with a stable code, never a 5xx or a traceback; a refused
invitation changes no user. FUZZ_SEED / FUZZ_CASES in the environment explore further."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tests.integration.journal.test_journal_malformed import _mutate
from tests.integration.people.conftest import PASSWORD, Outbox
from tests.integration.test_semantic_fuzz import SEED, _assert_handled, _cases

ROUTES: list[tuple[str, dict[str, Any], bool]] = [
    ("/v1/users", {"email": "fuzz@muster.de", "name": "Fuzz", "scopes": ["journal:read"]}, True),
    ("/v1/auth/login", {"email": "erika@muster.de", "password": PASSWORD}, False),
    ("/v1/auth/setup-password", {"token": "{token}", "password": PASSWORD}, False),
    ("/v1/auth/forgot-password", {"email": "erika@muster.de"}, False),
    ("/v1/contact", {"name": "Max", "email": "max@example.com", "message": "Hallo", "_honeypot": ""}, False),
]


@pytest.mark.parametrize("path,valid,authorized", ROUTES, ids=[r[0] for r in ROUTES])
def test_given_mutated_bodies_on_the_people_routes_then_never_a_server_error(
        client: Any, invite: Any, outbox: Outbox, path: str, valid: dict[str, Any], authorized: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import functions.people.app as people_app

    monkeypatch.setattr(people_app, "RESET_ANSWER_FLOOR_S", 0.0)  # the answer floor is tested in test_people
    invite("erika@muster.de")
    valid = {k: (outbox.token_for("erika@muster.de") if v == "{token}" else v) for k, v in valid.items()}
    rng = random.Random(f"{path} {json.dumps(valid)}{SEED}")
    before = client.get("/v1/users").body
    for case in range(_cases(15)):
        body = _mutate(rng, valid)
        for _ in range(rng.randrange(3)):
            body = _mutate(rng, body)
        response = client.post(path, body, token=True if authorized else None)
        what = f"case {case}: POST {path} {json.dumps(body)[:300]}"
        _assert_handled(response, what)
        if authorized and response.status >= 400:
            assert client.get("/v1/users").body == before, what
        elif authorized:
            before = client.get("/v1/users").body


@pytest.mark.parametrize("token", ["ls_", "ls_" + "a" * 43, "ls_" + "a" * 500, "ls_" + "ü" * 43, "ls_\x00" * 12])
def test_given_malformed_or_unknown_session_tokens_then_401(client: Any, token: str) -> None:
    resp = client.get("/v1/accounts", token=token)
    assert resp.status == 401 and resp.json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("user_id", ["00000000-0000-0000-0000-000000000000", "x" * 36, "123"])
def test_given_odd_user_ids_when_deactivating_or_reinviting_then_404_or_400(client: Any, user_id: str) -> None:
    for resp in (client.delete(f"/v1/users/{user_id}"), client.post(f"/v1/users/{user_id}/invitation")):
        assert resp.status in (400, 404), resp.body
        assert resp.json()["error"]["code"] in ("NOT_FOUND", "INVALID_INPUT")
