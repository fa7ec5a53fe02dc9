"""Fixtures of the inbox tests: the OCR worker's SQS poller, driven by the test."""

from __future__ import annotations

import threading
from typing import Any

import pytest


@pytest.fixture
def ocr_worker(gateway: Any, aws: dict[str, str]) -> Any:
    """The OCR queue's poller (what Lambda's event source mapping does); ``poll_once(0)`` drains one batch."""
    from local.pollers import SqsPoller

    return SqsPoller(gateway, "OcrWorkerFunction", aws["OcrQueue"], 10, threading.Event())


def drain(poller: Any) -> int:
    n = 0
    while got := poller.poll_once(0):
        n += got
    return n
