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


# ------------------------------------------------------------------------------------- inbox
def inbound_bucket() -> str:
    """Where SES writes the raw MIME of inbound mail (template.yaml ``InboundBucket``)."""
    return os.environ.get("INBOUND_BUCKET", "ledgerlou-inboundbucket")


def inbound_prefix() -> str:
    """The S3 action's ObjectKeyPrefix: the raw MIME of a message is at ``<prefix><SES message id>``."""
    return os.environ.get("INBOUND_PREFIX", "inbound/")


def ocr_queue_url() -> str:
    return os.environ.get("OCR_QUEUE_URL", "")


def inbox_domain() -> str:
    """The mail domain of the tenants' inbox addresses (the SES receipt rule's recipient domain)."""
    return os.environ.get("INBOX_DOMAIN", "inbox.localhost")
