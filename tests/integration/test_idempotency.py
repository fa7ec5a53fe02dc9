"""Idempotency-Key through the gateway: replay, key reuse, a claim still running, a claim whose
request was killed at its timeout, and a record past its TTL that DynamoDB has not deleted yet.

Time moves by replacing the store's clock, never by sleeping."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

T0 = 1_780_000_000.0  # a fixed wall clock (2026-05-28), seconds
BODY = {"booking_date": "2026-01-15", "description": "Büromaterial", "skip_duplicate_check": True,
        "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": "119.00"}]}
KEY = {"Idempotency-Key": "order-4711"}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The idempotency store's wall clock, set by the test: ``clock.now = ...``."""
    from ledgerlou.store import idempotency

    class Clock:
        now = T0

    monkeypatch.setattr(idempotency, "clock", lambda: Clock.now)
    return Clock


def request_hash(body: dict[str, Any]) -> str:
    from ledgerlou.money import dumps

    return hashlib.sha256(dumps(body).encode("utf-8")).hexdigest()


def killed_request(tenant_id: str, running_seconds: float = 29) -> None:
    """What a request leaves behind when Lambda kills it at its timeout: its claim, in progress."""
    from ledgerlou.store import idempotency

    assert idempotency.claim(tenant_id, "bookings", KEY["Idempotency-Key"], request_hash(BODY),
                             running_seconds) is None


def entries(client: Any) -> int:
    return int(client.get("/v1/journal/verify").json()["entries"])


def test_given_a_live_completed_record_when_the_request_is_retried_then_the_first_response_is_replayed(
        client: Any, clock: Any) -> None:
    # Given a booking made with an Idempotency-Key
    first = client.post("/v1/bookings", BODY, headers=KEY)
    assert first.status == 201, first.body
    # When the same request comes again within the record's 24 h
    clock.now = T0 + 24 * 3600 - 1
    again = client.post("/v1/bookings", BODY, headers=KEY)
    # Then the first response comes back, marked as a replay, and nothing was booked twice
    assert (again.status, again.json()) == (201, first.json())
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert entries(client) == 1


def test_given_a_used_key_when_another_body_comes_with_it_then_409_idempotency_key_reused(
        client: Any, clock: Any) -> None:
    # Given a booking made with an Idempotency-Key
    assert client.post("/v1/bookings", BODY, headers=KEY).status == 201
    # When another booking comes with the same key
    other = client.post("/v1/bookings", {**BODY, "description": "Porto"}, headers=KEY)
    # Then it is refused and not booked
    assert other.status == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert entries(client) == 1


def test_given_a_request_still_running_when_it_is_retried_then_409_idempotency_in_progress(
        client: Any, tenant: Any, clock: Any) -> None:
    # Given a request that claimed its key and may run 29 s
    killed_request(tenant.tenant_id)
    # When the client retries before that request's timeout has passed
    clock.now = T0 + 29
    retry = client.post("/v1/bookings", BODY, headers=KEY)
    # Then the retry is told to wait, and runs nothing
    assert retry.status == 409 and retry.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert entries(client) == 0


def test_given_a_request_killed_at_its_timeout_when_it_is_retried_later_then_the_retry_runs_and_then_replays(
        client: Any, tenant: Any, clock: Any) -> None:
    # Given a request killed at its 29 s timeout: its claim stays in progress (it never released it)
    killed_request(tenant.tenant_id)
    # When the client retries a minute later (not 24 h later)
    clock.now = T0 + 60
    retry = client.post("/v1/bookings", BODY, headers=KEY)
    # Then the retry takes the stale claim over and books
    assert retry.status == 201, retry.body
    assert "idempotent-replayed" not in retry.headers
    assert entries(client) == 1
    # and its response is what the key answers from now on
    again = client.post("/v1/bookings", BODY, headers=KEY)
    assert again.headers.get("idempotent-replayed") == "true" and again.json() == retry.json()


def test_given_a_record_past_its_ttl_but_not_yet_deleted_when_the_key_comes_again_then_the_request_runs_anew(
        client: Any, clock: Any) -> None:
    # Given a booking made with an Idempotency-Key, and its record past its 24 h TTL but still in the table
    # (DynamoDB deletes expired items within about 48 h; moto never does)
    first = client.post("/v1/bookings", BODY, headers=KEY)
    assert first.status == 201, first.body
    clock.now = T0 + 24 * 3600 + 1
    # When the same request comes again
    again = client.post("/v1/bookings", BODY, headers=KEY)
    # Then it is not a replay: it runs anew
    assert again.status == 201, again.body
    assert "idempotent-replayed" not in again.headers
    assert again.json()["intent_id"] != first.json()["intent_id"]
    assert entries(client) == 2


def test_given_a_claim_then_it_ends_when_its_request_can_no_longer_run_and_completion_clears_it(
        aws: dict[str, str], tenant: Any, clock: Any) -> None:
    from ledgerlou.store import idempotency

    # Given a claim made at T0 by a request with 12.5 s left
    assert idempotency.claim(tenant.tenant_id, "bookings", "k", "h", 12.5) is None
    pk, sk = idempotency.key(tenant.tenant_id, "bookings", "k")
    item = idempotency.IdempotencyItem.get(pk, sk, consistent_read=True)
    # Then it is in progress until the request's deadline plus the clock margin, live for 24 h
    assert item.state == "in_progress"
    assert item.in_progress_expires_at == int(T0 + 12.5) + 1 + idempotency.CLOCK_MARGIN_SECONDS
    assert item.expires_at == int(T0) + idempotency.TTL_SECONDS
    # When a second claim comes just before that deadline, then the first one's record answers
    clock.now = item.in_progress_expires_at
    held = idempotency.claim(tenant.tenant_id, "bookings", "k", "h2", 29)
    assert held is not None and (held.request_hash, held.state) == ("h", "in_progress")
    # When the request completes, its record holds the key until its TTL, however long that is after
    idempotency.complete(tenant.tenant_id, "bookings", "k", 201, "{}")
    clock.now = T0 + idempotency.TTL_SECONDS - 1
    done = idempotency.claim(tenant.tenant_id, "bookings", "k", "h3", 29)
    assert done is not None and (done.state, done.in_progress_expires_at) == ("completed", None)


def test_given_dynamodb_throttles_the_claim_then_the_error_is_raised_not_taken_for_a_held_key(
        aws: dict[str, str], tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError
    from ledgerlou.store import base, idempotency

    real = base.ddb()

    class Throttled:
        exceptions = real.exceptions

        def put_item(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                         "Message": "Rate of requests exceeds the allowed throughput."}}, "PutItem")

    monkeypatch.setattr(idempotency, "ddb", Throttled)
    # When DynamoDB throttles the claim's write, then the caller sees the throttle (not "held", not 409)
    with pytest.raises(ClientError) as raised:
        idempotency.claim(tenant.tenant_id, "bookings", "k", "h", 29)
    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    # and nothing was claimed
    pk, sk = idempotency.key(tenant.tenant_id, "bookings", "k")
    with pytest.raises(idempotency.IdempotencyItem.DoesNotExist):
        idempotency.IdempotencyItem.get(pk, sk, consistent_read=True)
