"""Time-ordered ids (UUID version 7 layout, RFC 9562) for inbox items, review cases and log entries.

The lists answer newest first straight from their partition's sort key (SK = id), strongly consistent,
with no index. ``derived`` makes the id of a redelivered mail's part the same as the first time, so
the inbound function writes nothing twice.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid


def _layout(ms: int, rand: bytes) -> str:
    value = (ms & ((1 << 48) - 1)) << 80 | int.from_bytes(rand[:10], "big") & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def new(ms: int | None = None) -> str:
    return _layout(int(time.time() * 1000) if ms is None else ms, os.urandom(10))


def derived(ms: int, *parts: str) -> str:
    """The same id for the same (time, parts): ``ms`` orders it, the parts' hash makes it unique."""
    return _layout(ms, hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest())
