"""The SQS import worker, fed by the local poller: large files, retries, the account lease, crashes."""

from __future__ import annotations

import json
import threading
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.bank.support import (
    IBAN,
    _batch,
    _big_camt,
    _crash_while_writing_pages,
    _expire_lease,
    _hold_lease,
    _message,
    _sqs_event,
    _tenant_of,
    account,
    all_transactions,
    create_account,
    drain,
    row,
    upload,
)


def test_given_more_than_500_transactions_then_202_and_the_worker_imports_them(client: Any,
                                                                               import_worker: Any) -> None:
    from ledgerlou.formats.detect import parse_statement

    # Given a bank account and a generated camt.053 with 600 entries
    acc = create_account(client)
    data = _big_camt()
    parsed = [t for s in parse_statement(data).statements for t in s.transactions]
    # When it is uploaded
    resp = upload(client, data, acc["id"])
    # Then the request answers 202 and the batch is queued
    assert resp.status == 202, resp.body
    queued = resp.json()
    assert (queued["status"], queued["total_rows"]) == ("queued", 600)
    assert client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()["status"] == "queued"
    # When the worker has drained the queue
    assert drain(import_worker) == 1
    # Then the batch is complete with exact counts, and every transaction is queryable
    batch = client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()
    assert (batch["status"], batch["imported"], batch["skipped_duplicates"], batch["total_rows"]) == \
        ("completed", 600, 0, 600)
    assert batch["balance_mismatches"] == [] and batch["statements"][0]["transactions"] == 600
    txs = all_transactions(client, acc["id"])
    assert len(txs) == 600 and sum(t["amount"] for t in txs) == sum(t.amount for t in parsed)
    assert account(client, acc["id"])["tx_count"] == 600
    # When the same file is uploaded again
    again = upload(client, data, acc["id"]).json()
    drain(import_worker)
    # Then it imports nothing
    batch = client.get(f"/v1/bank-transactions/import-batches/{again['batch_id']}").json()
    assert (batch["imported"], batch["skipped_duplicates"]) == (0, 600)
    assert account(client, acc["id"])["tx_count"] == 600


def test_given_a_message_delivered_twice_then_nothing_is_imported_twice(client: Any, import_worker: Any,
                                                                       aws: dict[str, str]) -> None:
    import boto3

    acc = create_account(client)
    queued = upload(client, _big_camt(505, seed=8), acc["id"]).json()
    # Given the message twice in the queue (SQS delivers at least once)
    sqs = boto3.client("sqs", region_name="eu-central-1")
    message = {"tenant_id": _tenant_of(client, acc["id"]), "batch_id": queued["batch_id"],
               "document_id": queued["document_id"], "bank_account_id": acc["id"]}
    sqs.send_message(QueueUrl=aws["ImportQueue"], MessageBody=json.dumps(message))
    # When the worker drains both
    assert drain(import_worker) == 2
    # Then the batch is imported once
    batch = client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()
    assert (batch["status"], batch["imported"]) == ("completed", 505)
    assert account(client, acc["id"])["tx_count"] == 505 == len(all_transactions(client, acc["id"]))
    # and a third delivery straight to the handler changes nothing either
    result = client.gateway.invoke("ImportWorkerFunction", _sqs_event(json.dumps(message)))
    assert result == {"batchItemFailures": []}
    assert account(client, acc["id"])["tx_count"] == 505


def test_given_an_import_that_died_halfway_when_retried_then_counts_are_exact(client: Any, import_worker: Any,
                                                                             monkeypatch: Any) -> None:
    from ledgerlou.domain.bank.importing import run as imports
    from ledgerlou.domain.bank.importing import worker

    acc = create_account(client)
    queued = upload(client, _big_camt(503, seed=9), acc["id"]).json()
    tenant_id = _tenant_of(client, acc["id"])
    message = json.dumps({"tenant_id": tenant_id, "batch_id": queued["batch_id"],
                          "document_id": queued["document_id"], "bank_account_id": acc["id"]})
    # Given a first attempt that wrote every transaction and counted them, then crashed
    real_finish = imports._finish

    def crash(*args: Any, **kw: Any) -> None:
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(worker, "_finish", crash)
    with pytest.raises(RuntimeError):
        worker.process_message(message, receive_count=1)
    assert client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()["status"] == "processing"
    # When the message is delivered again
    monkeypatch.setattr(worker, "_finish", real_finish)
    assert worker.process_message(message, receive_count=2) == "completed"
    # Then the batch reports every row as imported, and the account counts each once
    batch = client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()
    assert (batch["status"], batch["imported"], batch["skipped_duplicates"]) == ("completed", 503, 0)
    assert account(client, acc["id"])["tx_count"] == 503 == len(all_transactions(client, acc["id"]))
    drain(import_worker)  # the original message: already completed
    assert account(client, acc["id"])["tx_count"] == 503


def test_given_a_failing_last_attempt_then_the_batch_is_marked_failed(client: Any, import_worker: Any,
                                                                     monkeypatch: Any) -> None:
    from ledgerlou.domain.bank.importing import worker

    acc = create_account(client)
    queued = upload(client, _big_camt(502, seed=10), acc["id"]).json()
    message = json.dumps({"tenant_id": _tenant_of(client, acc["id"]), "batch_id": queued["batch_id"],
                          "document_id": queued["document_id"], "bank_account_id": acc["id"]})

    def broken(*args: Any, **kw: Any) -> None:
        raise ConnectionError("DynamoDB unavailable")

    monkeypatch.setattr(worker, "_run", broken)
    with pytest.raises(ConnectionError):
        worker.process_message(message, receive_count=3)
    batch = client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()
    assert batch["status"] == "failed" and "3 attempts" in batch["failure_reason"]
    monkeypatch.undo()
    drain(import_worker)  # the queued message: a failed batch may be retried and then completes
    assert client.get(f"/v1/bank-transactions/import-batches/{queued['batch_id']}").json()["imported"] == 502


def test_given_a_malformed_message_then_the_worker_reports_it_as_a_batch_item_failure(client: Any) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    acc = create_account(client)
    done = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [row()]}).json()
    good = json.dumps({"tenant_id": _tenant_of(client, acc["id"]), "batch_id": done["batch_id"], "document_id": "",
                       "bank_account_id": acc["id"]})
    unknown = json.dumps({"tenant_id": "t", "batch_id": str(uuid.uuid4()), "document_id": "d", "bank_account_id": "a"})
    # Given a batch of a malformed, an unknown and a good (already completed) message
    event = _sqs_event("{not json", unknown, good)
    # Then only the two bad ones are reported for retry (and, after 3 receives, the DLQ)
    result = client.gateway.invoke("ImportWorkerFunction", event)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}
    # and a batch of only bad messages fails as a whole
    with pytest.raises(BatchProcessingError):
        client.gateway.invoke("ImportWorkerFunction", _sqs_event("[]"))


def test_given_another_import_holds_the_lease_then_a_json_import_waits_for_it_and_imports(client: Any) -> None:
    from ledgerlou.store.bank import accounts as account_store

    acc = create_account(client)
    tenant_id = _tenant_of(client, acc["id"])
    # Given another import holding the account's import lease, which it gives back after 0.3 s
    _hold_lease(tenant_id, acc["id"], 60)
    release = threading.Timer(0.3, account_store.release_lease, (tenant_id, acc["id"], "another-import"))
    release.start()
    # When rows are imported meanwhile
    started = time.monotonic()
    resp = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [row(), row()]})
    release.join()
    # Then the import waited for the lease and imported them
    assert resp.status == 201, resp.body
    assert time.monotonic() - started >= 0.25 and resp.json()["imported"] == 2
    assert account(client, acc["id"])["tx_count"] == 2


def test_given_a_lease_held_too_long_then_409_and_once_it_expires_it_is_taken_over(client: Any,
                                                                                   monkeypatch: Any) -> None:
    from ledgerlou.domain.bank.importing import run as imports

    monkeypatch.setitem(imports.LEASE_WAIT_S, "api", 0.2)
    acc = create_account(client)
    # Given a lease whose holder died: it expires in a second
    _hold_lease(_tenant_of(client, acc["id"]), acc["id"], 1.0)
    body = {"bank_account_id": acc["id"], "transactions": [row(), row(amount="-5.00")]}
    # When rows are imported while it is held
    busy = client.post("/v1/bank-transactions", body)
    # Then 409 IMPORT_IN_PROGRESS and nothing is imported
    assert busy.status == 409 and busy.json()["error"]["code"] == "IMPORT_IN_PROGRESS"
    assert account(client, acc["id"])["tx_count"] == 0 and all_transactions(client, acc["id"]) == []
    # When the same rows are imported after the lease expired
    time.sleep(1.1)
    done = client.post("/v1/bank-transactions", body)
    # Then the expired lease is taken over and the rows import once
    assert done.status == 201 and (done.json()["imported"], done.json()["skipped_duplicates"]) == (2, 0)
    assert account(client, acc["id"])["tx_count"] == 2 == len(all_transactions(client, acc["id"]))


def test_given_a_held_lease_then_the_worker_message_is_retried_and_imports_once(client: Any,
                                                                               import_worker: Any) -> None:
    from ledgerlou.domain.bank.importing import run as imports
    from ledgerlou.domain.bank.importing import worker
    from ledgerlou.store.bank import accounts as account_store

    acc = create_account(client)
    queued = upload(client, _big_camt(510, seed=12), acc["id"]).json()
    tenant_id = _tenant_of(client, acc["id"])
    # Given another import holding the account's lease
    _hold_lease(tenant_id, acc["id"], 60)
    # When the worker gets the message with 0.4 s of its invocation left
    started = time.monotonic()
    with pytest.raises(imports.ImportInProgress):
        worker.process_message(_message(client, acc, queued), receive_count=1, remaining_s=0.4)
    # Then it waits at most half of that for the lease and raises (SQS delivers the message again),
    # and the batch is neither failed nor imported
    assert time.monotonic() - started < 1.5
    assert _batch(client, queued["batch_id"])["status"] == "processing"
    assert account(client, acc["id"])["tx_count"] == 0
    # When the lease is given back and the message comes again
    account_store.release_lease(tenant_id, acc["id"], "another-import")
    drain(import_worker)
    # Then the batch imports every row once
    batch = _batch(client, queued["batch_id"])
    assert (batch["status"], batch["imported"], batch["skipped_duplicates"]) == ("completed", 510, 0)
    assert account(client, acc["id"])["tx_count"] == 510 == len(all_transactions(client, acc["id"]))


def test_given_two_imports_of_one_file_at_the_same_time_then_one_imports_and_the_other_skips(client: Any) -> None:
    from ledgerlou.domain.bank.importing import worker

    acc = create_account(client)
    data = _big_camt(520, seed=13)
    # Given the same statement uploaded twice (two queued batches)
    first, second = upload(client, data, acc["id"]).json(), upload(client, data, acc["id"]).json()
    # When two workers import both at the same time
    outcomes: list[Any] = []

    def work(queued: dict[str, Any]) -> None:
        outcomes.append(worker.process_message(_message(client, acc, queued), receive_count=1))

    threads = [threading.Thread(target=work, args=(q,)) for q in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then the lease lets one import at a time: every row is imported once, by one of them
    assert outcomes == ["completed", "completed"]
    counts = sorted((b["imported"], b["skipped_duplicates"]) for b in (_batch(client, first["batch_id"]),
                                                                      _batch(client, second["batch_id"])))
    assert counts == [(0, 520), (520, 0)]
    txs = all_transactions(client, acc["id"])
    assert account(client, acc["id"])["tx_count"] == 520 == len(txs) == len({t["id"] for t in txs})


def test_given_a_worker_that_died_mid_import_then_the_retry_finishes_it_with_exact_counts(client: Any,
                                                                                        monkeypatch: Any) -> None:
    from ledgerlou.domain.bank.importing import run as imports
    from ledgerlou.domain.bank.importing import worker

    monkeypatch.setitem(imports.LEASE_WAIT_S, "worker", 0.2)
    acc = create_account(client)
    queued = upload(client, _big_camt(530, seed=14), acc["id"]).json()
    tenant_id = _tenant_of(client, acc["id"])
    message = _message(client, acc, queued)
    # Given a first attempt that died halfway through writing, still holding the lease
    _crash_while_writing_pages(monkeypatch)
    with pytest.raises(RuntimeError):
        worker.process_message(message, receive_count=1)
    monkeypatch.undo()
    monkeypatch.setitem(imports.LEASE_WAIT_S, "worker", 0.2)
    assert account(client, acc["id"])["tx_count"] == 0
    # When the message comes again before the dead attempt's lease expired: it is retried later
    with pytest.raises(imports.ImportInProgress):
        worker.process_message(message, receive_count=2)
    # When it comes again after the lease expired
    _expire_lease(tenant_id, acc["id"])
    assert worker.process_message(message, receive_count=3) == "completed"
    # Then every row is imported once, counted once and readable by id
    batch = _batch(client, queued["batch_id"])
    assert (batch["status"], batch["imported"], batch["skipped_duplicates"]) == ("completed", 530, 0)
    txs = all_transactions(client, acc["id"])
    assert account(client, acc["id"])["tx_count"] == 530 == len(txs) == len({t["id"] for t in txs})
    for tx in txs[::53]:
        assert client.get(f"/v1/bank-transactions/{tx['id']}").json()["transaction"] == tx


def test_given_an_import_that_died_mid_way_then_a_new_import_of_its_rows_takes_them_over(client: Any,
                                                                                       monkeypatch: Any) -> None:
    acc = create_account(client)
    rows = [row(amount=f"{i}.00", purpose=f"RE-{i}") for i in range(1, 11)]
    # Given a JSON import that died after writing half of its pages
    _crash_while_writing_pages(monkeypatch)
    crashed = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows})
    monkeypatch.undo()
    assert crashed.status == 500 and account(client, acc["id"])["tx_count"] == 0
    _expire_lease(_tenant_of(client, acc["id"]), acc["id"])  # it died without giving it back
    # When the same rows are imported again (a new batch)
    again = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}).json()
    # Then the dead batch's rows are taken over: each imported and counted once, none lost
    assert (again["imported"], again["skipped_duplicates"]) == (10, 0)
    txs = all_transactions(client, acc["id"])
    assert account(client, acc["id"])["tx_count"] == 10 == len(txs)
    assert sorted(t["amount"] for t in txs) == [Decimal(i) for i in range(1, 11)]
    # and a third import finds them all
    third = client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": rows}).json()
    assert (third["imported"], third["skipped_duplicates"]) == (0, 10)


def test_given_no_hand_off_from_the_request_then_the_worker_parses_the_stored_file(client: Any,
                                                                                 import_worker: Any) -> None:
    import boto3
    from ledgerlou.api.downloads import exports_bucket
    from ledgerlou.store import blobs

    acc = create_account(client)
    queued = upload(client, _big_camt(515, seed=16), acc["id"]).json()
    # Given a queued batch whose hand-off is gone (not stored, or expired before a late retry)
    boto3.client("s3").delete_object(Bucket=exports_bucket(),
                                     Key=blobs.handoff_key(_tenant_of(client, acc["id"]), queued["batch_id"]))
    # When the worker imports it
    drain(import_worker)
    # Then it parsed the stored document and imported every row once
    batch = _batch(client, queued["batch_id"])
    assert (batch["status"], batch["imported"], batch["total_rows"]) == ("completed", 515, 515)
    assert account(client, acc["id"])["tx_count"] == 515


def test_given_a_file_whose_statements_overlap_then_the_shared_rows_import_once(client: Any) -> None:
    from local.statement_gen import camt053

    # Given a camt.053 file with the same statement twice (banks resend days in a later statement)
    data = camt053(4, iban=IBAN, seed=15).decode()
    statement = data[data.index("<Stmt>"):data.index("</Stmt>") + len("</Stmt>")]
    doubled = data.replace(statement, statement + statement).encode()
    acc = create_account(client)
    # When it is uploaded
    result = upload(client, doubled, acc["id"]).json()
    # Then the rows of the second statement are duplicates of the first
    assert (result["total_rows"], result["imported"], result["skipped_duplicates"]) == (8, 4, 4)
    assert account(client, acc["id"])["tx_count"] == 4 == len(all_transactions(client, acc["id"]))
