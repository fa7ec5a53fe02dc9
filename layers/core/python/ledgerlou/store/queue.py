"""The SQS queues: the import queue, which the import worker drains (template.yaml ``ImportQueue``), and
the OCR queue, which the OCR worker drains (``OcrQueue``)."""

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


def enqueue_ocr(messages: list[dict[str, str]]) -> None:
    """Hand inbox items to the OCR worker, ten per SendMessageBatch (a mail with 20 attachments: 2 calls)."""
    url = config.ocr_queue_url()
    if not url:
        raise RuntimeError("OCR_QUEUE_URL is not configured")
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        out = _sqs().send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps(m, sort_keys=True)} for i, m in enumerate(chunk)])
        if out.get("Failed"):
            raise RuntimeError(f"SQS refused {len(out['Failed'])} OCR message(s): {out['Failed'][0].get('Code')}")
