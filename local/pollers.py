"""Event-source pollers: what Lambda's event source mappings do on AWS, for the local runtime.

SQS: receive → invoke the worker with an SQS event → delete what succeeded (ReportBatchItemFailures):
failed messages become visible again and reach the DLQ after maxReceiveCount, as on AWS.
DynamoDB Streams: read every shard from the start, invoke with stream records in order.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3

from local import template
from local.gateway import Gateway
from local.resources import physical_name

REGION = "eu-central-1"


class SqsPoller(threading.Thread):
    def __init__(self, gateway: Gateway, function_id: str, queue_url: str, batch_size: int,
                 stop: threading.Event) -> None:
        super().__init__(daemon=True, name=f"sqs-{function_id}")
        self.gateway, self.function_id, self.queue_url, self.batch_size, self.stop = (
            gateway, function_id, queue_url, batch_size, stop)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]

    def poll_once(self, wait_s: int = 1) -> int:
        msgs = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=min(self.batch_size, 10),
                                        WaitTimeSeconds=wait_s, AttributeNames=["All"],
                                        MessageAttributeNames=["All"]).get("Messages", [])
        if not msgs:
            return 0
        event = {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": self.arn,
            "awsRegion": REGION} for m in msgs]}
        try:
            result = self.gateway.invoke(self.function_id, event) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # noqa: BLE001 - a crashed invocation fails the whole batch, as on AWS
            failed = {m["MessageId"] for m in msgs}
        done = [m for m in msgs if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        return len(msgs)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - keep polling; the server may be shutting down
                time.sleep(1)


class StreamPoller(threading.Thread):
    def __init__(self, gateway: Gateway, function_id: str, table_name: str, stop: threading.Event) -> None:
        super().__init__(daemon=True, name=f"stream-{function_id}")
        self.gateway, self.function_id, self.stop = gateway, function_id, stop
        ddb = boto3.client("dynamodb", region_name=REGION)
        self.stream_arn = ddb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self.streams = boto3.client("dynamodbstreams", region_name=REGION)
        self.iterators: dict[str, str] = {}
        self._refresh_shards()  # position at LATEST now, so that nothing written after this is missed

    def _refresh_shards(self) -> list[dict[str, Any]]:
        desc = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in desc["Shards"]:
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST")["ShardIterator"]
        return list(desc["Shards"])

    def poll_once(self) -> int:
        shards = self._refresh_shards()
        desc = {"Shards": shards}
        count = 0
        for shard in desc["Shards"]:
            sid = shard["ShardId"]
            out = self.streams.get_records(ShardIterator=self.iterators[sid], Limit=100)
            self.iterators[sid] = out.get("NextShardIterator") or self.iterators[sid]
            records = out.get("Records", [])
            if records:
                for r in records:
                    r["eventSourceARN"] = self.stream_arn
                self.gateway.invoke(self.function_id, {"Records": records})
                count += len(records)
        return count

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                if self.poll_once() == 0:
                    time.sleep(0.5)
            except Exception:  # noqa: BLE001
                time.sleep(1)


def start_all(gateway: Gateway, names: dict[str, str], stop: threading.Event) -> list[threading.Thread]:
    threads: list[threading.Thread] = []
    for fn in template.functions().values():
        for queue_lid, batch in fn.sqs_sources:
            threads.append(SqsPoller(gateway, fn.logical_id, names[queue_lid], batch, stop))
        for table_lid in fn.stream_sources:
            threads.append(StreamPoller(gateway, fn.logical_id, physical_name(table_lid), stop))
    for t in threads:
        t.start()
    return threads
