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
