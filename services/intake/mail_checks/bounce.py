"""Delivery-status notifications: who could not be reached, for good or for now. Pure: no I/O.

Whether a message is a bounce at all is decided from its form (an RFC 3464
multipart/report, Exim's X-Failed-Recipients, a mailer-daemon sender); which addresses
failed, and how, is read by flufl.bounce (RFC 3464 and the common Exim, Postfix, Exchange
and other plain-text forms). A bounce is never answered and never opens a request.
"""

import email
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from flufl.bounce import all_failures

from services.intake.parsing import ParsedMail

_DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver(ed|able)|returned mail|mail delivery (failed|failure)|"
    r"delivery status notification|failure notice|delivery failure|"
    r"warning: message .* delayed|mail could not be delivered)",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(
    r"^\s*(?P<name>Message-ID|X-RecordsDesk-Reference)\s*:\s*(?P<value>\S+)",
    re.IGNORECASE | re.MULTILINE,
)
_TAG = re.compile(r"\[(?P<ref>[A-Z]{2,6}-\d{4}-\d{6})\]")


@dataclass(frozen=True)
class Bounce:
    permanent: list[str]  # addresses that failed for good
    temporary: list[str]  # addresses that failed for now (delayed)
    returned_message_ids: list[str]  # Message-IDs of the mail that bounced
    refs: list[str]  # request references named in the returned mail

    @property
    def summary(self) -> str:
        if self.permanent:
            return f"permanent failure for {', '.join(self.permanent)}"
        if self.temporary:
            return f"temporary failure for {', '.join(self.temporary)}"
        return "delivery report naming no failed address"


def looks_like_bounce(mail: ParsedMail) -> bool:
    content_type = mail.headers.get("content-type", "").lower()
    if mail.content_type == "multipart/report" and "delivery-status" in content_type:
        return True
    if "x-failed-recipients" in mail.headers:
        return True
    local = mail.sender.partition("@")[0]
    if local in _DAEMONS:
        return True
    null_sender = mail.headers.get("return-path", "").strip() == "<>"
    return null_sender and bool(_BOUNCE_SUBJECT.match(mail.subject))


def _addresses(found: frozenset[bytes]) -> list[str]:
    return sorted({a.decode("ascii", "replace").strip("<>").lower() for a in found if b"@" in a})


def _returned_headers(message: Message) -> list[Message]:
    """Header blocks of the returned message: an attached message/rfc822 or rfc822-headers."""
    blocks: list[Message] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                blocks.append(inner[0])
        elif kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                blocks.append(HeaderParser().parsestr(payload.decode("utf-8", "replace")))
    return blocks


def detect_bounce(mail: ParsedMail) -> Bounce | None:
    """The failures a bounce reports, or None when the message is not a bounce."""
    if not looks_like_bounce(mail):
        return None
    message = email.message_from_bytes(mail.raw)  # flufl.bounce reads the classic API
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector choking on odd input: still a bounce, failures unknown
        temporary, permanent = frozenset(), frozenset()
    ids: list[str] = []
    refs: list[str] = []
    for block in _returned_headers(message):
        ids += re.findall(r"<[^<>\s]+>", str(block.get("Message-ID", "")))
        refs += [str(block.get("X-RecordsDesk-Reference", "")).strip()]
        refs += _TAG.findall(str(block.get("Subject", "")))
    # Plain-text bounces (Exim, qmail) quote the returned headers inline in the body.
    for found in _HEADER_LINE.finditer(mail.text):
        value = found.group("value")
        if found.group("name").lower() == "message-id":
            ids += re.findall(r"<[^<>\s]+>", value)
        else:
            refs.append(value)
    refs += _TAG.findall(mail.subject) + _TAG.findall(mail.text)
    permanent_list = _addresses(permanent)
    return Bounce(
        permanent=permanent_list,
        temporary=[a for a in _addresses(temporary) if a not in permanent_list],
        returned_message_ids=[i for i in dict.fromkeys(ids) if i != mail.message_id],
        refs=[r for r in dict.fromkeys(refs) if r],
    )
