"""Four-eyes approval of payment runs compares persons, not actors: an API key is the person who
created it (followed through keys that created keys), so nobody approves their own run with a key
they made, or with their session a run their key created. The tenant's bootstrap admin key is a
person of its own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.payment_runs.support import bank, create_run, invoice, key_of, person, vendor

PAY = ["payables:read", "payables:write"]


@pytest.fixture
def invoice_ids(client: Any) -> dict[str, Any]:
    account = bank(client)
    v = vendor(client)
    return {"account": account["id"], "ids": [invoice(client, v["id"], "FE-1", "119.00")["id"]]}


def _draft(creator: Any, books: dict[str, Any]) -> dict[str, Any]:
    resp = create_run(creator, books["account"], books["ids"])
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def _refused(approver: Any, client: Any, run: dict[str, Any], principal: str) -> dict[str, Any]:
    resp = approver.post(f"/v1/payment-runs/{run['id']}/approve")
    assert resp.status == 403, resp.body
    error = resp.json()["error"]
    assert error["code"] == "FOUR_EYES_REQUIRED"
    # nothing changed: the run is still a draft nobody approved
    after = client.get(f"/v1/payment-runs/{run['id']}").json()
    assert after["status"] == "draft" and after["approved_by"] is None
    assert f"the same person ({principal}) through an API key they created" in error["message"], error
    return error  # type: ignore[no-any-return]


def test_given_a_run_created_by_a_users_key_then_the_users_session_cannot_approve_it(
        client: Any, make_client: Any, invoice_ids: dict[str, Any]) -> None:
    # Given a user who creates a key and creates a run with it
    erika, erika_id = person(client, make_client, ["admin"], "Erika")
    key, key_id = key_of(erika, make_client, PAY)
    run = _draft(key, invoice_ids)
    assert run["created_by"] == key_id
    # When the user approves it with their session
    error = _refused(erika, client, run, erika_id)
    # Then 403, and the message names both actors
    assert key_id in error["message"] and f"{erika_id} approves" in error["message"]


def test_given_a_run_created_by_a_users_session_then_their_key_cannot_approve_it(
        client: Any, make_client: Any, invoice_ids: dict[str, Any]) -> None:
    # Given a run the user creates with their session, and a key they made
    erika, erika_id = person(client, make_client, ["admin"], "Erika")
    key, _key_id = key_of(erika, make_client, PAY)
    run = _draft(erika, invoice_ids)
    # When the key approves: Then 403
    _refused(key, client, run, erika_id)


def test_given_a_key_made_by_a_key_the_user_made_then_neither_key_nor_session_approve_its_run(
        client: Any, make_client: Any, invoice_ids: dict[str, Any]) -> None:
    # Given user → admin key → payables key, and a run created by the last
    erika, erika_id = person(client, make_client, ["admin"], "Erika")
    first, _first_id = key_of(erika, make_client, ["admin"], "Verwaltung")
    second, _second_id = key_of(first, make_client, PAY, "Zahlungen")
    run = _draft(second, invoice_ids)
    # When the user's session or the user's other key approve: Then 403 each time
    _refused(erika, client, run, erika_id)
    _refused(first, client, run, erika_id)
    # and a third key the user makes later is the user too
    third, _third_id = key_of(erika, make_client, PAY, "Noch ein Schlüssel")
    _refused(third, client, run, erika_id)


def test_given_a_run_created_by_a_users_key_then_another_user_approves_it(
        client: Any, make_client: Any, tenant: Any, invoice_ids: dict[str, Any]) -> None:
    from ledgerlou.store.payables import payment_runs as store

    # Given Erika's key creates a run
    erika, erika_id = person(client, make_client, ["admin"], "Erika")
    key, key_id = key_of(erika, make_client, PAY)
    run = _draft(key, invoice_ids)
    # When Paula (another user) approves it
    paula, paula_id = person(client, make_client, PAY, "Paula")
    resp = paula.post(f"/v1/payment-runs/{run['id']}/approve")
    # Then it is approved by her, and the record keeps both persons beside the actors
    assert resp.status == 200, resp.body
    assert resp.json()["status"] == "approved" and resp.json()["approved_by"] == paula_id
    got = store.get_run(tenant.tenant_id, run["id"])
    assert got is not None
    stored = got[0]
    assert stored["created_by"] == key_id and stored["created_by_principal"] == erika_id
    assert stored["approved_by_principal"] == paula_id


def test_given_the_bootstrap_key_creates_a_run_then_a_user_approves_it(
        client: Any, make_client: Any, invoice_ids: dict[str, Any]) -> None:
    # Given a run created by the tenant's bootstrap admin key (its own principal)
    run = _draft(client, invoice_ids)
    # When a user the bootstrap key invited approves it
    paula, paula_id = person(client, make_client, PAY, "Paula")
    resp = paula.post(f"/v1/payment-runs/{run['id']}/approve")
    # Then 200
    assert resp.status == 200, resp.body
    assert resp.json()["approved_by"] == paula_id


def test_given_a_run_stored_without_its_creators_principal_then_approve_resolves_created_by(
        client: Any, make_client: Any, tenant: Any, invoice_ids: dict[str, Any]) -> None:
    from ledgerlou.store.payables import payment_runs as store

    # Given a run created by Erika's key, stored as runs were before principals were recorded
    erika, erika_id = person(client, make_client, ["admin"], "Erika")
    key, _key_id = key_of(erika, make_client, PAY)
    run = _draft(key, invoice_ids)
    got = store.get_run(tenant.tenant_id, run["id"])
    assert got is not None
    old, version = got
    del old["created_by_principal"]
    assert store.update_run(tenant.tenant_id, old, version)
    # When Erika's session approves: Then 403 all the same (created_by is resolved now)
    _refused(erika, client, run, erika_id)
    # and another person may
    paula, _paula_id = person(client, make_client, PAY, "Paula")
    assert paula.post(f"/v1/payment-runs/{run['id']}/approve").status == 200


# ------------------------------------------------------------------------------------- principal_of
def test_given_key_chains_then_principal_of_follows_created_by_to_a_user_or_a_key_without_creator(
        tenant: Any) -> None:
    from ledgerlou.domain.admin import api_keys

    t = tenant.tenant_id

    def key(created_by: str | None) -> str:
        item, _token = api_keys.issue(t, "k", ["payables:read"], created_by=created_by)
        return f"apikey:{item.key_id}"

    # a user is themself; the bootstrap key ("system") is its own principal, and so are its keys' keys
    assert api_keys.principal_of(t, "user:u-1") == "user:u-1"
    bootstrap = f"apikey:{tenant.admin_key_id}"
    assert api_keys.principal_of(t, bootstrap) == bootstrap
    assert api_keys.principal_of(t, key(key(bootstrap))) == bootstrap
    # a key without any recorded creator is its own principal
    orphan = key(None)
    assert api_keys.principal_of(t, orphan) == orphan
    # a chain of keys ends at the user who made the first
    assert api_keys.principal_of(t, key(key(key("user:u-2")))) == "user:u-2"
    # a key whose creator's record is missing stops at that missing key: two of its keys are one person
    ghost = "apikey:00000000-0000-4000-8000-00000000dead"
    assert api_keys.principal_of(t, key(ghost)) == ghost == api_keys.principal_of(t, key(ghost))
    # another tenant's key is missing here: the chain does not cross tenants
    assert api_keys.principal_of("other-tenant", key("user:u-3")).startswith("apikey:")


def test_given_a_cycle_or_a_chain_too_long_then_principal_of_stops_and_reads_at_most_the_bound(
        tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.store.admin import api_keys as key_store

    t = tenant.tenant_id
    # Given two keys that name each other as creator (create cannot do this; a hand-edited record could)
    a, _ = api_keys.issue(t, "a", ["payables:read"], created_by="user:u-1")
    b, _ = api_keys.issue(t, "b", ["payables:read"], created_by=f"apikey:{a.key_id}")
    a.update(actions=[key_store.ApiKeyItem.created_by.set(f"apikey:{b.key_id}")])
    # Then both answer the same principal: the smaller key id of the cycle
    smaller = f"apikey:{min(a.key_id, b.key_id)}"
    assert api_keys.principal_of(t, f"apikey:{a.key_id}") == smaller == api_keys.principal_of(t, f"apikey:{b.key_id}")

    # Given a chain of 15 keys from a user (each read counted)
    creator = "user:u-9"
    chain = []
    for _ in range(15):
        item, _ = api_keys.issue(t, "c", ["payables:read"], created_by=creator)
        creator = f"apikey:{item.key_id}"
        chain.append(creator)
    reads: list[str] = []
    real_get = key_store.get

    def counting_get(tenant_id: str, key_id: str, consistent: bool = False) -> Any:
        reads.append(key_id)
        return real_get(tenant_id, key_id, consistent)

    monkeypatch.setattr(key_store, "get", counting_get)
    # When the last is resolved: Then it reads MAX_PRINCIPAL_HOPS records and stops at the key it reached
    got = api_keys.principal_of(t, chain[-1])
    assert len(reads) == api_keys.MAX_PRINCIPAL_HOPS == 10
    assert got == chain[-1 - api_keys.MAX_PRINCIPAL_HOPS]
    # and a short chain costs one read per key
    reads.clear()
    assert api_keys.principal_of(t, chain[2]) == "user:u-9" and len(reads) == 3
