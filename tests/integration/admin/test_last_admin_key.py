"""The last admin key (issue 14, item 5): a tenant can never revoke its way out of its own books.

Revoking an admin key is refused with 409 LAST_ADMIN_KEY unless another active admin key remains, also
when two admins revoke each other's keys at the same moment, and also for tenants created before the
per-tenant admin-key counter existed."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest


def _admin_key(client: Any, label: str = "zweiter Admin") -> dict[str, Any]:
    resp = client.post("/v1/api-keys", {"label": label, "scopes": ["admin"]})
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def _own_key_id(client: Any) -> str:
    from ledgerlou.domain.admin import api_keys

    caller = api_keys.authenticate(client.token)
    assert caller is not None
    return caller.actor_id.removeprefix("apikey:")


def _forget_counter(tenant_id: str) -> None:
    """As a tenant created before the counter existed has it: no counter item at all."""
    from ledgerlou.store.admin import api_keys as store

    store.AdminKeyCounter(*store.counter_key(tenant_id)).delete()
    assert store.admin_key_count(tenant_id) is None


def test_given_the_only_admin_key_when_revoking_it_then_409_and_it_still_works(client: Any) -> None:
    resp = client.delete(f"/v1/api-keys/{_own_key_id(client)}")
    assert resp.status == 409 and resp.json()["error"]["code"] == "LAST_ADMIN_KEY", resp.body
    assert client.get("/v1/api-keys").status == 200
    assert all(k["revoked_at"] is None for k in client.get("/v1/api-keys").json()["api_keys"])


def test_given_two_admin_keys_when_revoking_one_then_it_works_and_the_other_is_refused(
        client: Any, make_client: Any) -> None:
    second = _admin_key(client)
    first_id = _own_key_id(client)
    assert client.delete(f"/v1/api-keys/{second['id']}").status == 200
    assert make_client(second["key"]).get("/v1/api-keys").status == 401
    resp = client.delete(f"/v1/api-keys/{first_id}")
    assert resp.status == 409 and resp.json()["error"]["code"] == "LAST_ADMIN_KEY"
    assert client.get("/v1/api-keys").status == 200
    # and a new admin key makes the old one revocable again (by the new one)
    third = make_client(_admin_key(client, "dritter Admin")["key"])
    assert third.delete(f"/v1/api-keys/{first_id}").status == 200
    assert client.get("/v1/api-keys").status == 401
    assert third.get("/v1/api-keys").status == 200


def test_given_non_admin_keys_when_revoked_then_the_admin_count_is_not_touched(client: Any) -> None:
    reader = client.post("/v1/api-keys", {"label": "lesen", "scopes": ["journal:read"]}).json()
    assert client.delete(f"/v1/api-keys/{reader['id']}").status == 200
    assert client.delete(f"/v1/api-keys/{_own_key_id(client)}").status == 409


def test_given_a_key_without_admin_scope_then_it_can_neither_revoke_nor_create_an_admin_key(
        client: Any, make_client: Any) -> None:
    from ledgerlou.domain.caller import ALL_SCOPES

    everything = [s for s in ALL_SCOPES if s != "admin"]
    created = client.post("/v1/api-keys", {"label": "alles außer admin", "scopes": everything})
    strong = make_client(created.json()["key"])
    second = _admin_key(client)
    assert strong.delete(f"/v1/api-keys/{second['id']}").status == 403
    assert strong.delete(f"/v1/api-keys/{_own_key_id(client)}").status == 403
    assert strong.post("/v1/api-keys", {"label": "x", "scopes": ["admin"]}).status == 403
    assert make_client(second["key"]).get("/v1/api-keys").status == 200


def test_given_a_tenant_from_before_the_counter_then_it_is_counted_once_and_the_rule_holds(
        client: Any, tenant: Any) -> None:
    from ledgerlou.store.admin import api_keys as store

    second = _admin_key(client)
    client.post("/v1/api-keys", {"label": "lesen", "scopes": ["journal:read"]})
    _forget_counter(tenant.tenant_id)
    assert client.delete(f"/v1/api-keys/{second['id']}").status == 200
    assert store.admin_key_count(tenant.tenant_id) == 1
    assert client.delete(f"/v1/api-keys/{_own_key_id(client)}").status == 409
    # creating an admin key on a tenant without a counter counts the existing ones first
    _forget_counter(tenant.tenant_id)
    _admin_key(client, "neu")
    assert store.admin_key_count(tenant.tenant_id) == 2


@pytest.mark.parametrize("counter", ["present", "absent"])
def test_given_two_admins_revoking_each_others_keys_at_once_then_exactly_one_succeeds(
        client: Any, make_client: Any, tenant: Any, counter: str) -> None:
    from ledgerlou.domain.admin import api_keys, tenants
    from ledgerlou.errors import Conflict

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that a check-then-revoke would be caught between
    try:
        for round_ in range(12):
            t = tenants.create_tenant(f"Race {round_} GmbH") if round_ else tenant
            first = api_keys.authenticate(t.admin_key)
            other_item, other_token = api_keys.issue(t.tenant_id, "zweiter", ["admin"], created_by="test")
            second = api_keys.authenticate(other_token)
            assert first is not None and second is not None
            if counter == "absent":
                _forget_counter(t.tenant_id)
            results: list[str] = []
            barrier = threading.Barrier(2)

            def revoke(ctx: Any, key_id: str, barrier: Any = barrier, results: list[str] = results) -> None:
                barrier.wait()
                try:
                    api_keys.revoke(ctx, key_id)
                    results.append("ok")
                except Conflict as ex:
                    results.append(ex.code)

            threads = [threading.Thread(target=revoke, args=(first, other_item.key_id)),
                       threading.Thread(target=revoke, args=(second, t.admin_key_id))]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            assert sorted(results) == ["LAST_ADMIN_KEY", "ok"], (round_, results)
            active = [k for k in api_keys.list_keys(t.tenant_id) if not k.revoked_at and "admin" in k.scopes]
            assert len(active) == 1
            assert (api_keys.authenticate(t.admin_key) is None) != (api_keys.authenticate(other_token) is None)
    finally:
        sys.setswitchinterval(interval)
