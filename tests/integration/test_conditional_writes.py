"""Conditional writes (store.base.put_new / update_if): a condition that does not hold is the caller's
409, a throttle is a 503 with Retry-After (retry in a moment), and any other DynamoDB error stays a 500."""

from __future__ import annotations

from typing import Any

import pytest

ACCOUNT = {"number": "4711", "name": "Sonderkonto", "type": "expense"}


def dynamodb_error(kind: str, code: str) -> Exception:
    """What pynamodb raises when DynamoDB answers ``code`` (botocore's retries spent)."""
    from botocore.exceptions import ClientError
    from pynamodb import exceptions

    cause = ClientError({"Error": {"Code": code, "Message": code}}, "PutItem")
    return getattr(exceptions, kind)(cause=cause)


@pytest.fixture
def failing_save(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make the next saves of a custom account fail with the DynamoDB error code given."""
    from ledgerlou.store.chart.accounts import AccountItem

    def fail_with(code: str) -> None:
        def save(self: Any, *args: Any, **kwargs: Any) -> Any:
            raise dynamodb_error("PutError", code)

        monkeypatch.setattr(AccountItem, "save", save)

    return fail_with


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                  "RequestLimitExceeded"])
def test_given_a_throttled_table_when_an_account_is_created_then_503_with_retry_after_not_409(
        client: Any, failing_save: Any, code: str) -> None:
    # Given DynamoDB throttling the account's conditional PutItem
    failing_save(code)
    # When a new account is created
    resp = client.post("/v1/accounts", ACCOUNT)
    # Then 503 SERVICE_UNAVAILABLE says when to retry; it is no "exists already"
    assert resp.status == 503, resp.body
    assert resp.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert resp.headers.get("retry-after") == "1"


def test_given_another_dynamodb_error_when_an_account_is_created_then_500_not_409(
        client: Any, failing_save: Any) -> None:
    # Given DynamoDB refusing the PutItem for a reason that is neither a condition nor a throttle
    failing_save("ValidationException")
    # When a new account is created  Then it is our error (500), not the caller's conflict
    resp = client.post("/v1/accounts", ACCOUNT)
    assert resp.status == 500 and resp.json()["error"]["code"] == "INTERNAL_ERROR"


def test_given_an_existing_account_when_it_is_created_again_then_409_account_exists(client: Any) -> None:
    # Given a custom account
    assert client.post("/v1/accounts", ACCOUNT).status == 201
    # When the same number is created again  Then the condition failed: 409 ACCOUNT_EXISTS
    again = client.post("/v1/accounts", ACCOUNT)
    assert again.status == 409 and again.json()["error"]["code"] == "ACCOUNT_EXISTS"


def test_given_a_throttled_read_when_a_route_answers_then_503_not_500(
        client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given DynamoDB throttling a Query outside the conditional-write helpers
    from ledgerlou.store.chart.accounts import AccountItem

    def query(*args: Any, **kwargs: Any) -> Any:
        raise dynamodb_error("QueryError", "ProvisionedThroughputExceededException")

    monkeypatch.setattr(AccountItem, "query", query)
    # When the chart of accounts is listed  Then 503 with Retry-After
    resp = client.get("/v1/accounts")
    assert resp.status == 503 and resp.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert resp.headers.get("retry-after") == "1"


def test_given_a_taken_pending_slot_then_update_if_says_so_and_a_throttle_raises_503(
        aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a period whose pending Festschreibung slot is taken
    from ledgerlou.errors import ServiceUnavailable
    from ledgerlou.store.periods import locks

    assert locks.claim_pending("t-1", "2026-01", "r-1") is True
    # When another request claims it  Then the condition failure is an answer, not an exception
    assert locks.claim_pending("t-1", "2026-01", "r-2") is False
    # And when DynamoDB throttles the UpdateItem  Then ServiceUnavailable
    monkeypatch.setattr(locks.PeriodItem, "update",
                        lambda *a, **k: (_ for _ in ()).throw(dynamodb_error("UpdateError", "ThrottlingException")))
    with pytest.raises(ServiceUnavailable):
        locks.claim_pending("t-1", "2026-02", "r-3")


def test_given_a_lock_request_decided_meanwhile_when_cancelled_then_409_not_500(
        client: Any, tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a pending Festschreibung request, read by a cancel before a concurrent cancel decided it
    from ledgerlou.store.periods import locks

    request_id = client.post("/v1/periods/2026-01/lock").json()["request_id"]
    stale = locks.get_request(tenant.tenant_id, request_id)
    assert stale is not None and stale.status == "pending"
    assert locks.cancel_request(locks.get_request(tenant.tenant_id, request_id), "other-actor", "2026-01-31T00:00:00Z")
    monkeypatch.setattr(locks, "get_request", lambda *args, **kwargs: stale)
    # When the slower cancel writes  Then its condition fails: 409 LOCK_REQUEST_NOT_PENDING, not a 500
    resp = client.post(f"/v1/periods/2026-01/lock/{request_id}/cancel")
    assert resp.status == 409 and resp.json()["error"]["code"] == "LOCK_REQUEST_NOT_PENDING"
