"""The one logger/tracer/metrics module: every function imports these instead of building its own."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ledgerlou")

logger = Logger(service=SERVICE)
# Tracing is disabled outside Lambda (POWERTOOLS_TRACE_DISABLED) so local runs and tests need no X-Ray daemon.
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="LedgerLou", service=SERVICE)
