"""The test double must keep the guarantee the journal relies on: a conditional PutItem has exactly one
winner, however many threads race for the key (local/moto_fidelity.py)."""

from __future__ import annotations

import sys
import threading
from typing import Any


def test_given_16_threads_racing_for_one_key_then_exactly_one_conditional_put_wins(aws: Any) -> None:
    import boto3

    ddb = boto3.client("dynamodb", region_name="eu-central-1")
    # Switch threads every microsecond so that an unlocked check-then-write would be caught in between
    # (without local.moto_fidelity this fails: 4 of 200 rounds had two winners here).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _race(ddb, rounds=150)
    finally:
        sys.setswitchinterval(interval)


def _race(ddb: Any, rounds: int) -> None:
    for round_ in range(rounds):
        wins: list[int] = []
        barrier = threading.Barrier(16)

        def racer(n: int, round_: int = round_, barrier: Any = barrier, wins: list[int] = wins) -> None:
            barrier.wait()
            try:
                ddb.put_item(TableName="ledgerlou", Item={"PK": {"S": "RACE"}, "SK": {"S": f"R{round_}"},
                                                          "winner": {"N": str(n)}},
                             ConditionExpression="attribute_not_exists(PK)")
                wins.append(n)
            except ddb.exceptions.ConditionalCheckFailedException:
                pass

        threads = [threading.Thread(target=racer, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stored = ddb.get_item(TableName="ledgerlou", Key={"PK": {"S": "RACE"}, "SK": {"S": f"R{round_}"}})
        assert len(wins) == 1 and stored["Item"]["winner"]["N"] == str(wins[0])


def test_given_a_transaction_then_it_is_all_or_nothing_with_reasons_at_the_cost_of_its_items(aws: Any) -> None:
    import boto3

    ddb = boto3.client("dynamodb", region_name="eu-central-1")
    table = "ledgerlou"
    ddb.put_item(TableName=table, Item={"PK": {"S": "TX"}, "SK": {"S": "a"}, "n": {"N": "1"}})

    def put(sk: str, condition: str | None = None) -> dict[str, Any]:
        op: dict[str, Any] = {"TableName": table, "Item": {"PK": {"S": "TX"}, "SK": {"S": sk}, "n": {"N": "9"}}}
        if condition:
            op["ConditionExpression"] = condition
        return {"Put": op}

    update = {"Update": {"TableName": table, "Key": {"PK": {"S": "TX"}, "SK": {"S": "a"}},
                         "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}
    # When one condition of three fails: nothing is written, and the reasons name the failed operation
    try:
        ddb.transact_write_items(TransactItems=[put("b"), update, put("z", "attribute_exists(PK)")])
        raise AssertionError("the transaction should have been cancelled")
    except ddb.exceptions.TransactionCanceledException as ex:
        assert [r["Code"] for r in ex.response["CancellationReasons"]] == ["None", "None", "ConditionalCheckFailed"]
    assert "Item" not in ddb.get_item(TableName=table, Key={"PK": {"S": "TX"}, "SK": {"S": "b"}})
    assert ddb.get_item(TableName=table, Key={"PK": {"S": "TX"}, "SK": {"S": "a"}})["Item"]["n"] == {"N": "1"}
    # When every condition holds: every operation is applied
    ddb.transact_write_items(TransactItems=[put("b", "attribute_not_exists(PK)"), update])
    assert ddb.get_item(TableName=table, Key={"PK": {"S": "TX"}, "SK": {"S": "a"}})["Item"]["n"] == {"N": "2"}
    # When a write fails halfway (an invalid update): the items written before it are put back
    bad = {"Update": {"TableName": table, "Key": {"PK": {"S": "TX"}, "SK": {"S": "a"}},
                      "UpdateExpression": "ADD n :text", "ExpressionAttributeValues": {":text": {"S": "x"}}}}
    try:
        ddb.transact_write_items(TransactItems=[put("c"), bad])
        raise AssertionError("the invalid update should have failed")
    except ddb.exceptions.ClientError:
        pass
    assert "Item" not in ddb.get_item(TableName=table, Key={"PK": {"S": "TX"}, "SK": {"S": "c"}})
