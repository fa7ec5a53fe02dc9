"""SQS worker: imports the statement file of a queued import batch (files with more than 500
transactions). Partial batch responses: a failed message is retried alone and reaches the DLQ after
maxReceiveCount (3); a redelivered message imports nothing twice (the batch records its state and
every transaction is written once: its id derives from its duplicate key, new rows go into new page
items written with a conditional PutItem, and imports into one bank account run one at a time under
a lease)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ledgerlou.entrypoint import SQS_MESSAGE_ID, entrypoint
from ledgerlou.lazy import lazy_import
from ledgerlou.observability import logger

if TYPE_CHECKING:
    from ledgerlou.domain.bank.importing import worker as import_worker
else:  # loaded on the first message, like the handlers' domain modules
    import_worker = lazy_import("ledgerlou.domain.bank.importing.worker")

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    # The messages of one invocation run one after another: a wait for a busy import lease must
    # leave the import its time (the invocation's timeout is 120 s).
    remaining_ms = lambda_context.get_remaining_time_in_millis() if lambda_context is not None else None
    outcome = import_worker.process_message(record.body, receive_count,
                                          remaining_ms / 1000 if remaining_ms is not None else None)
    logger.info("import message processed", extra={"message_id": record.message_id, "outcome": outcome})


def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                         context=context))


lambda_handler = entrypoint(process, correlation_id_path=SQS_MESSAGE_ID)
