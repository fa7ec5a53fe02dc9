"""SQS worker: extracts queued inbox items (domain/inbox/worker.py). Partial batch responses: a failed
message is retried alone and reaches the DLQ after maxReceiveCount (3); a redelivered message finds its
item done and does nothing twice.

The records of one batch run side by side (``ParallelBatchProcessor``, a powertools BatchProcessor that
hands each record to a thread pool): a mail with 20 attachments is 2 batches of 10 whose items are
fetched, extracted and written concurrently rather than one after another. The S3 and DynamoDB calls
overlap fully; the CPU-bound part of an extraction (PDF and XML parsing) shares the interpreter's lock,
so on Lambda the real CPU parallelism comes from SQS running batches in concurrent invocations
(bench/inbox.py measures both).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ledgerlou.entrypoint import SQS_MESSAGE_ID, entrypoint
from ledgerlou.lazy import lazy_import
from ledgerlou.observability import logger

if TYPE_CHECKING:
    from ledgerlou.domain.inbox import worker
else:  # loaded on the first message
    worker = lazy_import("ledgerlou.domain.inbox.worker")

THREADS = int(os.environ.get("OCR_WORKER_THREADS", "4"))


class ParallelBatchProcessor(BatchProcessor):
    """BatchProcessor whose records run in a thread pool. Each record's outcome is still collected by
    powertools' own success/failure handlers (list appends, safe across threads), so the partial batch
    response is exactly BatchProcessor's."""

    def process(self) -> list[tuple[Any, ...]]:
        if len(self.records) <= 1 or THREADS <= 1:
            return super().process()
        with ThreadPoolExecutor(max_workers=min(THREADS, len(self.records)), thread_name_prefix="ocr") as pool:
            return list(pool.map(self._process_record, self.records))


processor = ParallelBatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    outcome = worker.process_message(record.body, receive_count)
    logger.info("OCR message processed", extra={"message_id": record.message_id, "outcome": outcome})


def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                         context=context))


lambda_handler = entrypoint(process, correlation_id_path=SQS_MESSAGE_ID)
