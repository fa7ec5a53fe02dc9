"""Every S3 key of the tenants' objects, and the one S3 client of a process.

Like the table's keys, object keys start with the tenant (``tenant/<t>/…``):

* documents (Belege)         ``tenant/<t>/documents/<document id>``       documents bucket (Object Lock)
* an import's hand-off       ``tenant/<t>/imports/<batch id>.json``       exports bucket (deleted after a day)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ledgerlou import config


@lru_cache(maxsize=1)
def s3() -> Any:
    # One client per process: creating one costs ~50 ms, and it would be paid in the request.
    import boto3  # lazily: most functions never touch S3

    return boto3.client("s3")


def document_key(tenant_id: str, doc_id: str) -> str:
    return f"tenant/{tenant_id}/documents/{doc_id}"


def handoff_key(tenant_id: str, batch_id: str) -> str:
    return f"tenant/{tenant_id}/imports/{batch_id}.json"


def put_handoff(tenant_id: str, batch_id: str, body: bytes) -> None:
    s3().put_object(Bucket=config.exports_bucket(), Key=handoff_key(tenant_id, batch_id), Body=body,
                    ContentType="application/json")


def get_handoff(tenant_id: str, batch_id: str) -> bytes:
    raw = s3().get_object(Bucket=config.exports_bucket(), Key=handoff_key(tenant_id, batch_id))
    body: bytes = raw["Body"].read()
    return body
