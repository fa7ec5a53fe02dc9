"""What SES receiving does with a mail, for the local runtime and the tests: the raw MIME into the inbound
bucket under the S3 action's prefix, then the receipt rule's Lambda event (headers and verdicts, no body;
the shape of events/ses/receipt.json, as awsdocs' "Lambda action event" documents it)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import secrets
from typing import Any

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_message_id() -> str:
    """SES message ids are 20-40 lower-case alphanumerics (the object key of the raw MIME)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(32))


def receipt_event(raw: bytes, recipients: list[str], sender: str, message_id: str,
                  function_arn: str = "") -> dict[str, Any]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    headers = [{"name": k, "value": str(v)} for k, v in list(msg.items())[:50]]

    def _all(name: str) -> list[str]:
        return [str(v) for v in msg.get_all(name, [])]

    verdict = {"status": "PASS"}
    return {"Records": [{
        "eventSource": "aws:ses", "eventVersion": "1.0",
        "ses": {
            "mail": {
                "timestamp": now, "source": sender, "messageId": message_id, "destination": recipients,
                "headersTruncated": False, "headers": headers,
                "commonHeaders": {"returnPath": sender, "from": _all("From"), "to": _all("To"),
                                  "date": str(msg.get("Date", "")), "messageId": str(msg.get("Message-ID", "")),
                                  "subject": str(msg.get("Subject", ""))},
            },
            "receipt": {
                "timestamp": now, "processingTimeMillis": 1, "recipients": recipients,
                "spamVerdict": verdict, "virusVerdict": verdict, "spfVerdict": verdict, "dkimVerdict": verdict,
                "dmarcVerdict": verdict,
                "action": {"type": "Lambda", "invocationType": "Event",
                           "functionArn": function_arn or
                           "arn:aws:lambda:eu-central-1:123456789012:function:InboundFunction"},
            },
        },
    }]}


def deliver(raw: bytes, recipients: list[str], sender: str, bucket: str, prefix: str = "inbound/",
            s3: Any = None) -> tuple[str, dict[str, Any]]:
    """The S3 action: store the raw MIME; answers the message id and the Lambda action's event."""
    if s3 is None:
        import boto3

        s3 = boto3.client("s3")
    message_id = new_message_id()
    s3.put_object(Bucket=bucket, Key=prefix + message_id, Body=raw)
    return message_id, receipt_event(raw, recipients, sender, message_id)
