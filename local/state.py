"""Saves and restores the local books (table items and document objects), so that `make run` can be
stopped and started again without losing anything. moto has no persistence of its own; a snapshot
restores far faster than moto's recorder replay (docs/library-notes.md)."""

from __future__ import annotations

import base64
import gzip
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import boto3

REGION = "eu-central-1"


def _encode(obj: Any) -> Any:
    # DynamoDB binary attributes (the journal blocks' payload) arrive as bytes from scan().
    if isinstance(obj, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(obj)).decode("ascii")}
    raise TypeError(f"cannot save {type(obj).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if set(obj) == {"__bytes__"}:
        return base64.b64decode(obj["__bytes__"])
    return obj


def save(path: Path, table: str, bucket: str) -> int:
    ddb = boto3.client("dynamodb", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    objects = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            got = s3.get_object(Bucket=bucket, Key=obj["Key"])
            objects.append({"key": obj["Key"], "content_type": got.get("ContentType"),
                            "metadata": got.get("Metadata", {}),
                            "body": base64.b64encode(got["Body"].read()).decode("ascii")})
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"version": 1, "items": items, "objects": objects}, default=_encode).encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=3) as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)  # atomic: a crash mid-save never leaves a half-written snapshot
    return len(items)


def restore(path: Path, table: str, bucket: str) -> int:
    if not path.exists():
        return 0
    with gzip.open(path, "rb") as fh:
        data = json.loads(fh.read().decode("utf-8"), object_hook=_decode)
    ddb = boto3.client("dynamodb", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    items = data.get("items", [])
    for i in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": it}} for it in items[i: i + 25]]
        pending: dict[str, Any] = {table: batch}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    for obj in data.get("objects", []):
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": obj["key"], "Body": base64.b64decode(obj["body"]),
                                  "Metadata": obj.get("metadata") or {}}
        if obj.get("content_type"):
            kwargs["ContentType"] = obj["content_type"]
        s3.put_object(**kwargs)
    return len(items)
