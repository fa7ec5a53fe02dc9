"""The local IAM check (local.iam): requests become the authorisations IAM makes, and each is evaluated
against a function's statements as IAM does (Allow needed, Deny wins, LeadingKeys over every key)."""

from __future__ import annotations

from typing import Any

import pytest

from local import iam

TABLE = "arn:aws:dynamodb:eu-central-1:123456789012:table/ledgerlou"


def _policy(*statements: dict[str, Any]) -> tuple[iam.Statement, ...]:
    return tuple(iam.parse_statement(s) for s in statements)


TABLE_REF = {"Fn::GetAtt": ["LedgerTable", "Arn"]}
CRUD = {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
        "Resource": TABLE_REF}
BATCH_BANK = {"Effect": "Allow", "Action": ["dynamodb:BatchWriteItem"], "Resource": TABLE_REF,
              "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#*#BANKTX#*"]}}}
DELETE_IDEMPOTENCY = {"Effect": "Allow", "Action": ["dynamodb:DeleteItem"],
                      "Resource": {"Fn::GetAtt": ["LedgerTable", "Arn"]},
                      "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#*#IDEMPOTENCY"]}}}


def _key(pk: str, sk: str = "X") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _decide(policy: tuple[iam.Statement, ...], operation: str, params: dict[str, Any]) -> iam.Request | None:
    return iam.first_denied(policy, iam.dynamodb_requests(operation, params))


def test_given_an_allowed_action_on_the_table_when_checked_then_it_is_allowed() -> None:
    policy = _policy(CRUD)
    assert _decide(policy, "PutItem", {"TableName": "ledgerlou", "Item": _key("T#a#JOURNAL")}) is None
    assert _decide(policy, "Query", {"TableName": "ledgerlou", "KeyConditionExpression": "PK = :pk",
                                     "ExpressionAttributeValues": {":pk": {"S": "T#a#JOURNAL"}}}) is None


def test_given_an_action_the_policy_lacks_when_checked_then_it_is_denied() -> None:
    denied = _decide(_policy(CRUD), "DeleteItem", {"TableName": "ledgerlou", "Key": _key("T#a#USER")})
    assert denied == iam.Request("dynamodb:DeleteItem", TABLE, ("T#a#USER",))


def test_given_a_leading_keys_condition_when_the_key_does_not_match_then_it_is_denied() -> None:
    policy = _policy(CRUD, DELETE_IDEMPOTENCY)
    assert _decide(policy, "DeleteItem", {"TableName": "ledgerlou", "Key": _key("T#a#IDEMPOTENCY")}) is None
    assert _decide(policy, "DeleteItem", {"TableName": "ledgerlou", "Key": _key("T#a#JOURNAL", "BLOCK#1")}) is not None


def test_given_a_batch_write_with_one_item_outside_the_condition_then_the_whole_batch_is_denied() -> None:
    policy = _policy(CRUD, BATCH_BANK)
    ok = [{"PutRequest": {"Item": _key("T#a#BANKTX#acc#2026-01", f"PAGE#{i}")}} for i in range(3)]
    assert _decide(policy, "BatchWriteItem", {"RequestItems": {"ledgerlou": ok}}) is None
    # a DeleteRequest of a journal block is authorised as dynamodb:BatchWriteItem too: only the key stops it
    bad = [*ok, {"DeleteRequest": {"Key": _key("T#a#JOURNAL", "BLOCK#000000000001")}}]
    denied = _decide(policy, "BatchWriteItem", {"RequestItems": {"ledgerlou": bad}})
    assert denied is not None and denied.action == "dynamodb:BatchWriteItem"
    assert "T#a#JOURNAL" in denied.leading_keys


def test_given_a_transaction_then_each_element_is_authorised_as_its_own_action() -> None:
    items = [{"Put": {"TableName": "ledgerlou", "Item": _key("T#a#BANKMATCH")}},
             {"Update": {"TableName": "ledgerlou", "Key": _key("T#a#BANKTX#x"), "UpdateExpression": "SET s = :s"}},
             {"ConditionCheck": {"TableName": "ledgerlou", "Key": _key("T#a#JOURNAL"), "ConditionExpression": "x"}},
             {"Delete": {"TableName": "ledgerlou", "Key": _key("T#a#IDEMPOTENCY")}}]
    requests = iam.dynamodb_requests("TransactWriteItems", {"TransactItems": items})
    assert [(r.action, r.leading_keys) for r in requests] == [
        ("dynamodb:PutItem", ("T#a#BANKMATCH",)), ("dynamodb:UpdateItem", ("T#a#BANKTX#x",)),
        ("dynamodb:ConditionCheckItem", ("T#a#JOURNAL",)), ("dynamodb:DeleteItem", ("T#a#IDEMPOTENCY",))]
    # no ConditionCheckItem in the policy: the whole transaction is refused
    denied = iam.first_denied(_policy(CRUD, DELETE_IDEMPOTENCY), requests)
    assert denied is not None and denied.action == "dynamodb:ConditionCheckItem"
    gets = iam.dynamodb_requests("TransactGetItems", {"TransactItems": [
        {"Get": {"TableName": "ledgerlou", "Key": _key("T#a#USER")}}]})
    assert gets == [iam.Request("dynamodb:GetItem", TABLE, ("T#a#USER",))]


def test_given_a_query_on_an_index_then_it_needs_the_index_arn() -> None:
    params = {"TableName": "ledgerlou", "IndexName": "GSI1", "KeyConditionExpression": "#k = :v",
              "ExpressionAttributeNames": {"#k": "GSI1PK"}, "ExpressionAttributeValues": {":v": {"S": "T#a#NAME"}}}
    [request] = iam.dynamodb_requests("Query", params)
    assert request == iam.Request("dynamodb:Query", f"{TABLE}/index/GSI1", ("T#a#NAME",))
    assert iam.first_denied(_policy(CRUD), [request]) is not None
    with_index = dict(CRUD, Resource=[{"Fn::GetAtt": ["LedgerTable", "Arn"]},
                                      {"Fn::Sub": "${LedgerTable.Arn}/index/*"}])
    assert iam.first_denied(_policy(with_index), [request]) is None


def test_given_an_explicit_deny_then_it_wins_over_an_allow() -> None:
    deny = {"Effect": "Deny", "Action": "dynamodb:Put*", "Resource": "*",
            "Condition": {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["T#*#JOURNAL"]}}}
    policy = _policy(CRUD, deny)
    assert _decide(policy, "PutItem", {"TableName": "ledgerlou", "Item": _key("T#a#JOURNAL")}) is not None
    assert _decide(policy, "PutItem", {"TableName": "ledgerlou", "Item": _key("T#a#USER")}) is None


def test_given_s3_and_sqs_calls_then_they_are_checked_against_bucket_and_queue_arns() -> None:
    policy = _policy(
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": {"Fn::Sub": "${DocumentsBucket.Arn}/tenant/*"}},
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": {"Fn::GetAtt": ["ImportQueue", "Arn"]}})
    put = iam.s3_requests("PutObject", {"Bucket": "ledgerlou-documents", "Key": "tenant/a/documents/x"})
    assert iam.first_denied(policy, put) is None
    assert iam.first_denied(policy, iam.s3_requests("DeleteObject", {"Bucket": "ledgerlou-documents",
                                                                        "Key": "tenant/a/documents/x"})) is not None
    assert iam.first_denied(policy, iam.s3_requests("PutObject", {"Bucket": "ledgerlou-exports", "Key": "tenant/a"}))
    url = "https://sqs.eu-central-1.amazonaws.com/123456789012/ledgerlou-importqueue"
    assert iam.first_denied(policy, iam.sqs_requests("SendMessageBatch", {"QueueUrl": url})) is None
    assert iam.first_denied(policy, iam.sqs_requests("SendMessage", {"QueueUrl": url.replace("import", "ocr")}))


def test_given_a_function_running_when_it_calls_outside_its_policy_then_botocore_raises_access_denied() -> None:
    """Through a real botocore client (no network: the check refuses before the request is built)."""
    import boto3
    from botocore.exceptions import ClientError

    iam.install()
    client = boto3.client("dynamodb", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x")
    with iam.running("ReportsFunction"), pytest.raises(ClientError) as caught:
        client.delete_item(TableName="ledgerlou", Key=_key("T#a#JOURNAL", "BLOCK#000000000001"))
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "dynamodb:DeleteItem" in caught.value.response["Error"]["Message"]


def test_given_a_thread_pool_started_by_a_function_then_its_tasks_run_as_that_function() -> None:
    from concurrent.futures import ThreadPoolExecutor

    iam.install()
    with iam.running("OcrWorkerFunction"), ThreadPoolExecutor(2) as pool:
        seen = list(pool.map(lambda _: iam.CURRENT.get(), range(4)))
    assert seen == ["OcrWorkerFunction"] * 4
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(iam.CURRENT.get).result() is None


def test_given_every_function_of_the_template_then_its_policy_parses() -> None:
    from local import template

    for lid in template.functions():
        for st in iam.policy(lid):
            assert st.resources, f"{lid}: a statement without resources"
            assert all("${" not in r for r in st.resources), f"{lid}: unresolved {st.resources}"
