"""SQS worker: imports the statement file of a queued import batch (files with more than 500
transactions). Partial batch responses: a failed message is retried alone and reaches the DLQ after
maxReceiveCount (3); a redelivered message imports nothing twice (the batch records its state and
every transaction is claimed once by its duplicate key)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ledgerlou.lazy import lazy_import
from ledgerlou.observability import logger

if TYPE_CHECKING:
    from ledgerlou.domain import bank_import
else:  # loaded on the first message, like the handlers' domain modules
    bank_import = lazy_import("ledgerlou.domain.bank_import")

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    outcome = bank_import.process_message(record.body, receive_count)
    logger.info("import message processed", extra={"message_id": record.message_id, "outcome": outcome})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                         context=context))
