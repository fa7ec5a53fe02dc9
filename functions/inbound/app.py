"""SES receipt rule → this function (after the rule's S3 action has stored the raw MIME).

The Lambda event of SES carries the mail's headers and verdicts, never its body: the body is read from
the inbound bucket (domain/inbox/inbound.py). Invoked asynchronously (InvocationType Event): an error
makes Lambda retry the event (twice), and a retry stores nothing twice. Locally `make run`'s SMTP
listener (local/smtp.py) writes the raw MIME to the same bucket and invokes this with the same event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ledgerlou.entrypoint import entrypoint
from ledgerlou.lazy import lazy_import
from ledgerlou.observability import logger, metrics

if TYPE_CHECKING:
    from ledgerlou.domain.inbox import inbound
else:
    inbound = lazy_import("ledgerlou.domain.inbox.inbound")

SES_MESSAGE_ID = "Records[0].ses.mail.messageId"


def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    results = []
    for record in event.get("Records") or []:
        if record.get("eventSource") != "aws:ses":
            raise ValueError(f"not an SES receipt event: {record.get('eventSource')!r}")
        out = inbound.handle_record(record)
        metrics.add_metric(name="InboxItemsAccepted", unit="Count", value=len(out.accepted))
        logger.info("inbound mail processed", extra={
            "ses_message_id": out.message_id, "accepted": len(out.accepted), "rejected": len(out.rejected),
            "skipped": len(out.skipped), "unknown_recipients": len(out.unknown_recipients)})
        results.append({"message_id": out.message_id, "accepted": [i for _t, i in out.accepted],
                        "rejected": [{"name": n, "reason": r} for _t, n, r in out.rejected],
                        "skipped": len(out.skipped), "unknown_recipients": out.unknown_recipients})
    # SES ignores the answer of an Event invocation; the local SMTP listener and tests read it.
    return {"results": results}


lambda_handler = entrypoint(process, correlation_id_path=SES_MESSAGE_ID)
