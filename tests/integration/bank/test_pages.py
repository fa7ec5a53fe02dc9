"""Packed transaction pages: page sizes, lookups by id, status changes and their counters."""

from __future__ import annotations

import threading
import uuid
import zlib
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.bank.support import (
    _account_with_transactions,
    _big_camt,
    _pages,
    _tenant_of,
    account,
    all_transactions,
    create_account,
    drain,
    row,
    upload,
)


def test_given_pages_smaller_than_an_import_then_it_splits_them_and_every_row_reads_back(client: Any,
                                                                                        monkeypatch: Any) -> None:
    from ledgerlou.store.bank import pages as page_store

    # Given pages of at most 2,000 bytes (rows of ~250 bytes)
    monkeypatch.setattr(page_store, "PAGE_BYTES", 2000)
    acc = create_account(client)
    rows = [row(amount=f"{i}.00", purpose=f"Rechnung RE-{i:04d} " + "x" * 60,
                booking_date=f"2026-01-{1 + (i * 5) % 28:02d}") for i in range(1, 61)]
    # When 60 rows of one month (on 28 days) are imported
    result = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}).json()
    # Then they fill several pages, none larger than the limit, each written once (version 0)
    pages = _pages(_tenant_of(client, acc["id"]), acc["id"], "2026-01")
    assert result["imported"] == 60 and len(pages) >= 5
    for page in pages:
        assert len(zlib.decompress(page["d"]["B"])) + len(page["k"]["S"]) + len(page["st"]["S"]) <= 2000
        assert page["v"]["N"] == "0" and len(page["st"]["S"]) == int(page["n"]["N"])
    assert sum(int(p["n"]["N"]) for p in pages) == 60
    # and every row is listed once and found by its id, exactly as listed
    txs = all_transactions(client, acc["id"])
    assert sorted(t["amount"] for t in txs) == [Decimal(i) for i in range(1, 61)]
    for tx in txs:
        assert client.get(f"/v1/bank-transactions/{tx['id']}").json()["transaction"] == tx
    # and small pages of the listing (which read only the newest pages) are slices of the whole order
    assert [(t["booking_date"], t["id"]) for t in txs] == sorted(((t["booking_date"], t["id"]) for t in txs),
                                                                 reverse=True)
    for limit, offset in ((1, 0), (7, 0), (7, 7), (5, 23), (13, 50)):
        listed = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&limit={limit}&offset={offset}").json()
        assert listed["transactions"] == txs[offset : offset + limit] and listed["total"] == 60
    ranged = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&start_date=2026-01-05"
                        f"&end_date=2026-01-20&limit=4&offset=2").json()
    inside = [t for t in txs if "2026-01-05" <= t["booking_date"] <= "2026-01-20"]
    assert ranged["transactions"] == inside[2:6] and ranged["total"] == len(inside)
    # and a re-import finds all of them in their pages
    again = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}).json()
    assert (again["imported"], again["skipped_duplicates"]) == (0, 60)


def test_given_a_page_limit_then_a_full_page_stays_far_below_the_dynamodb_item_limit() -> None:
    from ledgerlou.store.bank import pages as page_store
    from ledgerlou.store.bank import txids

    # Given transactions with the longest texts a statement carries (camt Ustrd 140 × 10 and more)
    txs = [{"id": txids.tx_id("acc", "2026-01-15", f"{i:020x}"), "booking_date": "2026-01-15", "value_date": None,
            "amount": Decimal("-1.50"), "currency": "EUR", "purpose": "Ü" * 1500, "counterparty_name": "N" * 140}
           for i in range(400)]
    # When they are packed
    pages = page_store.build_pages("t", "acc", "2026-01", 0, txs, batch_id="b", document_id=None, created_at="now",
                              currency="EUR")
    # Then no page item exceeds PAGE_BYTES of payload, and that is well below 400 KB
    assert len(pages) > 1 and page_store.PAGE_BYTES * 2 < 400_000
    for item, info in pages:
        size = len(zlib.decompress(item["d"]["B"])) + len(item["k"]["S"]) + len(item["st"]["S"])
        assert size <= page_store.PAGE_BYTES
        assert info.rows == len(item["st"]["S"]) and info.total == Decimal("-1.50") * info.rows
    assert [info.number for _, info in pages] == list(range(len(pages)))
    # and a row larger than a page on its own still gets one (no row is ever dropped)
    huge = [{**txs[0], "purpose": "x" * (page_store.PAGE_BYTES + 10)}]
    assert len(page_store.build_pages("t", "acc", "2026-01", 7, huge, batch_id="b", document_id=None, created_at="now",
                                 currency="EUR")) == 1


def test_given_an_import_by_the_worker_then_every_transaction_is_found_by_id_at_once(client: Any,
                                                                                     import_worker: Any,
                                                                                     make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    acc = create_account(client)
    queued = upload(client, _big_camt(505, seed=21), acc["id"]).json()
    # When the worker has imported the file
    drain(import_worker)
    # Then each transaction is found by id right away (strongly consistent reads, no index)
    txs = all_transactions(client, acc["id"])
    assert len(txs) == 505 and all(t["batch_id"] == queued["batch_id"] for t in txs)
    for tx in txs[::25]:
        assert client.get(f"/v1/bank-transactions/{tx['id']}").json()["transaction"] == tx
    # and not by another tenant, nor by an id that names no stored transaction
    other = make_client(tenants.create_tenant("Andere GmbH", "skr03").admin_key)
    assert other.get(f"/v1/bank-transactions/{txs[0]['id']}").status == 404
    unknown = txs[0]["id"][:-4] + ("0000" if not txs[0]["id"].endswith("0000") else "1111")
    assert client.get(f"/v1/bank-transactions/{unknown}").status == 404
    assert client.get(f"/v1/bank-transactions/{uuid.uuid4()}").status == 404


def test_given_a_packed_transaction_then_its_status_changes_alone_and_the_counter_follows(client: Any) -> None:
    from ledgerlou.domain.bank import transactions as bank
    from ledgerlou.errors import Conflict

    acc, tenant_id, txs = _account_with_transactions(client, 3)
    assert len(_pages(tenant_id, acc["id"], "2026-01")) == 1  # all three in one page
    # When one of them is reconciled
    changed = bank.set_transaction_status(tenant_id, txs[1]["id"], "reconciled", expected="unreconciled")
    # Then only it changed, in place (version + 1), and the account counts one unreconciled less
    assert changed == {**txs[1], "status": "reconciled"}
    assert [t["status"] for t in all_transactions(client, acc["id"])] == ["unreconciled", "reconciled", "unreconciled"]
    assert _pages(tenant_id, acc["id"], "2026-01")[0]["v"]["N"] == "1"
    assert (account(client, acc["id"])["unreconciled_count"], account(client, acc["id"])["tx_count"]) == (2, 3)
    listed = client.get(f"/v1/bank-transactions?bank_account_id={acc['id']}&status=reconciled").json()
    assert [t["id"] for t in listed["transactions"]] == [txs[1]["id"]] and listed["total"] == 1
    # and a change that expects the old status is refused (409), the transaction left as it is
    with pytest.raises(Conflict):
        bank.set_transaction_status(tenant_id, txs[1]["id"], "dismissed", expected="unreconciled")
    assert client.get(f"/v1/bank-transactions/{txs[1]['id']}").json()["transaction"]["status"] == "reconciled"
    # and back to unreconciled counts it again
    bank.set_transaction_status(tenant_id, txs[1]["id"], "unreconciled")
    assert account(client, acc["id"])["unreconciled_count"] == 3


def test_given_concurrent_status_changes_of_one_page_then_every_one_lands(client: Any) -> None:
    from ledgerlou.domain.bank import transactions as bank

    acc, tenant_id, txs = _account_with_transactions(client, 8)
    # When 8 threads each reconcile another transaction of the same page at the same time
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def reconcile(tx_id: str) -> None:
        barrier.wait()
        try:
            bank.set_transaction_status(tenant_id, tx_id, "reconciled", expected="unreconciled")
        except BaseException as ex:  # noqa: BLE001 - reported below
            errors.append(ex)

    threads = [threading.Thread(target=reconcile, args=(t["id"],)) for t in txs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then the version conditions serialised them: none is lost, the counter is exact
    assert errors == []
    assert {t["status"] for t in all_transactions(client, acc["id"])} == {"reconciled"}
    assert int(_pages(tenant_id, acc["id"], "2026-01")[0]["v"]["N"]) == 8
    assert account(client, acc["id"])["unreconciled_count"] == 0


def test_given_an_import_while_transactions_are_reconciled_then_neither_undoes_the_other(client: Any) -> None:
    from ledgerlou.domain.bank import transactions as bank

    acc = create_account(client)
    tenant_id = _tenant_of(client, acc["id"])
    first = [row(amount=f"{i}.00") for i in range(1, 21)]
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": first})
    txs = all_transactions(client, acc["id"])
    # When an overlapping import (the same 20 rows and 20 new ones of the same month) runs while the
    # first 20 are being reconciled
    overlapping = first + [row(amount=f"{i}.00", purpose="neu") for i in range(1, 21)]
    results: list[Any] = []
    importer = threading.Thread(target=lambda: results.append(client.post(
        "/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": overlapping}).json()))
    importer.start()
    for tx in txs:
        bank.set_transaction_status(tenant_id, tx["id"], "reconciled")
    importer.join()
    # Then the import wrote only new pages (the reconciled ones keep their status) and counts exactly
    assert (results[0]["imported"], results[0]["skipped_duplicates"]) == (20, 20)
    after = all_transactions(client, acc["id"])
    assert len(after) == 40 == account(client, acc["id"])["tx_count"]
    assert sum(t["status"] == "reconciled" for t in after) == 20
    assert account(client, acc["id"])["unreconciled_count"] == 20


def test_given_a_page_exists_then_no_import_can_overwrite_it(client: Any) -> None:
    import botocore.exceptions
    from ledgerlou.store.bank import pages as page_store

    acc = create_account(client)
    tenant_id = _tenant_of(client, acc["id"])
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [row()]})
    existing = _pages(tenant_id, acc["id"], "2026-01")[0]
    # When an import that lost its lease (a stale holder) writes a page under the same key
    stale = {**existing, "st": {"S": "u"}, "b": {"S": "stale-batch"}}
    # Then the conditional put refuses it and the page stays as it was
    with pytest.raises(botocore.exceptions.ClientError, match="ConditionalCheckFailed"):
        page_store.put_pages([stale])
    assert _pages(tenant_id, acc["id"], "2026-01") == [existing]
