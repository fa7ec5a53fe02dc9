"""Fixtures of the bank group's integration tests."""

from __future__ import annotations

import threading
from typing import Any

import pytest


@pytest.fixture
def import_worker(gateway: Any, aws: dict[str, str]) -> Any:
    """The SQS poller of the import worker, driven by the test (poll_once(0) drains deterministically)."""
    from local.pollers import SqsPoller

    poller = SqsPoller(gateway, "ImportWorkerFunction", aws["ImportQueue"], 5, threading.Event())
    while poller.poll_once(0):  # nothing left over from another test
        pass
    return poller
