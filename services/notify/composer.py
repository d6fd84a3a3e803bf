"""Builds one outgoing email from a template and the request's thread. Pure: no I/O.

Every header comes from here: subject tag, stable Message-ID, threading, signed Reply-To,
Auto-Submitted. Nothing a requester typed can add a header (CR/LF are flattened).
"""

import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import jinja2

from shared.policy import Policy

DEFAULT_TEMPLATES = Path(__file__).parent / "templates"
MAX_REFERENCES = 10
# RFC 5322 allows 998; folding at 78 splits our Message-IDs and tagged subjects right after
# the colon, which some clients show with a leading space.
OUTGOING = email.policy.SMTP.clone(max_line_length=200)
_LINE_BREAKS = re.compile(r"[\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f]+")


def one_line(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value).strip()


class TemplateBook:
    """Templates for one jurisdiction: its own folder first, then the defaults."""

    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if override_dir is not None:
            loaders.append(jinja2.FileSystemLoader(override_dir))
        loaders.append(jinja2.FileSystemLoader(DEFAULT_TEMPLATES))
        self._env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(self, name: str, context: dict[str, Any]) -> tuple[str, str]:
        text = self._env.get_template(f"{name}.txt.j2").render(context)
        html = self._env.get_template(f"{name}.html.j2").render(context)
        return text, html

    def check(self, names: list[str]) -> None:
        """Load (compile) every template now, so a broken one stops start-up."""
        for name in names:
            for kind in ("txt", "html"):
                self._env.get_template(f"{name}.{kind}.j2")


@dataclass(frozen=True)
class Outgoing:
    template: str
    recipient: str
    recipient_name: str
    subject: str
    context: dict[str, Any]


def message_id_for(event_id: UUID, template: str, recipient: str, domain: str) -> str:
    who = hashlib.sha256(recipient.lower().encode()).hexdigest()[:10]
    return f"<{event_id}.{template}.{who}@{domain}>"


def thread_headers(thread: list[str]) -> tuple[str | None, str | None]:
    """(In-Reply-To, References): the requester's first message, then the latest, capped."""
    if not thread:
        return None, None
    kept = (
        thread if len(thread) <= MAX_REFERENCES else [thread[0], *thread[-(MAX_REFERENCES - 1) :]]
    )
    return thread[-1], " ".join(kept)


def compose(
    policy: Policy,
    outgoing: Outgoing,
    *,
    ref: str | None,
    message_id: str,
    reply_to: str,
    thread: list[str],
    date: Any,
    text: str,
    html: str,
) -> EmailMessage:
    message = EmailMessage(policy=OUTGOING)
    message["From"] = Address(one_line(policy.sender_name), addr_spec=policy.sender_address)
    message["To"] = Address(one_line(outgoing.recipient_name), addr_spec=outgoing.recipient)
    message["Reply-To"] = reply_to
    tag = f"[{ref}] " if ref else ""
    message["Subject"] = one_line(f"{tag}{outgoing.subject}")
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(date)
    in_reply_to, references = thread_headers(thread)
    if in_reply_to and references:
        message["In-Reply-To"] = in_reply_to
        message["References"] = references
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Loop"] = policy.sender_address
    if ref:
        message["X-RecordsDesk-Reference"] = ref
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
