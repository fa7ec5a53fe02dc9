"""The local runtime enforces each function's IAM policy from template.yaml (local/iam.py): a call the
policy does not allow fails as on AWS, with nothing written, in the function's thread pools too."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

BLOCK = {"PK": {"S": "T#t-iam#JOURNAL"}, "SK": {"S": "BLOCK#000000000001"}}


def _gateway_running(logical_id: str, body: Any) -> Any:
    """A gateway whose ``logical_id`` runs ``body`` as its handler (a fresh gateway: the session's keeps
    its real handlers)."""
    from local.gateway import Gateway

    gateway = Gateway()
    gateway._handlers[logical_id] = lambda event, ctx: body()
    return gateway


def _client() -> Any:
    import boto3

    return boto3.client("dynamodb", region_name="eu-central-1")


def test_given_a_journal_block_when_the_projector_batch_deletes_it_then_access_is_denied_and_it_stays(
        aws: Any) -> None:
    from botocore.exceptions import ClientError

    ddb = _client()
    ddb.put_item(TableName="ledgerlou", Item=BLOCK)  # test setup: outside any function, not checked
    entry = {"PK": {"S": "T#t-iam#RECONLEDGER#1200"}, "SK": {"S": "2026-01-02#i1"}}
    gateway = _gateway_running("ProjectorFunction", lambda: ddb.batch_write_item(RequestItems={"ledgerlou": [
        {"PutRequest": {"Item": entry}}, {"DeleteRequest": {"Key": BLOCK}}]}))

    with pytest.raises(ClientError) as caught:
        gateway.invoke("ProjectorFunction", {})

    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "dynamodb:BatchWriteItem" in caught.value.response["Error"]["Message"]
    assert "Item" in ddb.get_item(TableName="ledgerlou", Key=BLOCK)  # the block is still there
    assert "Item" not in ddb.get_item(TableName="ledgerlou", Key=entry)  # and the batch's put did not happen


def test_given_a_function_within_its_policy_when_it_batch_writes_then_the_write_happens(aws: Any) -> None:
    ddb = _client()
    entry = {"PK": {"S": "T#t-iam#RECONLEDGER#1200"}, "SK": {"S": "2026-01-02#i1"}}
    gateway = _gateway_running("ProjectorFunction", lambda: ddb.batch_write_item(
        RequestItems={"ledgerlou": [{"PutRequest": {"Item": entry}}]}))

    gateway.invoke("ProjectorFunction", {})

    assert "Item" in ddb.get_item(TableName="ledgerlou", Key=entry)


def test_given_a_thread_pool_of_a_function_when_a_task_calls_outside_the_policy_then_it_is_denied(
        aws: Any) -> None:
    from botocore.exceptions import ClientError

    ddb = _client()
    ddb.put_item(TableName="ledgerlou", Item=BLOCK)

    def body() -> Any:
        with ThreadPoolExecutor(2) as pool:  # as the OCR worker runs its records
            return list(pool.map(lambda key: ddb.delete_item(TableName="ledgerlou", Key=key), [BLOCK]))

    with pytest.raises(ClientError) as caught:
        _gateway_running("OcrWorkerFunction", body).invoke("OcrWorkerFunction", {})

    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "Item" in ddb.get_item(TableName="ledgerlou", Key=BLOCK)


def test_given_the_check_turned_off_when_a_function_calls_outside_its_policy_then_moto_answers(
        aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGERLOU_LOCAL_IAM", "0")
    ddb = _client()
    item = {"PK": {"S": "T#t-iam#SCRATCH"}, "SK": {"S": "x"}}
    ddb.put_item(TableName="ledgerlou", Item=item)
    gateway = _gateway_running("ReportsFunction", lambda: ddb.delete_item(TableName="ledgerlou", Key=item))

    gateway.invoke("ReportsFunction", {})  # ReportsFunction has no DeleteItem: only allowed with the check off

    assert "Item" not in ddb.get_item(TableName="ledgerlou", Key=item)


def test_given_pynamodb_in_a_function_when_it_deletes_outside_the_policy_then_its_error_carries_the_aws_code(
        aws: Any) -> None:
    """pynamodb's client goes through the same check: the model layer's error says AccessDeniedException,
    as on AWS (not a condition failure, not a throttle: the API's error mapping answers 500)."""
    from ledgerlou.store.aws_errors import aws_error_code, is_condition_failure, is_throttle
    from ledgerlou.store.journal.blocks import HeadItem
    from pynamodb.exceptions import DeleteError

    head = HeadItem("T#t-iam#JOURNAL", "HEAD", seq=1)
    head.save()
    gateway = _gateway_running("JournalFunction", head.delete)  # JournalFunction: DeleteItem on idempotency only

    with pytest.raises(DeleteError) as caught:
        gateway.invoke("JournalFunction", {})

    assert aws_error_code(caught.value) == "AccessDeniedException"
    assert not is_condition_failure(caught.value) and not is_throttle(caught.value)
    assert HeadItem.get("T#t-iam#JOURNAL", "HEAD").seq == 1
