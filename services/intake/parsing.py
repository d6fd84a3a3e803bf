"""Raw RFC 5322 bytes -> the facts intake needs. Pure: no I/O, never raises on bad mail.

The raw bytes are never changed; this only reads them.
"""

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser

_TAGS = re.compile(r"<[^>]+>")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


class UnparseableMail(ValueError):
    """The message cannot yield a sender or a body; it is quarantined with this reason."""


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    recipients: list[str]
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def _addresses(message: EmailMessage, name: str) -> list[Address]:
    out: list[Address] = []
    for value in message.get_all(name, []):
        try:
            out.extend(getattr(value, "addresses", ()))
        except Exception:  # a header the registry cannot read is skipped, not fatal
            continue
    return out


def _message_ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = _TAGS.sub(" ", content)
    return content.strip()


def parse_mail(raw: bytes) -> ParsedMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    senders = _addresses(message, "From")
    if len(senders) != 1 or not senders[0].addr_spec or "@" not in senders[0].addr_spec:
        raise UnparseableMail("From: no single sender address")
    sender = senders[0]
    ids = _message_ids(str(message.get("Message-ID", "")))
    # A message without a Message-ID gets a stable one derived from its bytes.
    message_id = ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()[:32]}@derived.recordsdesk>"
    recipients = [
        a.addr_spec.lower()
        for name in ("Delivered-To", "X-Original-To", "To", "Cc")
        for a in _addresses(message, name)
        if a.addr_spec
    ]
    return ParsedMail(
        message_id=message_id,
        sender=sender.addr_spec.lower(),
        sender_name=sender.display_name,
        subject=str(message.get("Subject", "")).strip(),
        text=_text(message),
        recipients=recipients,
        in_reply_to=_message_ids(str(message.get("In-Reply-To", ""))),
        references=_message_ids(str(message.get("References", ""))),
        headers={k.lower(): str(v) for k, v in message.items()},
    )
