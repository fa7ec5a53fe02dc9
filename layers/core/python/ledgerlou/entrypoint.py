"""The one entry-point wrapper of every function: the same logger/tracer/metrics stack everywhere
(powertools' cookbook order: the logger outermost, so that everything below logs with the Lambda
context and the correlation id; the tracer; the metrics flushed last).

``app.py`` of an HTTP function ends with ``lambda_handler = http_entrypoint(app)``; a worker or the
authorizer wraps its function with ``entrypoint(fn, correlation_id_path=...)``. The correlation id is
API Gateway's request id for the API (the same id for the authorizer and the function of one request),
the message's or the stream record's id for the workers; every log line carries it as ``correlation_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from ledgerlou.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

Handler = Callable[[dict[str, Any], "LambdaContext"], Any]

API_REQUEST_ID = correlation_paths.API_GATEWAY_HTTP  # requestContext.requestId
SQS_MESSAGE_ID = "Records[0].messageId"
STREAM_EVENT_ID = "Records[0].eventID"


def entrypoint(handler: Handler, *, correlation_id_path: str) -> Handler:
    """``handler`` inside the fixed stack: Lambda context and correlation id in every log line (state
    cleared per invocation), the tracer (X-Ray SDK only when enabled, observability.py), the metrics
    flushed at the end with the cold-start metric (so no invocation flushes an empty set)."""

    # log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: events hold bearer tokens, passwords, bodies
    @logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True, log_event=False)
    @tracer.capture_lambda_handler
    @metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
        return handler(event, context)

    return lambda_handler


def http_entrypoint(app: APIGatewayHttpResolver) -> Handler:
    """The Lambda handler of an HTTP API function: its resolver inside the fixed stack."""

    def resolve(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return entrypoint(resolve, correlation_id_path=API_REQUEST_ID)
