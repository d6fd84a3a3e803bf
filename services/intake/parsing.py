"""Raw RFC 5322 bytes -> the facts intake needs. Pure: no I/O.

Never changes the raw bytes (ParsedMail.raw is the input, as it came) and never raises on
bad mail, except UnparseableMail when there is no single, unambiguous sender. Text is
made readable whatever the declared charset says (a wrong label, an unknown one, raw
8-bit headers), HTML-only mail becomes plain text, forwarded messages are kept inline,
and `reply_text` is what staff see of a reply: the quoted history and signature trimmed.
"""

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header
from email.message import EmailMessage, Message
from email.parser import BytesParser

from bs4 import BeautifulSoup
from charset_normalizer import from_bytes
from mailparser_reply import EmailReplyParser

from services.intake.mail_checks.attachments import safe_filename, unique_names
from services.intake.strict_address import AmbiguousAddress, parse_mailbox

# Printable ASCII only: anything else in a Message-ID is treated as no Message-ID.
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>")
_BARE_MESSAGE_ID = re.compile(r"^\s*([\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+)\s*$")
# What PostgreSQL text cannot hold (NUL) or UTF-8 cannot encode (lone surrogates).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?[^?]*\?(?P<encoding>[bBqQ])\?(?P<text>[^?]*)\?=")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
# Headers that change from one delivery of a message to the next; left out when asking
# whether two copies with the same Message-ID carry the same content.
_IDENTITY_HEADERS = ("from", "to", "cc", "subject", "date", "message-id", "in-reply-to")
# Labels mail clients put on windows-1252 text; WHATWG decodes them all as windows-1252.
_LATIN1_LABELS = {"iso-8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "iso_8859-1"}
# Labels that say "some 8-bit charset, we do not know which" (RFC 1428 and habit).
_UNKNOWN_LABELS = {"unknown-8bit", "x-unknown", "unknown", "8bit", "x-user-defined"}
_BLOCK_TAGS = [
    *("p", "div", "tr", "li", "table", "ul", "ol", "blockquote", "pre", "hr"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"),
    *("address", "dd", "dt"),
]
_REPLY_LANGUAGES = ["en", "es", "fr", "de"]
_TEXT_TYPES = ("text/plain", "text/html")
# Parts shown as text or read by the bounce check; every other unnamed part is an attachment.
_INLINE_TYPES = {
    *_TEXT_TYPES,
    "message/delivery-status",
    "message/disposition-notification",
    "message/feedback-report",
    "text/rfc822-headers",
}
_LATIN_CODE_PAGES = ("cp125", "iso8859", "latin", "mac_", "cp437", "cp850")
_GUESS_SAMPLE = 64 * 1024  # enough for a charset guess, bounded for huge parts
_TRIM_SAMPLE = 200_000  # the newest reply is at the top; bounded so huge mail stays fast


class UnparseableMail(ValueError):
    """The message cannot yield a sender; it is quarantined with this reason."""


@dataclass(frozen=True)
class Attachment:
    filename: str  # sanitized and unique within the message
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ParsedMail:
    raw: bytes = field(repr=False)
    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str  # the full text, forwarded messages included
    recipients: list[str]
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # first value of each, decoded
    header_list: list[tuple[str, str]] = field(default_factory=list)  # every header, in order
    reply_text: str = ""  # what staff see: quoted history and signature trimmed
    attachments: list[Attachment] = field(default_factory=list)
    content_type: str = "text/plain"
    message_id_derived: bool = False
    content_fingerprint: str = ""
    forwarded_count: int = 0
    notes: list[str] = field(default_factory=list)  # how the text was repaired, for staff

    def header_values(self, name: str) -> list[str]:
        key = name.lower()
        return [value for header, value in self.header_list if header == key]


# --- text repair ------------------------------------------------------------------------


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Readable text from `data` whatever `declared` claims; the note says what was repaired."""
    label = (declared or "").strip().strip('"').lower()
    if data.isascii():
        return data.decode("ascii"), None
    try:
        as_utf8 = data.decode("utf-8")
    except UnicodeDecodeError:
        as_utf8 = None
    # Valid UTF-8 that is not ASCII is almost never anything else; mail labelled latin-1
    # (or not labelled at all) is often UTF-8 in fact.
    if as_utf8 is not None:
        note = (
            None
            if label in ("utf-8", "utf8")
            else f"declared {label or 'no charset'}, read as utf-8"
        )
        return as_utf8, note
    if not label or label in _LATIN1_LABELS or label in _UNKNOWN_LABELS:
        try:
            return data.decode("cp1252"), f"declared {label or 'no charset'}, read as windows-1252"
        except UnicodeDecodeError:
            return data.decode("latin-1"), f"declared {label or 'no charset'}, read as latin-1"
    try:
        return data.decode(label), None
    except LookupError:
        problem = f"unknown charset {label!r}"
    except Exception:  # UnicodeDecodeError, or a codec that is not for text
        problem = f"bytes are not {label}"
    guessed = _guess_charset(data)
    return data.decode(guessed, errors="replace"), f"{problem}, read as {guessed}"


def _guess_charset(data: bytes) -> str:
    """charset-normalizer's guess, kept only where it beats plain windows-1252.

    On short Western text it guesses UTF-16 or another Latin code page; in mail to a US
    city windows-1252 is the better bet for those. Its real use is Cyrillic and CJK."""
    best = from_bytes(data[:_GUESS_SAMPLE]).best()
    if best is None:
        return "windows-1252"
    wide = best.encoding.startswith(("utf_16", "utf_32"))
    if wide and b"\x00" not in data:
        return "windows-1252"
    if best.encoding.startswith(_LATIN_CODE_PAGES):
        return "windows-1252"
    return str(best.encoding)


def storable(value: str) -> str:
    """Text that PostgreSQL and UTF-8 accept: NUL dropped, lone surrogates replaced."""
    return _UNSTORABLE.sub(lambda m: "" if m.group(0) == "\x00" else "\ufffd", value)


def _unfold(value: str) -> str:
    return _FOLD.sub("", value)


def decode_header_value(value: str) -> str:
    """A raw header value as text: unfolded, encoded words decoded, stray 8-bit repaired."""
    value = _unfold(value)
    if any("\udc80" <= c <= "\udcff" for c in value):  # raw 8-bit bytes, kept by the parser
        value, _ = decode_bytes(value.encode("ascii", "surrogateescape"), None)
    if "=?" not in value:
        return value.strip()
    for word in _ENCODED_WORD.finditer(value):
        if word.group("encoding") in "bB" and not _BASE64.fullmatch(word.group("text")):
            return value.strip()  # a broken encoded word: show it as written, not as noise
    try:
        chunks = decode_header(value)
    except Exception:  # a broken encoded word: show it as written rather than fail
        return value.strip()
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            out.append(decode_bytes(chunk, charset)[0])
    return "".join(out).strip()


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, one line per block element, entities decoded."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "head", "title", "template"]):
        hidden.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(" ")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def trim_reply(text: str) -> str:
    """The newest part of a reply: quoted history, disclaimers and signature removed."""
    try:
        replies = EmailReplyParser(languages=_REPLY_LANGUAGES).read(text).replies
    except Exception:  # the trimming library failing must not cost the message
        return text
    latest = replies[0].body.strip() if replies else ""
    return latest or text


# --- structure --------------------------------------------------------------------------


def _part_text(part: Message) -> tuple[str, str | None]:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return "", None
    text, note = decode_bytes(payload, part.get_content_charset())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text.strip(), note


def _is_attachment(part: Message, inside_alternative: bool) -> bool:
    if part.is_multipart():
        return False
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    disposition = (part.get_content_disposition() or "").lower()
    if filename or disposition == "attachment":
        return True
    if inside_alternative:
        return False
    return part.get_content_type() not in _INLINE_TYPES


def _leaves(message: Message, alternative: bool = False) -> Iterator[tuple[Message, bool]]:
    """Every non-multipart part, with whether it sits inside multipart/alternative.

    Forwarded messages (message/rfc822) are yielded whole and not entered."""
    if message.get_content_type() == "message/rfc822" or not message.is_multipart():
        yield message, alternative
        return
    payload = message.get_payload()
    if not isinstance(payload, list):
        return
    inside = alternative or message.get_content_subtype() == "alternative"
    for sub in payload:
        if isinstance(sub, Message):
            yield from _leaves(sub, inside)


def _body_part(message: EmailMessage) -> Message | None:
    try:
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
    except Exception:
        return None
    if plain is not None and html is not None:
        # Some clients send an empty text/plain beside the real HTML.
        text, _ = _part_text(plain)
        return plain if text else html
    return plain if plain is not None else html


@dataclass
class _Collected:
    texts: list[str] = field(default_factory=list)
    attachments: list[tuple[str | None, str, bytes]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    forwarded: int = 0


def _collect(message: Message, into: _Collected, depth: int = 0) -> None:
    """Body text, inline extra text parts, forwarded messages and attachments, in order."""
    body = _body_part(message) if isinstance(message, EmailMessage) else None
    if body is None and not message.is_multipart() and message.get_content_maintype() == "text":
        body = message
    if body is not None:
        text, note = _part_text(body)
        into.texts.append(text)
        if note:
            into.notes.append(note)
    for part, in_alternative in _leaves(message):
        if part is body:
            continue
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            inner_message = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_message, Message) and depth < 5:
                into.forwarded += 1
                into.texts.append(_forward_header(inner_message))
                _collect(inner_message, into, depth + 1)
            continue
        if _is_attachment(part, in_alternative):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                try:
                    name = part.get_filename()
                except Exception:
                    name = None
                into.attachments.append((name, part.get_content_type(), data))
        elif part.get_content_type() in _TEXT_TYPES and not in_alternative:
            text, note = _part_text(part)  # a second inline text part (e.g. around an image)
            if text:
                into.texts.append(text)
            if note:
                into.notes.append(note)


def _forward_header(inner: Message) -> str:
    lines = ["---------- Forwarded message ----------"]
    for name in ("From", "Date", "Subject", "To"):
        values = [decode_header_value(v) for n, v in inner.raw_items() if n.lower() == name.lower()]
        if values:
            lines.append(f"{name}: {values[0]}")
    return "\n".join(lines)


def _fallback_text(raw: bytes) -> str:
    _, _, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
    return decode_bytes(body, None)[0].strip()


# --- identity ---------------------------------------------------------------------------


def _message_ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _message_id(headers: dict[str, str], fingerprint: str) -> tuple[str, bool]:
    value = headers.get("message-id", "")
    ids = _message_ids(value)
    if ids:
        return ids[0], False
    if bare := _BARE_MESSAGE_ID.match(value):
        return f"<{bare.group(1)}>", False
    # A message without a Message-ID gets a stable one derived from its content, so two
    # deliveries that differ only in trace headers still get the same one.
    return f"<{fingerprint[:32]}@derived.recordsdesk>", True


def _content_fingerprint(raw: bytes, header_list: list[tuple[str, str]]) -> str:
    """The same for two deliveries of one message, whatever trace headers the MTA added."""
    digest = hashlib.sha256()
    for name, value in header_list:
        if name in _IDENTITY_HEADERS:
            digest.update(f"{name}:{' '.join(value.split())}\n".encode("utf-8", "surrogatepass"))
    crlf, lf = raw.find(b"\r\n\r\n"), raw.find(b"\n\n")
    cut = min(i for i in (crlf, lf, len(raw)) if i >= 0)
    body = raw[cut:].lstrip(b"\r\n").replace(b"\r\n", b"\n").rstrip()
    digest.update(b"\n\n" + body)
    return digest.hexdigest()


def _sender(froms: list[str]) -> tuple[str, str]:
    if len(froms) != 1:
        raise UnparseableMail(f"From: {len(froms)} From headers; expected exactly one sender")
    raw_value = _unfold(froms[0])
    if any("\udc80" <= c <= "\udcff" for c in raw_value):
        raw_value, _ = decode_bytes(raw_value.encode("ascii", "surrogateescape"), None)
    try:
        mailbox = parse_mailbox(raw_value)
    except AmbiguousAddress as exc:
        raise UnparseableMail(f"From: no single unambiguous sender address ({exc})") from exc
    name = decode_header_value(mailbox.display_name)
    # A display name that is some other address only misleads whoever reads it.
    if (found := _ADDRESS.search(name)) and found.group(0).lower() != mailbox.addr_spec:
        name = ""
    return mailbox.addr_spec, name


def parse_mail(raw: bytes) -> ParsedMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    raw_headers = [(name.lower(), value) for name, value in message.raw_items()]
    sender, sender_name = _sender([v for n, v in raw_headers if n == "from"])
    header_list = [(name, storable(decode_header_value(value))) for name, value in raw_headers]
    headers: dict[str, str] = {}
    for name, value in header_list:
        headers.setdefault(name, value)
    fingerprint = _content_fingerprint(raw, raw_headers)
    message_id, derived = _message_id(headers, fingerprint)
    recipients = [
        address.lower()
        for name in ("delivered-to", "x-original-to", "to", "cc")
        for value in (v for n, v in header_list if n == name)
        for address in _ADDRESS.findall(value)
    ]
    collected = _Collected()
    try:
        _collect(message, collected)
    except Exception as exc:  # odd structure: keep what the bytes say, note why
        collected = _Collected(
            texts=[_fallback_text(raw)], notes=[f"structure not readable ({exc!r}); raw text shown"]
        )
    text = storable("\n\n".join(t for t in collected.texts if t).strip())
    names = unique_names(
        [safe_filename(n, ct, i + 1) for i, (n, ct, _) in enumerate(collected.attachments)]
    )
    return ParsedMail(
        raw=raw,
        message_id=message_id,
        sender=sender,
        sender_name=storable(sender_name),
        subject=" ".join(headers.get("subject", "").split()),
        text=text,
        recipients=list(dict.fromkeys(recipients)),
        in_reply_to=_message_ids(headers.get("in-reply-to")),
        references=_message_ids(headers.get("references")),
        headers=headers,
        header_list=header_list,
        reply_text=trim_reply(text[:_TRIM_SAMPLE]) if text else "",
        attachments=[
            Attachment(filename=name, content_type=storable(ct)[:255], data=data)
            for name, (_, ct, data) in zip(names, collected.attachments, strict=True)
        ],
        content_type=message.get_content_type(),
        message_id_derived=derived,
        content_fingerprint=fingerprint,
        forwarded_count=collected.forwarded,
        notes=list(dict.fromkeys(collected.notes)),
    )
