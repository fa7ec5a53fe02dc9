"""People through the gateway: invite → setup → login → book → logout; deactivation; throttling;
forgot password; the contact form."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from ledgerlou.domain.people import sessions, throttling, tokens

from tests.integration.people.conftest import PASSWORD, Outbox, login

BOOKING = {"booking_date": "2026-01-15", "description": "Büromaterial",
           "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": "119.00"}]}


# ----------------------------------------------------------------- the whole path
def test_given_an_invitation_when_set_up_and_logged_in_then_the_user_books_and_logout_ends_the_session(
        client: Any, make_client: Any, invite: Any, outbox: Outbox) -> None:
    user = invite("erika@muster.de")
    assert user["status"] == "invited" and user["scopes"] == ["journal:read", "journal:write"]
    mail = outbox.last_to("erika@muster.de")
    assert "Einladung" in mail["Subject"] and "24 Stunden" in mail.get_content()
    token = outbox.token_for("erika@muster.de")
    assert login(client).json()["error"]["code"] == "INVALID_CREDENTIALS"  # no password yet

    assert client.post("/v1/auth/setup-password", {"token": token, "password": PASSWORD}, token=None).json() == {
        "ok": True}
    resp = login(client)
    assert resp.status == 200, resp.body
    body = resp.json()
    assert body["token"].startswith("ls_") and body["expires_at"].endswith("Z")
    assert body["user"] == {"id": user["id"], "email": "erika@muster.de", "name": "Erika Mustermann",
                            "scopes": ["journal:read", "journal:write"]}
    assert resp.headers.get("cache-control") == "no-store"

    session = make_client(body["token"])
    booked = session.post("/v1/bookings", BOOKING)
    assert booked.status == 201, booked.body
    [entry] = session.get(f"/v1/journal/{booked.json()['intent_id']}").json()["entries"]
    assert entry["provenance_summary"]["actor_type"] == "user"
    assert entry["provenance_summary"]["actor_label"] == "Erika Mustermann"
    assert session.get("/v1/api-keys").status == 403  # the user's scopes, not more

    assert session.post("/v1/auth/logout").json() == {"ok": True}
    assert session.get("/v1/accounts").status == 401


def test_given_a_used_setup_token_when_used_again_then_invalid_token(client: Any, active_user: Any,
                                                                      outbox: Outbox) -> None:
    active_user()
    token = outbox.token_for("erika@muster.de")
    again = client.post("/v1/auth/setup-password", {"token": token, "password": "noch ein Passwort!"}, token=None)
    assert again.status == 400 and again.json()["error"]["code"] == "INVALID_TOKEN"
    assert login(client, password="noch ein Passwort!").status == 401
    assert login(client).status == 200


def test_given_an_expired_setup_token_then_token_expired(client: Any, invite: Any, outbox: Outbox,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    invite()
    token = outbox.token_for("erika@muster.de")
    later = time.time() + 24 * 3600 + 1
    monkeypatch.setattr(tokens, "clock", lambda: later)
    resp = client.post("/v1/auth/setup-password", {"token": token, "password": PASSWORD}, token=None)
    assert resp.status == 400 and resp.json()["error"]["code"] == "TOKEN_EXPIRED"


def test_given_a_short_password_or_an_unknown_token_then_400(client: Any, invite: Any, outbox: Outbox) -> None:
    invite()
    short = client.post("/v1/auth/setup-password", {"token": outbox.token_for("erika@muster.de"),
                                                    "password": "elf Zeichen"}, token=None)
    assert short.status == 400 and short.json()["error"]["details"][0]["field"] == "password"
    unknown = client.post("/v1/auth/setup-password", {"token": "x" * 43, "password": PASSWORD}, token=None)
    assert unknown.status == 400 and unknown.json()["error"]["code"] == "INVALID_TOKEN"


def test_given_an_expired_session_when_calling_then_401(client: Any, make_client: Any, active_user: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    active_user()
    session = make_client(login(client).json()["token"])
    assert session.get("/v1/accounts").status == 200
    later = time.time() + 12 * 3600 + 1
    monkeypatch.setattr(sessions, "clock", lambda: later)
    assert session.get("/v1/accounts").status == 401


# ----------------------------------------------------------------- users
def test_given_users_when_listed_then_each_with_status_and_no_secret(client: Any, active_user: Any,
                                                                    invite: Any) -> None:
    active_user("a@muster.de")
    invite("b@muster.de")
    listed = client.get("/v1/users").json()["users"]
    assert [(u["email"], u["status"]) for u in listed] == [("a@muster.de", "active"), ("b@muster.de", "invited")]
    assert all("password" not in str(u) for u in listed)


def test_given_an_e_mail_in_use_when_invited_again_then_409(client: Any, invite: Any) -> None:
    invite("erika@muster.de")
    again = client.post("/v1/users", {"email": "Erika@Muster.de", "name": "E", "scopes": ["journal:read"]})
    assert again.status == 409 and again.json()["error"]["code"] == "EMAIL_TAKEN"


def test_given_a_deactivated_user_when_invited_again_then_a_new_user(client: Any, invite: Any) -> None:
    first = invite("erika@muster.de")
    client.delete(f"/v1/users/{first['id']}")
    second = invite("erika@muster.de")
    assert second["id"] != first["id"]


def test_given_a_non_admin_key_when_managing_users_then_403(client: Any, make_client: Any) -> None:
    key = client.post("/v1/api-keys", {"label": "j", "scopes": ["journal:write"]}).json()["key"]
    limited = make_client(key)
    assert limited.get("/v1/users").status == 403
    assert limited.post("/v1/users", {"email": "x@muster.de", "name": "X", "scopes": ["journal:read"]}).status == 403


def test_given_unknown_scopes_or_bad_e_mail_when_inviting_then_400(client: Any) -> None:
    bad = client.post("/v1/users", {"email": "erika@muster.de", "name": "E", "scopes": ["root"]})
    assert bad.status == 400 and bad.json()["error"]["details"][0]["field"] == "scopes"
    mail = client.post("/v1/users", {"email": "keine-adresse", "name": "E", "scopes": ["journal:read"]})
    assert mail.status == 400 and mail.json()["error"]["details"][0]["field"] == "email"
    header = client.post("/v1/users", {"email": "a@b.de", "name": "E\nBcc: x@y.z", "scopes": ["journal:read"]})
    assert header.status == 400


def test_given_a_logged_in_user_when_deactivated_then_the_session_is_dead_at_once(
        client: Any, make_client: Any, active_user: Any) -> None:
    user = active_user()
    sessions = [make_client(login(client).json()["token"]) for _ in range(2)]
    assert all(s.get("/v1/accounts").status == 200 for s in sessions)
    resp = client.delete(f"/v1/users/{user['id']}")
    assert resp.status == 200 and resp.json()["status"] == "deactivated" and resp.json()["deactivated_at"]
    assert all(s.get("/v1/accounts").status == 401 for s in sessions)
    assert login(client).json()["error"]["code"] == "INVALID_CREDENTIALS"
    assert client.delete(f"/v1/users/{user['id']}").json()["error"]["code"] == "ALREADY_DEACTIVATED"


def test_given_a_revoked_invitation_when_its_token_is_used_then_invalid(client: Any, invite: Any,
                                                                        outbox: Outbox) -> None:
    user = invite()
    client.delete(f"/v1/users/{user['id']}")
    resp = client.post("/v1/auth/setup-password", {"token": outbox.token_for("erika@muster.de"),
                                                   "password": PASSWORD}, token=None)
    assert resp.status == 400 and resp.json()["error"]["code"] == "INVALID_TOKEN"


def test_given_another_tenants_user_when_deactivating_then_404(client: Any, gateway: Any, invite: Any,
                                                                make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    user = invite()
    other = make_client(tenants.create_tenant("Andere GmbH", "skr04").admin_key)
    assert other.delete(f"/v1/users/{user['id']}").status == 404
    assert other.get("/v1/users").json()["users"] == []


def test_given_two_users_when_one_requests_a_lock_then_only_the_other_approves(
        client: Any, make_client: Any, active_user: Any) -> None:
    scopes = ["journal:read", "journal:write", "periods:read", "periods:write", "periods:approve"]
    active_user("a@muster.de", scopes)
    active_user("b@muster.de", scopes)
    a = make_client(login(client, "a@muster.de").json()["token"])
    b = make_client(login(client, "b@muster.de").json()["token"])
    assert a.post("/v1/bookings", {**BOOKING, "booking_date": "2026-01-10"}).status == 201
    req = a.post("/v1/periods/2026-01/lock").json()
    again = make_client(login(client, "a@muster.de").json()["token"])  # same person, another session
    own = again.post(f"/v1/periods/2026-01/lock/{req['request_id']}/approve")
    assert own.status == 403 and own.json()["error"]["code"] == "FOUR_EYES_REQUIRED"
    assert b.post(f"/v1/periods/2026-01/lock/{req['request_id']}/approve").status == 200


# ----------------------------------------------------------------- login: enumeration, throttling, logs
def test_given_a_wrong_password_or_an_unknown_e_mail_then_the_same_answer_and_both_verify(
        client: Any, active_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerlou.domain.people import passwords

    active_user()
    calls: list[str] = []
    real = passwords.verify
    monkeypatch.setattr(passwords, "verify", lambda h, p: calls.append(h) or real(h, p))
    wrong = login(client, password="falsches Passwort")
    unknown = login(client, email="niemand@muster.de")
    assert wrong.status == unknown.status == 401
    assert wrong.json() == unknown.json() == {"error": {"code": "INVALID_CREDENTIALS",
                                                        "message": "The e-mail or the password is wrong."}}
    assert len(calls) == 2 and calls[1] == passwords.dummy_hash() and calls[0] != calls[1]


def test_given_ten_failures_for_an_e_mail_then_429_with_retry_after_and_later_allowed(
        client: Any, active_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    active_user()
    for _ in range(10):
        assert login(client, password="falsches Passwort").status == 401
    blocked = login(client)  # even the right password: the throttle answers first
    assert blocked.status == 429 and blocked.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    later = time.time() + int(blocked.headers["retry-after"])
    monkeypatch.setattr(throttling, "clock", lambda: later)
    assert login(client).status == 200  # no permanent lockout


def test_given_ten_failures_from_one_client_over_many_e_mails_then_429(client: Any) -> None:
    for i in range(10):
        assert login(client, email=f"spray{i}@muster.de").status == 401
    assert login(client, email="neu@muster.de").status == 429


def test_given_a_login_when_logged_then_the_token_and_password_are_not_in_the_logs(
        client: Any, active_user: Any) -> None:
    from ledgerlou.observability import logger

    active_user()
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record) + repr(record.__dict__))

    handler = Capture(level=logging.DEBUG)
    previous = logger.log_level
    logger.addHandler(handler)
    logger.setLevel("DEBUG")
    try:
        token = login(client).json()["token"]
        client.get("/v1/accounts", token=token)
        login(client, password="falsches Passwort")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    assert records, "nothing was logged: the test would prove nothing"
    text = "\n".join(records)
    assert token not in text and token[3:] not in text and PASSWORD not in text


# ----------------------------------------------------------------- forgot password
def test_given_forgot_password_then_always_202_and_only_a_known_active_user_gets_a_mail(
        client: Any, make_client: Any, active_user: Any, outbox: Outbox) -> None:
    active_user()
    session = make_client(login(client).json()["token"])
    before = len(outbox.messages())
    started = time.monotonic()
    known = client.post("/v1/auth/forgot-password", {"email": "erika@muster.de"}, token=None)
    middle = time.monotonic()
    unknown = client.post("/v1/auth/forgot-password", {"email": "niemand@muster.de"}, token=None)
    ended = time.monotonic()
    assert known.status == unknown.status == 202 and known.body == unknown.body
    # both answers wait for the same floor (functions/people/app.py), mail or no mail
    assert middle - started >= 0.25 and ended - middle >= 0.25
    assert len(outbox.messages()) == before + 1
    mail = outbox.last_to("erika@muster.de")
    assert "30 Minuten" in mail.get_content()
    reset = outbox.token_for("erika@muster.de")
    assert client.post("/v1/auth/setup-password", {"token": reset, "password": "ein neues langes Passwort"},
                       token=None).status == 200
    assert session.get("/v1/accounts").status == 401  # the reset ended the sessions
    assert login(client).status == 401
    assert login(client, password="ein neues langes Passwort").status == 200
    used = client.post("/v1/auth/setup-password", {"token": reset, "password": "und noch eins!!"}, token=None)
    assert used.json()["error"]["code"] == "INVALID_TOKEN"


def test_given_a_reset_token_after_30_minutes_then_expired(client: Any, active_user: Any, outbox: Outbox,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    active_user()
    client.post("/v1/auth/forgot-password", {"email": "erika@muster.de"}, token=None)
    reset = outbox.token_for("erika@muster.de")
    later = time.time() + 30 * 60 + 1
    monkeypatch.setattr(tokens, "clock", lambda: later)
    resp = client.post("/v1/auth/setup-password", {"token": reset, "password": "ein neues langes Passwort"},
                       token=None)
    assert resp.json()["error"]["code"] == "TOKEN_EXPIRED"


def test_given_an_invited_user_when_forgetting_then_no_reset_mail(client: Any, invite: Any,
                                                                  outbox: Outbox) -> None:
    invite()
    before = len(outbox.messages())
    assert client.post("/v1/auth/forgot-password", {"email": "erika@muster.de"}, token=None).status == 202
    assert len(outbox.messages()) == before


def test_given_many_reset_requests_then_202_each_and_at_most_three_mails(client: Any, active_user: Any,
                                                                          outbox: Outbox) -> None:
    active_user()
    before = len(outbox.messages())
    for _ in range(6):
        assert client.post("/v1/auth/forgot-password", {"email": "erika@muster.de"}, token=None).status == 202
    assert len(outbox.messages()) == before + 3


# ----------------------------------------------------------------- contact form
CONTACT = {"name": "Max Muster", "email": "max@example.com", "message": "Bitte rufen Sie mich an."}


def test_given_a_contact_message_then_201_stored_and_mailed_to_the_operator(client: Any, outbox: Outbox) -> None:
    from ledgerlou.store.base import now_iso
    from ledgerlou.store.people import contact

    resp = client.post("/v1/contact", CONTACT, token=None)
    assert resp.status == 201 and resp.json() == {"ok": True}
    [stored] = contact.list_month(now_iso()[:7])
    assert (stored.name, stored.email, stored.message) == ("Max Muster", "max@example.com", CONTACT["message"])
    mail = outbox.last_to("betrieb@ledgerlou.local")
    assert mail["Reply-To"] == "max@example.com" and CONTACT["message"] in mail.get_content()


def test_given_a_filled_honeypot_then_the_same_answer_and_nothing_stored_or_sent(client: Any,
                                                                                 outbox: Outbox) -> None:
    from ledgerlou.store.base import now_iso
    from ledgerlou.store.people import contact

    resp = client.post("/v1/contact", {**CONTACT, "_honeypot": "http://spam.example"}, token=None)
    assert resp.status == 201 and resp.json() == {"ok": True}
    assert contact.list_month(now_iso()[:7]) == [] and outbox.messages() == []


def test_given_six_messages_from_one_client_within_an_hour_then_the_sixth_is_429(client: Any) -> None:
    for _ in range(5):
        assert client.post("/v1/contact", CONTACT, token=None).status == 201
    sixth = client.post("/v1/contact", CONTACT, token=None)
    assert sixth.status == 429 and sixth.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
    assert int(sixth.headers["retry-after"]) > 0


@pytest.mark.parametrize("body", [
    {**CONTACT, "email": "nope"}, {**CONTACT, "message": ""}, {**CONTACT, "message": "x" * 5001},
    {**CONTACT, "name": "x" * 201}, {"name": "M", "email": "m@example.com"}, {**CONTACT, "extra": 1},
])
def test_given_an_invalid_contact_message_then_400(client: Any, body: dict[str, Any]) -> None:
    resp = client.post("/v1/contact", body, token=None)
    assert resp.status == 400 and resp.json()["error"]["code"] == "INVALID_INPUT"


def test_given_logout_with_an_api_key_then_400_and_the_key_still_works(client: Any) -> None:
    resp = client.post("/v1/auth/logout")
    assert resp.status == 400 and resp.json()["error"]["code"] == "NOT_A_SESSION"
    assert client.get("/v1/accounts").status == 200


# ----------------------------------------------------------------- domain rules behind the routes
def test_given_a_hash_with_old_parameters_when_logging_in_then_it_is_rehashed_and_sessions_stay(
        client: Any, make_client: Any, active_user: Any, tenant: Any) -> None:
    from argon2 import PasswordHasher, Type, extract_parameters
    from ledgerlou.store.people import users as user_store

    user = active_user()
    session = make_client(login(client).json()["token"])
    item = user_store.get(tenant.tenant_id, user["id"])
    assert item is not None
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID).hash(PASSWORD)
    user_store.rehash(item, old)
    assert login(client).status == 200
    item = user_store.get(tenant.tenant_id, user["id"])
    assert item is not None and item.password_hash != old
    assert extract_parameters(str(item.password_hash)).memory_cost == 19 * 1024
    assert session.get("/v1/accounts").status == 200  # a re-hash is no credential change


def test_given_a_caller_without_admin_when_inviting_with_more_scopes_than_it_has_then_forbidden(
        aws: Any, tenant: Any, outbox: Outbox) -> None:
    from ledgerlou.domain.caller import Caller
    from ledgerlou.domain.people import users
    from ledgerlou.errors import Forbidden

    ctx = Caller(tenant_id=tenant.tenant_id, actor_id="user:x", actor_type="user", actor_label="Teamleiterin",
                 key_prefix=None, scopes=frozenset({"journal:read", "journal:write"}), chart="skr03",
                 base_currency="EUR")
    with pytest.raises(Forbidden):
        users.invite(ctx, "a@muster.de", "A", ["journal:read", "bank:write"])
    assert users.list_users(tenant.tenant_id) == [] and outbox.messages() == []
    assert users.invite(ctx, "a@muster.de", "A", ["journal:read"]).scopes == ["journal:read"]


def test_given_admin_and_other_users_then_active_admin_users_are_counted(client: Any, active_user: Any,
                                                                        invite: Any, tenant: Any) -> None:
    from ledgerlou.domain.people import users

    active_user("admin@muster.de", ["admin"])
    active_user("j@muster.de", ["journal:read"])
    invite("eingeladen@muster.de", ["admin"])  # not active yet
    gone = active_user("weg@muster.de", ["admin"])
    client.delete(f"/v1/users/{gone['id']}")
    assert users.active_admin_user_count(tenant.tenant_id) == 1


def test_given_an_idempotency_key_when_inviting_twice_then_one_user_and_one_mail(client: Any,
                                                                                  outbox: Outbox) -> None:
    body = {"email": "erika@muster.de", "name": "Erika", "scopes": ["journal:read"]}
    first = client.post("/v1/users", body, headers={"Idempotency-Key": "inv-1"})
    second = client.post("/v1/users", body, headers={"Idempotency-Key": "inv-1"})
    assert first.status == second.status == 201 and first.json() == second.json()
    assert len(client.get("/v1/users").json()["users"]) == 1 and len(outbox.messages()) == 1


def test_given_the_mail_service_down_when_inviting_then_503_and_the_address_can_be_invited_later(
        client: Any, outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerlou.domain.people import mail

    def broken(_: Any) -> None:
        raise OSError("SES is down")

    monkeypatch.setattr(mail, "_send", broken)
    body = {"email": "erika@muster.de", "name": "Erika", "scopes": ["journal:read"]}
    resp = client.post("/v1/users", body)
    assert resp.status == 503 and resp.json()["error"]["code"] == "MAIL_UNAVAILABLE"
    assert [u["status"] for u in client.get("/v1/users").json()["users"]] == ["deactivated"]
    # forgot-password and the contact form answer as always (no enumeration; the message is stored)
    assert client.post("/v1/auth/forgot-password", {"email": "erika@muster.de"}, token=None).status == 202
    assert client.post("/v1/contact", {"name": "M", "email": "m@example.com", "message": "x"}, token=None).status == 201
    monkeypatch.undo()
    monkeypatch.setenv("LEDGERLOU_OUTBOX_DIR", str(outbox.folder))
    assert client.post("/v1/users", body).status == 201
    assert outbox.token_for("erika@muster.de")


def test_given_many_reset_requests_from_one_client_for_many_addresses_then_mails_stop_after_twenty(
        client: Any, active_user: Any, outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import functions.people.app as people_app

    monkeypatch.setattr(people_app, "RESET_ANSWER_FLOOR_S", 0.0)  # 22 requests; the floor is tested above
    active_user()
    before = len(outbox.messages())
    for i in range(20):
        assert client.post("/v1/auth/forgot-password", {"email": f"x{i}@muster.de"}, token=None).status == 202
    resp = client.post("/v1/auth/forgot-password", {"email": "erika@muster.de"}, token=None)
    assert resp.status == 202 and resp.json() == {"ok": True}
    assert len(outbox.messages()) == before  # the client's cap was reached: silently no mail


def test_given_two_deactivations_racing_then_the_second_is_409_not_500(client: Any, invite: Any, tenant: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerlou.store.people import users as user_store

    user = invite()
    stale = user_store.get(tenant.tenant_id, user["id"])
    assert client.delete(f"/v1/users/{user['id']}").status == 200
    monkeypatch.setattr(user_store, "get", lambda *_: stale)  # the second request read before the first wrote
    resp = client.delete(f"/v1/users/{user['id']}")
    assert resp.status == 409 and resp.json()["error"]["code"] == "ALREADY_DEACTIVATED"


def test_given_a_lost_invitation_when_sent_again_then_only_the_new_token_sets_the_password(
        client: Any, invite: Any, outbox: Outbox) -> None:
    user = invite()
    first = outbox.token_for("erika@muster.de")
    resp = client.post(f"/v1/users/{user['id']}/invitation")
    assert resp.status == 200 and resp.json()["status"] == "invited"
    second = outbox.token_for("erika@muster.de")
    assert second != first
    old = client.post("/v1/auth/setup-password", {"token": first, "password": PASSWORD}, token=None)
    assert old.json()["error"]["code"] == "INVALID_TOKEN"
    assert client.post("/v1/auth/setup-password", {"token": second, "password": PASSWORD}, token=None).status == 200
    again = client.post(f"/v1/users/{user['id']}/invitation")  # accepted now: no more invitations
    assert again.status == 409 and again.json()["error"]["code"] == "NOT_INVITED"
    assert client.post("/v1/users/00000000-0000-0000-0000-000000000000/invitation").status == 404
