"""Runtime configuration, read from the environment (set by template.yaml, sam local or the local runtime).

Endpoints are never hard-coded: boto3 and pynamodb honour ``AWS_ENDPOINT_URL`` themselves.
"""

from __future__ import annotations

import os


def table_name() -> str:
    return os.environ.get("TABLE_NAME", "ledgerlou")


def documents_bucket() -> str:
    return os.environ.get("DOCUMENTS_BUCKET", "ledgerlou-documents")


def exports_bucket() -> str:
    return os.environ.get("EXPORTS_BUCKET", "ledgerlou-exports")


def import_queue_url() -> str:
    return os.environ.get("IMPORT_QUEUE_URL", "")


def stage() -> str:
    return os.environ.get("STAGE", "local")
