"""Outgoing mail: SES ``SendEmail`` on AWS; in the local runtime one ``.eml`` file per message in
``<LEDGERLOU_STATE_DIR or .ledgerlou-local>/outbox/`` (docs/api-contract.md), so a person or a test
reads what would have been sent.

"Local" is the stage the local runtime sets (``STAGE=local``, local/resources.py); the outbox folder
is ``LEDGERLOU_OUTBOX_DIR`` when set (local/server.py sets it beside its state; the tests, a temporary
folder). Links are built from ``APP_URL`` (configuration, never the request's Host header: OWASP
Forgot Password Cheat Sheet).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any

from ledgerlou import config
from ledgerlou.errors import MailUnavailable
from ledgerlou.observability import logger
from ledgerlou.store.base import now_iso

DEFAULT_SENDER = "noreply@ledgerlou.local"
DEFAULT_OPERATOR = "betrieb@ledgerlou.local"
DEFAULT_APP_URL = "http://localhost:3000"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    reply_to: str | None = None


def sender() -> str:
    """The From header: the address is the template's MailSender (the one SES lets the function use)."""
    return f"LedgerLou <{os.environ.get('MAIL_SENDER') or DEFAULT_SENDER}>"


def operator_address() -> str:
    return os.environ.get("OPERATOR_EMAIL") or DEFAULT_OPERATOR


def app_url() -> str:
    return (os.environ.get("APP_URL") or DEFAULT_APP_URL).rstrip("/")


def outbox_dir() -> Path:
    explicit = os.environ.get("LEDGERLOU_OUTBOX_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("LEDGERLOU_STATE_DIR") or ".ledgerlou-local") / "outbox"


def send(mail: Mail) -> None:
    """Send, or raise ``MailUnavailable`` (the callers decide what a failed mail means for them)."""
    try:
        _send(mail)
    except Exception as exc:  # SES/botocore or the file system: any failure is "not sent"
        logger.warning("mail not sent", extra={"error": type(exc).__name__})
        raise MailUnavailable("The mail could not be sent; try again later.") from exc


def _send(mail: Mail) -> None:
    if config.stage() == "local":
        _write_eml(mail)
    else:
        _ses().send_email(
            Source=sender(), Destination={"ToAddresses": [mail.to]},
            Message={"Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": mail.text, "Charset": "UTF-8"}}},
            **({"ReplyToAddresses": [mail.reply_to]} if mail.reply_to else {}))


def _write_eml(mail: Mail) -> Path:
    import datetime as dt

    msg = EmailMessage()
    msg["From"] = sender()
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain="ledgerlou.local")
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    msg.set_content(mail.text, cte="8bit")  # readable as it is, umlauts and links unencoded
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now_iso().replace(':', '')}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(msg))
    return path


@lru_cache(maxsize=1)
def _ses() -> Any:
    import boto3

    return boto3.client("ses", region_name=os.environ.get("AWS_REGION", "eu-central-1"))


# ------------------------------------------------------------------ the texts (German: our users are)
def invitation(to: str, name: str, token: str, inviter: str) -> Mail:
    link = f"{app_url()}/passwort-setzen?token={token}"
    return Mail(to, "Einladung zu LedgerLou", (
        f"Hallo {name},\n\n{inviter} hat Sie zu LedgerLou eingeladen.\n\n"
        f"Bitte legen Sie Ihr Passwort innerhalb von 24 Stunden fest:\n{link}\n\n"
        f"Oder senden Sie diesen Code an POST /v1/auth/setup-password:\n{token}\n\n"
        "Der Link gilt nur einmal. Wenn Sie keine Einladung erwartet haben, ignorieren Sie diese E-Mail.\n"))


def password_reset(to: str, name: str, token: str) -> Mail:
    link = f"{app_url()}/passwort-setzen?token={token}"
    return Mail(to, "Passwort zurücksetzen – LedgerLou", (
        f"Hallo {name},\n\nfür Ihr LedgerLou-Konto wurde ein neues Passwort angefordert.\n\n"
        f"Sie können es innerhalb von 30 Minuten festlegen:\n{link}\n\n"
        f"Oder senden Sie diesen Code an POST /v1/auth/setup-password:\n{token}\n\n"
        "Der Link gilt nur einmal. Mit dem neuen Passwort enden alle laufenden Sitzungen.\n"
        "Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt unverändert.\n"))


def contact_message(name: str, email: str, message: str) -> Mail:
    return Mail(operator_address(), f"Kontaktformular: Nachricht von {name}", (
        f"Name: {name}\nE-Mail: {email}\n\n{message}\n"), reply_to=email)
