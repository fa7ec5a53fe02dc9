"""Reading an inbound e-mail: its sender, subject and the files it carries, within limits.

``email`` with ``policy.default`` (the compat32 default leaves RFC 2047 subjects and RFC 2231 file names
undecoded). ``walk()`` descends into nested multiparts *and* forwarded messages (``message/rfc822``):
``iter_attachments()`` would hand a forwarded mail back as one part and miss the PDF inside it.

Every file becomes a ``Part`` or a ``Refused`` (with the reason the ingestion log shows); nothing here
stores anything. The type is decided by content (magic bytes, a hardened XML parse), never by the
sender's Content-Type or file name. A zip is opened with limits on its members, their total size and
their compression ratio, read in bounded chunks: a zip bomb is refused after at most the limit's
bytes of inflation, not after filling the memory.
"""

from __future__ import annotations

import email
import email.policy
import io
import zipfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from ledgerlou.domain.documents import archive

MAX_MESSAGE_BYTES = 30 * 1024 * 1024  # SES's S3 action takes up to 40 MB; the function reads a mail whole
MAX_ATTACHMENT_BYTES = archive.MAX_BYTES  # a document's limit (5 MB)
MAX_FILES = 50  # files per message, zip members included
ZIP_MAX_MEMBERS = 20
ZIP_MAX_TOTAL = 20 * 1024 * 1024  # uncompressed, all members
ZIP_MAX_RATIO = 100  # uncompressed / compressed per member: text PDFs compress ~3-10×, a bomb 1000×
ACCEPTED = ("application/pdf", "application/xml", "image/png", "image/jpeg", "image/tiff")
BODY_TYPES = ("text/plain", "text/html")


@dataclass(frozen=True)
class Part:
    name: str
    mime: str  # by content
    data: bytes


@dataclass(frozen=True)
class Refused:
    name: str
    reason: str


@dataclass
class Mail:
    sender: str | None
    recipients: list[str]
    subject: str | None
    parts: list[Part] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def parse(raw: bytes) -> Mail:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    sender = parseaddr(str(msg.get("From", "")))[1] or None
    recipients = [a for _n, a in getaddresses([str(v) for v in msg.get_all("To", []) + msg.get_all("Cc", [])]) if a]
    subject = _header(msg, "Subject")
    out = Mail(sender, recipients, subject)
    for index, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue  # multipart/* and message/rfc822: walk() visits their parts next
        name = part.get_filename()
        disposition = part.get_content_disposition()
        ctype = part.get_content_type()
        if name is None and disposition != "attachment" and ctype in BODY_TYPES:
            continue  # the text of the mail (or of a forwarded one)
        if disposition == "inline" and part.get("Content-ID") and ctype.startswith("image/") and name is None:
            continue  # a logo the HTML body shows (multipart/related), not a document
        label = _clean_name(name) or f"part-{index}.{ctype.rsplit('/', 1)[-1]}"
        if len(out.parts) + len(out.refused) >= MAX_FILES:
            out.refused.append(Refused(label, f"more than {MAX_FILES} files in one message; the rest is ignored"))
            break
        try:
            data = part.get_payload(decode=True)
        except Exception:  # noqa: BLE001 - a broken transfer encoding is the sender's, logged as refused
            data = None
        if not isinstance(data, bytes):
            out.refused.append(Refused(label, "the part's content could not be decoded"))
            continue
        _classify(label, data, out)
    return out


def _header(msg: EmailMessage, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a malformed header: the mail still counts, without it
        return None
    text = " ".join(str(value).split()) if value is not None else ""
    return text[:500] or None


def _clean_name(name: str | None) -> str | None:
    if not name:
        return None
    from ledgerlou.models.common import refused_character

    # A file name is free text like any other (bidi overrides, controls): replaced, since a mail is not refused for it
    cleaned = "".join("_" if refused_character(ch) else ch for ch in name)
    return cleaned.strip()[:200] or None


def _classify(name: str, data: bytes, out: Mail, in_zip: bool = False) -> None:
    if not data:
        out.refused.append(Refused(name, "the file is empty"))
        return
    if len(data) > MAX_ATTACHMENT_BYTES:
        out.refused.append(Refused(name, f"the file is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"))
        return
    if data.startswith(b"PK\x03\x04"):
        if in_zip:
            out.refused.append(Refused(name, "a zip inside a zip is not opened"))
            return
        _open_zip(name, data, out)
        return
    mime = archive.sniff(data)
    if mime == archive.PLAIN_XML and not archive.classify_markup(data).plain:
        out.refused.append(Refused(name, "XML with a DOCTYPE (entities, external references) is refused"))
        return
    if mime not in ACCEPTED:
        claimed_pdf = name.lower().endswith(".pdf")
        out.refused.append(Refused(name, "named .pdf but not a PDF" if claimed_pdf else
                                   f"type not accepted ({mime or 'unknown'}): PDF, XML, PNG, JPEG or TIFF"))
        return
    out.parts.append(Part(name, mime, data))


def _open_zip(name: str, data: bytes, out: Mail) -> None:
    try:
        archive_file = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive_file.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError, NotImplementedError) as ex:
        out.refused.append(Refused(name, f"unreadable zip: {ex}"[:300]))
        return
    if len(members) > ZIP_MAX_MEMBERS:
        out.refused.append(Refused(name, f"zip with {len(members)} files (at most {ZIP_MAX_MEMBERS})"))
        return
    files: list[tuple[str, bytes]] = []
    total = 0
    for m in members:
        # The sizes in the directory are the sender's word: each member is read in bounded chunks, and
        # refused as soon as it passes a limit, whatever its header claims.
        budget = min(MAX_ATTACHMENT_BYTES, ZIP_MAX_TOTAL - total, max(m.compress_size, 1) * ZIP_MAX_RATIO)
        try:
            with archive_file.open(m) as fh:
                chunks, size = [], 0
                while chunk := fh.read(64 * 1024):
                    size += len(chunk)
                    if size > budget:
                        out.refused.append(Refused(name, f"zip bomb suspected: {m.filename[:100]} inflates past "
                                                   f"{budget} bytes (ratio or size limit)"))
                        return
                    chunks.append(chunk)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as ex:
            # RuntimeError: an encrypted member; NotImplementedError: an unknown compression method
            out.refused.append(Refused(name, f"unreadable zip member {m.filename[:100]}: {ex}"[:300]))
            return
        total += size
        files.append((m.filename.rsplit("/", 1)[-1], b"".join(chunks)))
    # All or nothing per zip: a refused member refuses the zip, so no half of it becomes inbox items
    inner = Mail(out.sender, out.recipients, out.subject)
    for member_name, member_data in files:
        _classify(_clean_name(member_name) or "member", member_data, inner, in_zip=True)
    if inner.refused:
        out.refused.append(Refused(name, f"zip member {inner.refused[0].name}: {inner.refused[0].reason}"))
        return
    out.parts.extend(inner.parts)
