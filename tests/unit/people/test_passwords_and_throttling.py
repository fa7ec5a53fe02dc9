"""Passwords (argon2id, OWASP profile, re-hash), throttle windows, mail texts and the outbox."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from ledgerlou.domain.people import mail, passwords, throttling


def test_given_a_password_when_hashed_then_argon2id_with_the_owasp_profile() -> None:
    hashed = passwords.hash_password("ein langes Passwort")
    params = extract_parameters(hashed)
    assert (params.type, params.memory_cost, params.time_cost, params.parallelism) == (Type.ID, 19 * 1024, 2, 1)
    assert passwords.verify(hashed, "ein langes Passwort")
    assert not passwords.verify(hashed, "ein langes Passwort!")
    assert not passwords.verify("kein hash", "x")  # a damaged hash is a failed login, not an error
    assert not passwords.needs_rehash(hashed)


def test_given_a_hash_with_other_parameters_then_it_verifies_and_needs_a_rehash() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID).hash("ein langes Passwort")
    assert passwords.verify(old, "ein langes Passwort")
    assert passwords.needs_rehash(old)


def test_given_the_dummy_hash_then_it_is_made_with_the_current_parameters() -> None:
    assert not passwords.needs_rehash(passwords.dummy_hash())
    assert passwords.dummy_hash() == passwords.dummy_hash()  # made once per container


class FakeBuckets:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}

    def add(self, kind: str, subject: str, start: int, expires_at: int) -> None:
        self.counts[(subject, start)] = self.counts.get((subject, start), 0) + 1

    def bucket_counts(self, wanted: list[tuple[str, str, list[int]]]) -> dict[tuple[str, str], list[tuple[int, int]]]:
        return {(kind, subject): sorted((s, c) for (subj, s), c in self.counts.items() if subj == subject
                                        and s in starts) for kind, subject, starts in wanted}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeBuckets:
    store = FakeBuckets()
    monkeypatch.setattr(throttling, "store", store)
    return store


def test_given_failures_spread_over_the_window_then_retry_after_is_when_the_oldest_leaves(fake: FakeBuckets) -> None:
    limit, t0 = throttling.LOGIN_EMAIL, 1_000_000_020.0  # 20 s into a minute bucket
    for i in range(10):
        throttling.record(limit, "e", now=t0 + i * 60)  # one failure a minute
    now = t0 + 9 * 60 + 5
    wait = throttling.retry_after(limit, "e", now=now)
    bucket0 = int(t0) - int(t0) % 60
    assert wait == bucket0 + limit.window_s - int(now)  # then only 9 remain in the window
    assert throttling.retry_after(limit, "e", now=now + wait) is None
    assert throttling.retry_after(limit, "other", now=now) is None


def test_given_nine_failures_then_no_throttle_and_the_tenth_throttles(fake: FakeBuckets,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttling, "clock", lambda: 5001.0)
    limit = throttling.LOGIN_CLIENT
    for _ in range(9):
        throttling.record(limit, "1.2.3.4", now=5000.0)
    assert throttling.retry_after(limit, "1.2.3.4", now=5001.0) is None
    throttling.record(limit, "1.2.3.4", now=5001.0)
    wait = throttling.retry_after(limit, "1.2.3.4", now=5001.0)
    assert wait is not None and 0 < wait <= limit.window_s
    with pytest.raises(throttling.TooManyAttempts) as raised:
        throttling.check(limit, "1.2.3.4", "slow down")
    assert raised.value.status == 429 and raised.value.retry_after >= 1


def test_given_the_local_stage_when_mailing_then_an_eml_in_the_outbox(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.setenv("LEDGERLOU_OUTBOX_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("MAIL_SENDER", "noreply@muster.de")
    mail.send(mail.invitation("erika@muster.de", "Erika", "TOKEN123", "Admin"))
    [path] = list((tmp_path / "out").glob("*.eml"))
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert msg["From"] == "LedgerLou <noreply@muster.de>" and msg["To"] == "erika@muster.de"
    assert "TOKEN123" in msg.get_content() and "passwort-setzen?token=TOKEN123" in msg.get_content()


def test_given_no_outbox_setting_then_the_outbox_is_beside_the_local_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGERLOU_OUTBOX_DIR", raising=False)
    monkeypatch.setenv("LEDGERLOU_STATE_DIR", "/tmp/books")
    assert mail.outbox_dir() == Path("/tmp/books/outbox")
    monkeypatch.delenv("LEDGERLOU_STATE_DIR")
    assert mail.outbox_dir() == Path(".ledgerlou-local/outbox")


def test_given_aws_when_mailing_then_ses_send_email_from_the_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []

    class FakeSes:
        def send_email(self, **kwargs: Any) -> None:
            sent.append(kwargs)

    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("MAIL_SENDER", "noreply@muster.de")
    monkeypatch.setattr(mail, "_ses", lambda: FakeSes())
    mail.send(mail.contact_message("Max", "max@example.com", "Hallo"))
    [call] = sent
    assert call["Source"] == "LedgerLou <noreply@muster.de>"
    assert call["Destination"] == {"ToAddresses": [mail.operator_address()]}
    assert call["ReplyToAddresses"] == ["max@example.com"]
    assert call["Message"]["Body"]["Text"]["Charset"] == "UTF-8"
