"""Every S3 key of the tenants' objects, and the one S3 client of a process.

Like the table's keys, object keys start with the tenant (``tenant/<t>/…``):

* documents (Belege)         ``tenant/<t>/documents/<document id>``       documents bucket (Object Lock)
* an import's hand-off       ``tenant/<t>/imports/<batch id>.json``       exports bucket (deleted after a day)
* a large export             ``tenant/<t>/exports/<uuid>/<file name>``    exports bucket (deleted after a day)

Files too large for a Lambda answer are handed out as presigned URLs (``presigned_get``), 15 minutes.
"""

from __future__ import annotations

import uuid
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


def export_key(tenant_id: str, filename: str) -> str:
    return f"tenant/{tenant_id}/exports/{uuid.uuid4()}/{filename}"


def put_export(tenant_id: str, body: bytes, content_type: str, filename: str, disposition: str) -> str:
    """Store a large export (a day, by the bucket's lifecycle rule) and answer its key."""
    key = export_key(tenant_id, filename)
    s3().put_object(Bucket=config.exports_bucket(), Key=key, Body=body, ContentType=content_type,
                    ContentDisposition=disposition)
    return key


def presigned_get(bucket: str, key: str, content_type: str, disposition: str, ttl_s: int,
                  version_id: str | None = None) -> str:
    """A URL that downloads the object for ``ttl_s`` seconds with the given type and disposition (S3's
    response-content-* overrides: S3 cannot send a CSP or nosniff, so the URL pins what it answers)."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ResponseContentType": content_type,
                              "ResponseContentDisposition": disposition}
    if version_id:
        params["VersionId"] = version_id
    url: str = s3().generate_presigned_url("get_object", Params=params, ExpiresIn=ttl_s)
    return url
