"""Helpers of the inbox tests: mails built with ``email``, delivered as SES would (raw MIME into the inbound
bucket, then the receipt event of events/ses/receipt.json with this mail's ids), and the OCR queue drained."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def address(client: Any) -> str:
    resp = client.get("/v1/inbox/address")
    assert resp.status == 200, resp.body
    return str(resp.json()["inbox_address"])


def make_mail(to: str, attachments: list[tuple[str, str, bytes]] = (), subject: str = "Rechnung",  # type: ignore[assignment]
              body: str = "Anbei die Rechnung.", sender: str = "rechnung@lieferant.example") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content(body)
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def forwarded(to: str, inner: EmailMessage, note: str = "Zur Info, weitergeleitet.") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "chefin@kunde.example", to, "Fwd: " + str(inner["Subject"])
    msg.set_content(note)
    msg.add_attachment(inner)  # message/rfc822
    return msg


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def deliver(gateway: Any, aws: dict[str, str], raw: bytes, recipients: list[str],
            message_id: str | None = None) -> dict[str, Any]:
    """What SES does: the S3 action (raw MIME under inbound/<message id>), then the Lambda action with
    events/ses/receipt.json made this mail's. Answers the inbound function's result."""
    import boto3

    from local.ses import new_message_id

    message_id = message_id or new_message_id()
    boto3.client("s3").put_object(Bucket=aws["InboundBucket"], Key=f"inbound/{message_id}", Body=raw)
    event = copy.deepcopy(load_event("ses/receipt.json"))
    ses = event["Records"][0]["ses"]
    ses["mail"]["messageId"] = message_id
    ses["mail"]["destination"] = recipients
    ses["receipt"]["recipients"] = recipients
    result: dict[str, Any] = gateway.invoke("InboundFunction", event)
    return result["results"][0]


def log(client: Any, **query: str) -> list[dict[str, Any]]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    resp = client.get("/v1/payables/ingestion-log" + (f"?{qs}" if qs else ""))
    assert resp.status == 200, resp.body
    return list(resp.json())


def inbox(client: Any, **query: str) -> list[dict[str, Any]]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    resp = client.get("/v1/inbox" + (f"?{qs}" if qs else ""))
    assert resp.status == 200, resp.body
    return list(resp.json())


def queued(aws: dict[str, str]) -> list[dict[str, Any]]:
    """The OCR queue's messages, left in the queue (visibility 0)."""
    import boto3

    sqs = boto3.client("sqs")
    out = sqs.receive_message(QueueUrl=aws["OcrQueue"], MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in out.get("Messages", [])]
