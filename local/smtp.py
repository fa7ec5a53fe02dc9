"""`make run`'s SMTP listener on 127.0.0.1:SMTP_PORT (default 2525): the local stand-in for SES receiving.

Each accepted message is handled as SES's receipt rule would: the raw MIME goes to the inbound bucket
(the S3 action, local/ses.py), then InboundFunction is invoked with the SES-shaped event (the Lambda
action). Like SES, only recipients at the inbox domain are accepted (550 for others); an unknown address
at the domain is accepted and then logged and dropped by the inbound code, as on AWS. The message is
answered 250 after the inbound function has stored it (SES answers before; locally the wait makes a
sent mail visible in GET /v1/inbox as soon as the client returns), 451 if that failed, so the client
retries. aiosmtpd >= 1.4.5 (the SMTP-smuggling fix, CVE-2024-27305).
"""

from __future__ import annotations

from typing import Any

from local import ses
from local.gateway import Gateway

DATA_SIZE_LIMIT = 40 * 1024 * 1024  # SES's limit for a received message (S3 action)
FUNCTION = "InboundFunction"


class InboundHandler:
    def __init__(self, gateway: Gateway, bucket: str, domain: str, prefix: str = "inbound/") -> None:
        self.gateway, self.bucket, self.domain, self.prefix = gateway, bucket, domain.lower(), prefix

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.rpartition("@")[2].lower() != self.domain:
            return f"550 5.1.1 <{address}>: this server receives mail for @{self.domain} only"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            # The gateway call blocks (moto, the function's lock): off the SMTP server's event loop.
            message_id = await asyncio.get_running_loop().run_in_executor(
                None, self.receive, raw, list(envelope.rcpt_tos), envelope.mail_from or "")
        except Exception:  # noqa: BLE001 - the client keeps the mail and retries, as with any MTA
            import traceback

            traceback.print_exc()
            return "451 4.3.0 the message could not be stored; try again later"
        return f"250 OK {message_id}"

    def receive(self, raw: bytes, recipients: list[str], sender: str) -> str:
        from ledgerlou.store.blobs import s3

        message_id, event = ses.deliver(raw, recipients, sender, self.bucket, self.prefix, s3())
        self.gateway.invoke(FUNCTION, event)
        return message_id


def start(gateway: Gateway, bucket: str, domain: str, port: int, host: str = "127.0.0.1") -> Any:
    """Start the listener in its own thread; returns the aiosmtpd Controller (``.stop()`` ends it)."""
    from aiosmtpd.controller import Controller

    controller = Controller(InboundHandler(gateway, bucket, domain), hostname=host, port=port,
                            data_size_limit=DATA_SIZE_LIMIT, ready_timeout=5.0)
    controller.start()
    return controller
