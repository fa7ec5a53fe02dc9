"""The SQS queues: the import queue, which the import worker drains (template.yaml ``ImportQueue``)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ledgerlou import config


@lru_cache(maxsize=1)
def _sqs() -> Any:
    import boto3  # lazily, like every AWS client outside the table

    return boto3.client("sqs")


def enqueue_import(message: dict[str, str]) -> None:
    url = config.import_queue_url()
    if not url:
        raise RuntimeError("IMPORT_QUEUE_URL is not configured")
    _sqs().send_message(QueueUrl=url, MessageBody=json.dumps(message, sort_keys=True))
