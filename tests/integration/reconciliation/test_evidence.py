"""GET/PUT /v1/bank-transactions/{id}/evidence: the Eigenbeleg of a transaction without a voucher —
a new version per PUT, every earlier one kept (GoBD), the document checked, metadata bounded."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.integration.bank.support import PDF, create_account, row
from tests.integration.documents.test_documents import upload

BODY = {"evidence_type": "eigenbeleg", "title": "Parkgebühr ohne Beleg", "note": "Automat ohne Quittung",
        "metadata": {"place": "Köln", "attendees": ["A. Schmidt"], "km": 12}}


@pytest.fixture
def tx_id(client: Any) -> str:
    account = create_account(client)
    resp = client.post("/v1/bank-transactions", {"bank_account_id": account["id"], "transactions": [
        row(amount="-8.50", purpose="Parkhaus Am Dom")]})
    assert resp.status == 201, resp.body
    return client.get(f"/v1/bank-transactions?bank_account_id={account['id']}").json()["transactions"][0]["id"]


def url(tx_id: str) -> str:
    return f"/v1/bank-transactions/{tx_id}/evidence"


def test_given_no_evidence_then_null_and_an_empty_history(client: Any, tx_id: str) -> None:
    resp = client.get(url(tx_id))
    assert resp.status == 200 and resp.json() == {"evidence": None, "history": []}


def test_given_two_puts_then_the_latest_is_the_evidence_and_both_versions_are_kept(client: Any, tx_id: str) -> None:
    # Given a first version and a corrected second one with a document
    doc = upload(client, PDF).json()["id"]
    first = client.put(url(tx_id), BODY)
    assert first.status == 200, first.body
    second = client.put(url(tx_id), {**BODY, "title": "Parkgebühr Kundentermin", "document_id": doc})
    assert second.status == 200, second.body
    # When the evidence is read
    got = client.get(url(tx_id)).json()
    # Then the second is the evidence and the first is unchanged in the history
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert got["evidence"] == second.json() and got["history"] == [first.json(), second.json()]
    assert got["history"][0]["title"] == "Parkgebühr ohne Beleg" and got["history"][0]["document_id"] is None
    assert got["evidence"]["metadata"] == BODY["metadata"] and got["evidence"]["bank_transaction_id"] == tx_id
    assert got["evidence"]["created_by"]


def test_given_the_same_content_again_then_no_new_version(client: Any, tx_id: str) -> None:
    assert client.put(url(tx_id), BODY).json()["version"] == 1
    again = client.put(url(tx_id), BODY)
    assert again.status == 200 and again.json()["version"] == 1
    assert len(client.get(url(tx_id)).json()["history"]) == 1


def test_given_concurrent_puts_then_each_gets_its_own_version(client: Any, tx_id: str) -> None:
    results: list[Any] = []

    def put(n: int) -> None:
        results.append(client.put(url(tx_id), {**BODY, "title": f"Version {n}"}))

    threads = [threading.Thread(target=put, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == [200] * 4
    assert sorted(r.json()["version"] for r in results) == [1, 2, 3, 4]
    assert [v["version"] for v in client.get(url(tx_id)).json()["history"]] == [1, 2, 3, 4]


def test_given_an_unknown_document_or_transaction_then_404(client: Any, tx_id: str) -> None:
    resp = client.put(url(tx_id), {**BODY, "document_id": "00000000-0000-4000-8000-000000000000"})
    assert resp.status == 404 and resp.json()["error"]["code"] == "DOCUMENT_NOT_FOUND"
    unknown = "00000000-0000-4000-8000-000000000001"
    assert client.put(url(unknown), BODY).status == 404
    assert client.get(url(unknown)).status == 404
    assert client.get(url(tx_id)).json()["history"] == []


def test_given_another_tenants_document_or_transaction_then_404(client: Any, make_client: Any, tx_id: str) -> None:
    from ledgerlou.domain.admin import tenants

    stranger = make_client(tenants.create_tenant("Fremd GmbH", "skr03").admin_key)
    theirs = upload(stranger, PDF).json()["id"]
    resp = client.put(url(tx_id), {**BODY, "document_id": theirs})
    assert resp.status == 404 and resp.json()["error"]["code"] == "DOCUMENT_NOT_FOUND"
    assert stranger.get(url(tx_id)).status == 404 and stranger.put(url(tx_id), BODY).status == 404


@pytest.mark.parametrize("metadata", [
    {"a": {"b": {"c": {"d": 1}}}},  # 5 levels
    {"blob": "x" * 9000},  # over 8 KB
    {"": 1},
    {"k" * 101: 1},
    {"bad": "zero\u0000width"},
    ["not", "an", "object"],
])
def test_given_unbounded_or_bad_metadata_then_400_and_nothing_stored(client: Any, tx_id: str, metadata: Any) -> None:
    resp = client.put(url(tx_id), {**BODY, "metadata": metadata})
    assert resp.status == 400 and resp.json()["error"]["code"] == "INVALID_INPUT", resp.body
    assert client.get(url(tx_id)).json()["history"] == []


@pytest.mark.parametrize("body", [
    {"title": "x"}, {"evidence_type": "eigenbeleg"}, {**BODY, "evidence_type": "Eigen Beleg"},
    {**BODY, "title": ""}, {**BODY, "unknown": 1}, {**BODY, "note": "n" * 2001},
])
def test_given_a_malformed_body_then_400(client: Any, tx_id: str, body: dict[str, Any]) -> None:
    assert client.put(url(tx_id), body).status == 400


def test_given_only_bank_read_then_get_but_no_put(client: Any, make_client: Any, tx_id: str) -> None:
    from tests.integration.bank.support import limited

    reader = limited(client, make_client, ["bank:read"])
    assert reader.get(url(tx_id)).status == 200
    assert reader.put(url(tx_id), BODY).status == 403
