"""The one logger/tracer/metrics module: every function imports these instead of building its own.

Tracing: the functions run with X-Ray active tracing (template.yaml), which records every invocation
without any SDK. The X-Ray SDK (powertools Tracer: subsegments per AWS call) costs ~170 ms of import
time on every cold start — more than the rest of a function together — so it is opt-in:
LEDGERLOU_XRAY_SDK=true turns it on where the extra detail is worth it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ledgerlou")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="LedgerLou", service=SERVICE)
# Most invocations record no business metric; powertools then warns on every flush, a line of plain text
# in the middle of the structured logs (locally in `make run`'s output). The cold-start metric still goes out.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


class _NoSdkTracer:
    """Stands in for powertools' Tracer when the X-Ray SDK is off: the decorators do nothing."""

    def capture_lambda_handler(self, fn: Callable[..., Any] | None = None, **_: Any) -> Any:
        return fn if fn is not None else (lambda f: f)

    def capture_method(self, fn: Callable[..., Any] | None = None, **_: Any) -> Any:
        return fn if fn is not None else (lambda f: f)


def _tracer() -> Any:
    if os.environ.get("LEDGERLOU_XRAY_SDK", "").lower() == "true":
        from aws_lambda_powertools import Tracer

        return Tracer(service=SERVICE)
    return _NoSdkTracer()


tracer = _tracer()
