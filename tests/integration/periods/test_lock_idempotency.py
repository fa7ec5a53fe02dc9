"""POST /v1/periods/{period}/lock creates a Festschreibung request: under an Idempotency-Key a retry
answers the first request again instead of 409 LOCK_REQUEST_PENDING (docs/api-contract.md: every POST
that creates something)."""

from __future__ import annotations

from typing import Any

KEY = {"Idempotency-Key": "close-2026-01"}


def test_given_a_lock_request_with_a_key_when_retried_then_the_first_answer_is_replayed(client: Any) -> None:
    # Given a Festschreibung request sent with an Idempotency-Key
    first = client.post("/v1/periods/2026-01/lock", headers=KEY)
    assert first.status == 201, first.body
    # When the client retries it with the same key (its answer was lost)
    again = client.post("/v1/periods/2026-01/lock", headers=KEY)
    # Then the same request comes back, marked as replayed, and only one request is pending
    assert again.status == 201 and again.headers.get("idempotent-replayed") == "true"
    assert again.json()["request_id"] == first.json()["request_id"]
    status = client.get("/v1/periods/2026-01/lock/status").json()
    assert status["has_pending_request"] is True and status["request_id"] == first.json()["request_id"]


def test_given_a_pending_lock_request_when_requested_again_without_the_key_then_409(client: Any) -> None:
    # Given a pending request made with a key
    assert client.post("/v1/periods/2026-01/lock", headers=KEY).status == 201
    # When another request comes without a key, or with another key  Then the period's one pending slot refuses it
    for headers in ({}, {"Idempotency-Key": "another"}):
        resp = client.post("/v1/periods/2026-01/lock", headers=headers)
        assert resp.status == 409 and resp.json()["error"]["code"] == "LOCK_REQUEST_PENDING"
    # And the key is released after that failure: nothing was claimed for "another"
    assert client.post("/v1/periods/2026-02/lock", headers={"Idempotency-Key": "another"}).status == 201


def test_given_one_key_for_two_periods_then_each_period_gets_its_own_request(client: Any) -> None:
    # Given a lock request for January with a key
    january = client.post("/v1/periods/2026-01/lock", headers=KEY)
    # When the same key (and the same empty body) is sent for February
    february = client.post("/v1/periods/2026-02/lock", headers=KEY)
    # Then February is requested itself, not answered with January's request
    assert february.status == 201 and february.headers.get("idempotent-replayed") is None
    assert february.json()["period"] == "2026-02" != january.json()["period"]
