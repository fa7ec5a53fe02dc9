"""The public contact form: stored, and mailed to the operator address; a filled honeypot gets the
same answer with nothing stored or sent (OWASP Bot Management: honeypots); 5 messages per client
an hour, counted for honeypot submissions too."""

from __future__ import annotations

import time
import uuid

from ledgerlou.domain.people import mail, throttling
from ledgerlou.errors import MailUnavailable
from ledgerlou.store.base import now_iso
from ledgerlou.store.people import contact as store

RETENTION_S = 365 * 24 * 3600


def submit(name: str, email: str, message: str, honeypot: str | None, client_ip: str) -> None:
    throttling.check(throttling.CONTACT_CLIENT, client_ip, "Too many messages from this client; try again later.")
    throttling.record(throttling.CONTACT_CLIENT, client_ip)
    if honeypot:
        return
    received = now_iso()
    store.put_new(str(uuid.uuid4()), name, email, message, received, int(time.time()) + RETENTION_S)
    try:
        mail.send(mail.contact_message(name, email, message))
    except MailUnavailable:
        pass  # logged by mail.send; the message is stored, the operator finds it in the table
