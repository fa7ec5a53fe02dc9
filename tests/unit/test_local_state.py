"""The local books' write-ahead log (local.state): folding, torn tails, compaction, migration, and a
round trip of every write call the app makes through moto in this process (no server)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local import state


def _put(pk: str, sk: str, **attrs: Any) -> dict[str, Any]:
    item = {"PK": {"S": pk}, "SK": {"S": sk}, **{k: {"S": str(v)} for k, v in attrs.items()}}
    return {"t": "books", "k": [item["PK"], item["SK"]], "i": item}


def _delete(pk: str, sk: str) -> dict[str, Any]:
    return {"t": "books", "k": [{"S": pk}, {"S": sk}]}


def _write_log(directory: Path, number: int, groups: list[list[dict[str, Any]]], tail: bytes = b"") -> Path:
    path = directory / f"wal-{number:08d}.jsonl"
    path.write_bytes(b"".join(json.dumps(g).encode() + b"\n" for g in groups) + tail)
    return path


def test_given_puts_updates_and_a_delete_when_folded_then_the_last_image_of_each_item_remains(tmp_path: Path) -> None:
    _write_log(tmp_path, 1, [[_put("T#a", "1", v=1)], [_put("T#a", "2", v=1), _put("T#a", "1", v=2)],
                             [_delete("T#a", "2")]])
    books, base, logs = state.load(tmp_path)
    assert (base, logs) == (0, [1])
    assert [op["i"]["v"]["S"] for op in books.items.values()] == ["2"]


def test_given_a_torn_last_line_when_loaded_with_repair_then_it_is_dropped_and_cut_off_the_file(
        tmp_path: Path) -> None:
    path = _write_log(tmp_path, 1, [[_put("T#a", "1", v=1)]], tail=b'[{"t":"books","k":[{"S":"T#a"}')
    books, _, _ = state.load(tmp_path, repair=True)
    assert len(books.items) == 1
    assert path.read_bytes().endswith(b"\n") and b'"T#a"}' not in path.read_bytes().split(b"\n")[-1]
    # a later append starts on a line of its own: the file still folds to the same books
    with open(path, "ab") as fh:
        fh.write(json.dumps([_put("T#a", "3", v=3)]).encode() + b"\n")
    assert len(state.load(tmp_path)[0].items) == 2


def test_given_logs_when_compacted_then_one_snapshot_holds_them_and_the_logs_are_gone(tmp_path: Path) -> None:
    _write_log(tmp_path, 1, [[_put("T#a", "1", v=1)], [_put("T#a", "2", v=1)]])
    _write_log(tmp_path, 2, [[_delete("T#a", "1")], [_put("T#a", "2", v=2)]])
    _write_log(tmp_path, 3, [[_put("T#a", "3", v=3)]])  # the open log: not folded
    before = state.load(tmp_path)[0]
    assert state.compact(tmp_path, through=2) == 1
    assert sorted(p.name for p in tmp_path.glob("*.jsonl")) == ["snapshot-00000002.jsonl", "wal-00000003.jsonl"]
    after, base, logs = state.load(tmp_path)
    assert (base, logs) == (2, [3])
    assert after.items == before.items
    # again on top of the snapshot: the older snapshot is replaced
    assert state.compact(tmp_path, through=3) == 2
    assert sorted(p.name for p in tmp_path.glob("*.jsonl")) == ["snapshot-00000003.jsonl"]


def test_given_a_compaction_that_died_after_its_snapshot_when_loaded_then_the_folded_logs_are_not_replayed(
        tmp_path: Path) -> None:
    _write_log(tmp_path, 1, [[_put("T#a", "1", v=1)]])
    state.write_snapshot(tmp_path, 1, state.load(tmp_path)[0].ops())  # the logs were not deleted yet
    _write_log(tmp_path, 2, [[_delete("T#a", "1")]])
    books, base, logs = state.load(tmp_path)
    assert (base, logs, books.items) == (1, [2], {})


def test_given_a_snapshot_without_its_trailer_when_loaded_then_it_is_refused_not_half_served(tmp_path: Path) -> None:
    state.write_snapshot(tmp_path, 1, [_put("T#a", "1"), _put("T#a", "2")])
    path = tmp_path / "snapshot-00000001.jsonl"
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-1]))
    with pytest.raises(state.CorruptState, match="no trailer"):
        state.load(tmp_path)


def test_given_the_same_bytes_twice_when_stored_then_one_file_named_by_its_sha256(tmp_path: Path) -> None:
    digest = state.write_blob(tmp_path, b"%PDF-1.7 x")
    assert digest == hashlib.sha256(b"%PDF-1.7 x").hexdigest() == state.write_blob(tmp_path, b"%PDF-1.7 x")
    assert [p.read_bytes() for p in (tmp_path / "objects").rglob("*") if p.is_file()] == [b"%PDF-1.7 x"]


# ------------------------------------------------------------------------------ through moto, in-process
@pytest.fixture
def moto_books(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A table and a bucket of their own in moto (in-process, without resetting what other tests hold)."""
    import boto3
    from moto import mock_aws

    state.install()
    mock = mock_aws()
    mock.start(reset=False)
    names = {"table": f"books-{uuid.uuid4().hex[:8]}", "bucket": f"docs-{uuid.uuid4().hex[:8]}",
             "queue": f"jobs-{uuid.uuid4().hex[:8]}"}
    ddb = boto3.client("dynamodb", region_name="eu-central-1")
    s3 = boto3.client("s3", region_name="eu-central-1")
    sqs = boto3.client("sqs", region_name="eu-central-1")

    def create() -> None:
        ddb.create_table(TableName=names["table"], BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                               {"AttributeName": "SK", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                    {"AttributeName": "SK", "KeyType": "RANGE"}])
        s3.create_bucket(Bucket=names["bucket"], CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        names["queue_url"] = sqs.create_queue(QueueName=names["queue"])["QueueUrl"]

    def drop() -> None:
        sqs.delete_queue(QueueUrl=names["queue_url"])
        ddb.delete_table(TableName=names["table"])
        for obj in s3.list_objects_v2(Bucket=names["bucket"]).get("Contents", []):
            s3.delete_object(Bucket=names["bucket"], Key=obj["Key"])
        s3.delete_bucket(Bucket=names["bucket"])

    create()
    try:
        yield {**names, "ddb": ddb, "s3": s3, "sqs": sqs, "dir": tmp_path / "state", "create": create, "drop": drop}
    finally:
        state.activate(None)
        drop()
        mock.stop()


def _scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    return sorted(ddb.scan(TableName=table)["Items"], key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def test_given_every_write_call_when_the_books_are_restored_into_an_empty_moto_then_they_are_identical(
        moto_books: dict[str, Any]) -> None:
    ddb, s3, table, bucket = moto_books["ddb"], moto_books["s3"], moto_books["table"], moto_books["bucket"]
    log = state.StateLog(moto_books["dir"], [table], [bucket], compact_bytes=10**9)
    log.restore()
    state.activate(log)
    ddb.put_item(TableName=table, Item={"PK": {"S": "T#a"}, "SK": {"S": "BLOCK#1"}, "payload": {"B": b"\x00\xffraw"},
                                        "n": {"N": "12.50"}, "tags": {"SS": ["x", "y"]},
                                        "m": {"M": {"b": {"B": b"\x01"}, "l": {"L": [{"S": "z"}, {"N": "1"}]}}}},
                 ConditionExpression="attribute_not_exists(PK)")
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):  # refused: must not be logged
        ddb.put_item(TableName=table, Item={"PK": {"S": "T#a"}, "SK": {"S": "BLOCK#1"}},
                     ConditionExpression="attribute_not_exists(PK)")
    ddb.update_item(TableName=table, Key={"PK": {"S": "T#a"}, "SK": {"S": "HEAD"}},
                    UpdateExpression="SET seq = :s ADD hits :one", ExpressionAttributeValues={
                        ":s": {"N": "1"}, ":one": {"N": "1"}})
    ddb.update_item(TableName=table, Key={"PK": {"S": "T#a"}, "SK": {"S": "HEAD"}},
                    UpdateExpression="SET seq = :s ADD hits :one", ConditionExpression="seq = :prev",
                    ExpressionAttributeValues={":s": {"N": "2"}, ":one": {"N": "1"}, ":prev": {"N": "1"}})
    ddb.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {"PK": {"S": "T#a#ENTRIES"}, "SK": {"S": f"{i:04d}"}, "d": {"S": "e" * i}}}}
        for i in range(25)]})
    ddb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": {"PK": {"S": "T#a#ENTRIES"},
                                                                         "SK": {"S": "0003"}}}}]})
    ddb.delete_item(TableName=table, Key={"PK": {"S": "T#a#ENTRIES"}, "SK": {"S": "0004"}})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"PK": {"S": "T#a"}, "SK": {"S": "T1"}}}},
        {"Update": {"TableName": table, "Key": {"PK": {"S": "T#a"}, "SK": {"S": "HEAD"}},
                    "UpdateExpression": "SET t = :t", "ExpressionAttributeValues": {":t": {"S": "yes"}}}}])
    with pytest.raises(ddb.exceptions.TransactionCanceledException):  # rolled back by moto: none of it logged
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"PK": {"S": "T#a"}, "SK": {"S": "T2"}}}},
            {"Put": {"TableName": table, "Item": {"PK": {"S": "T#a"}, "SK": {"S": "BLOCK#1"}},
                     "ConditionExpression": "attribute_not_exists(PK)"}}])
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    s3.put_object(Bucket=bucket, Key="tenant/a/documents/1", Body=pdf, ContentType="application/pdf",
                  ChecksumAlgorithm="SHA256", Metadata={"sha256": hashlib.sha256(pdf).hexdigest()})
    before = _scan(ddb, table)
    log.close()
    state.activate(None)

    moto_books["drop"]()  # a new process: nothing in moto
    moto_books["create"]()
    loaded = state.StateLog(moto_books["dir"], [table], [bucket]).restore()
    assert (loaded["items"], loaded["objects"]) == (len(before), 1)
    assert _scan(ddb, table) == before
    assert not any(i["SK"]["S"] == "T2" for i in before) and len(before) == 3 + 23
    got = s3.get_object(Bucket=bucket, Key="tenant/a/documents/1", ChecksumMode="ENABLED")
    assert got["Body"].read() == pdf and got["ContentType"] == "application/pdf"
    assert got["Metadata"] == {"sha256": hashlib.sha256(pdf).hexdigest()}
    assert got["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(pdf).digest()).decode()


def test_given_a_log_past_its_limit_when_written_then_a_child_folds_it_into_a_snapshot_and_nothing_is_lost(
        moto_books: dict[str, Any]) -> None:
    import time

    ddb, table, bucket, directory = moto_books["ddb"], moto_books["table"], moto_books["bucket"], moto_books["dir"]
    log = state.StateLog(directory, [table], [bucket], compact_bytes=2000)
    log.restore()
    state.activate(log)
    for i in range(20):
        ddb.put_item(TableName=table, Item={"PK": {"S": "T#a"}, "SK": {"S": f"{i:03d}"}, "d": {"S": "x" * 300}})
    deadline = time.monotonic() + 30
    while not list(directory.glob("snapshot-*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.compact_now(timeout=30)  # and wait for whatever is still running
    before = _scan(ddb, table)
    log.close()
    state.activate(None)
    assert len(list(directory.glob("wal-*.jsonl"))) <= 2  # folded: not one log per limit's worth
    moto_books["drop"]()
    moto_books["create"]()
    assert state.StateLog(directory, [table], [bucket]).restore()["items"] == 20
    assert _scan(ddb, table) == before


def test_given_a_state_json_gz_of_the_first_format_when_started_then_it_is_migrated_once(
        moto_books: dict[str, Any]) -> None:
    ddb, s3, table, bucket = moto_books["ddb"], moto_books["s3"], moto_books["table"], moto_books["bucket"]
    directory: Path = moto_books["dir"]
    directory.mkdir(parents=True)
    pdf = b"%PDF-1.4 legacy"
    raw = {"__bytes__": base64.b64encode(b"\x00z").decode()}  # how format 1 wrote a binary attribute
    legacy = {"version": 1, "items": [
        {"PK": {"S": "T#a"}, "SK": {"S": "BLOCK#1"}, "payload": {"B": raw}, "n": {"N": "1"}},
        {"PK": {"S": "T#a"}, "SK": {"S": "TENANT"}, "name": {"S": "Alt GmbH"}}],
        "objects": [{"key": "tenant/a/documents/9", "content_type": "application/pdf", "metadata": {"sha256": "abc"},
                     "body": base64.b64encode(pdf).decode()}]}
    with gzip.open(directory / "state.json.gz", "wb") as fh:
        fh.write(json.dumps(legacy).encode())
    loaded = state.StateLog(directory, [table], [bucket]).restore()
    assert (loaded["items"], loaded["objects"], loaded["migrated"]) == (2, 1, 3)
    items = _scan(ddb, table)
    assert items[0]["payload"] == {"B": b"\x00z"} and items[1]["name"] == {"S": "Alt GmbH"}
    got = s3.get_object(Bucket=bucket, Key="tenant/a/documents/9")
    assert got["Body"].read() == pdf and got["ContentType"] == "application/pdf"
    assert got["Metadata"] == {"sha256": "abc"}
    assert not (directory / "state.json.gz").exists() and (directory / "state.json.gz.migrated").exists()


def test_given_queued_jobs_when_restarted_then_the_unfinished_ones_are_delivered_again_and_only_once(
        moto_books: dict[str, Any]) -> None:
    sqs, table, bucket, queue = moto_books["sqs"], moto_books["table"], moto_books["bucket"], moto_books["queue"]

    def url() -> str:
        return str(moto_books["queue_url"])

    def receive() -> list[dict[str, Any]]:
        return list(sqs.receive_message(QueueUrl=url(), MaxNumberOfMessages=10).get("Messages", []))

    def restart() -> state.StateLog:
        state.activate(None)
        moto_books["drop"]()
        moto_books["create"]()
        log = state.StateLog(moto_books["dir"], [table], [bucket], queues=[queue])
        log.restore()
        state.activate(log)
        return log

    log = state.StateLog(moto_books["dir"], [table], [bucket], queues=[queue])
    log.restore()
    state.activate(log)
    sqs.send_message(QueueUrl=url(), MessageBody='{"batch": "done"}')
    sqs.send_message_batch(QueueUrl=url(), Entries=[{"Id": "1", "MessageBody": '{"batch": "pending"}'}])
    done = [m for m in receive() if "done" in m["Body"]]
    sqs.delete_message_batch(QueueUrl=url(), Entries=[{"Id": "0", "ReceiptHandle": done[0]["ReceiptHandle"]}])
    log.close()

    log = restart()
    again = receive()
    assert [m["Body"] for m in again] == ['{"batch": "pending"}']
    sqs.delete_message(QueueUrl=url(), ReceiptHandle=again[0]["ReceiptHandle"])  # its worker finishes now
    log.close()
    restart().close()
    assert receive() == []  # the re-sent message was recorded under its new id, and that one is deleted


def test_given_many_partitions_when_one_is_queried_then_moto_answers_as_dynamodb_and_writes_cannot_break_a_scan(
        moto_books: dict[str, Any]) -> None:
    import threading

    ddb, table = moto_books["ddb"], moto_books["table"]
    ddb.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {"PK": {"S": f"T#{p}"}, "SK": {"S": f"{s:03d}"}, "v": {"N": str(p * 100 + s)}}}}
        for p in range(5) for s in range(5)][:25]})
    for s in (7, 5, 9, 6):
        ddb.put_item(TableName=table, Item={"PK": {"S": "T#2"}, "SK": {"S": f"{s:03d}"}})
    everything = ddb.scan(TableName=table)["Items"]

    def expected(pk: str, low: str, forward: bool) -> list[str]:
        keys = sorted(i["SK"]["S"] for i in everything if i["PK"]["S"] == pk and i["SK"]["S"] >= low)
        return keys if forward else keys[::-1]

    for forward in (True, False):
        got, start = [], None
        while True:  # pages of 2: ExclusiveStartKey and Limit as before
            kwargs: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
            page = ddb.query(TableName=table, KeyConditionExpression="PK = :p AND SK >= :s", Limit=2,
                             ExpressionAttributeValues={":p": {"S": "T#2"}, ":s": {"S": "002"}},
                             ScanIndexForward=forward, **kwargs)
            got += [i["SK"]["S"] for i in page["Items"]]
            if not (start := page.get("LastEvaluatedKey")):
                break
        assert got == expected("T#2", "002", forward)
    assert ddb.query(TableName=table, KeyConditionExpression="PK = :p",
                     ExpressionAttributeValues={":p": {"S": "T#nobody"}})["Items"] == []

    stop = threading.Event()
    errors: list[Exception] = []

    def writer() -> None:
        n = 0
        while not stop.is_set():  # a new partition each time: the table's dict grows under the scan
            ddb.put_item(TableName=table, Item={"PK": {"S": f"T#new{n}"}, "SK": {"S": "x"}})
            n += 1

    import sys

    for start_ in range(0, 2000, 25):  # a walk long enough to be interrupted
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"PK": {"S": f"T#bulk{i}"}, "SK": {"S": "x"}}}}
            for i in range(start_, start_ + 25)]})
    thread = threading.Thread(target=writer)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can: the race shows at once
    thread.start()
    try:
        for _ in range(20):
            try:
                ddb.scan(TableName=table, Limit=1)
            except Exception as ex:  # noqa: BLE001 - collected: the assertion names it
                errors.append(ex)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert errors == []
