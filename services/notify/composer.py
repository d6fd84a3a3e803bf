"""Builds one outgoing email from templates and the request's thread. Pure: no I/O except
reading template files.

Every header comes from here: subject tag, stable Message-ID, threading, signed Reply-To,
Auto-Submitted. Nothing a requester typed can add a header: line breaks of every kind are
flattened, and typed text reaches the HTML part only through autoescaping.
"""

import email.policy
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import jinja2

from shared.logging import get_logger
from shared.policy import Policy, PolicyError

log = get_logger(__name__)

DEFAULT_TEMPLATES = Path(__file__).parent / "templates"
KINDS = ("txt", "html")
MAX_REFERENCES = 10
# RFC 5322 allows 998; folding at 78 splits our Message-IDs and tagged subjects right after
# the colon, which some clients show with a leading space.
OUTGOING = email.policy.SMTP.clone(max_line_length=200)
# C0 controls, DEL, NEL and the Unicode line/paragraph separators: the email package treats
# several of these as line ends, so any of them left in a header value could start a header.
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_MESSAGE_ID = re.compile(r"<[^<>\s\x00-\x1f\x7f\x85\u2028\u2029]+>")

Audience = Literal["requester", "staff"]


def one_line(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value).strip()


class TemplateProblem(PolicyError):
    """A jurisdiction's templates are missing or broken: start-up stops with this message."""


def _describe(error: Exception) -> str:
    if isinstance(error, jinja2.TemplateSyntaxError):
        return f"{error.filename or error.name}: line {error.lineno}: {error.message}"
    if isinstance(error, jinja2.TemplateNotFound):
        return f"missing template {error.name}"
    return f"{type(error).__name__}: {error}"


class TemplateBook:
    """Templates for one jurisdiction: its own folder first, then the defaults."""

    def __init__(self, override_dir: Path | None = None, jurisdiction: str = "") -> None:
        self.override_dir = override_dir
        self.jurisdiction = jurisdiction
        loaders: list[jinja2.BaseLoader] = []
        if override_dir is not None:
            loaders.append(jinja2.FileSystemLoader(override_dir))
        loaders.append(jinja2.FileSystemLoader(DEFAULT_TEMPLATES))
        self._env = self._environment(jinja2.ChoiceLoader(loaders))
        # the fallback when an override fails on data the start-up check did not foresee
        self._defaults = self._environment(jinja2.FileSystemLoader(DEFAULT_TEMPLATES))

    @staticmethod
    def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
        return jinja2.Environment(
            loader=loader,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, name: str, context: Mapping[str, Any]) -> tuple[str, str]:
        """(text, html). An override that fails here is logged and the default is used, so a
        send never fails on a template (the start-up check makes this rare)."""
        try:
            return self._render(self._env, name, context)
        except jinja2.TemplateError as exc:
            if self.override_dir is None:
                raise
            log.error(
                "override template failed; sent the default",
                jurisdiction=self.jurisdiction,
                template=name,
                error=_describe(exc),
            )
            return self._render(self._defaults, name, context)

    @staticmethod
    def _render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> tuple[str, str]:
        text = env.get_template(f"{name}.txt.j2").render(context)
        html = env.get_template(f"{name}.html.j2").render(context)
        return text, html

    def check(self, names: list[str], samples: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Compile every template (each file of the override folder too) and render each
        sample, so a missing or broken one stops start-up instead of a send."""
        where = f"templates for {self.jurisdiction or 'the defaults'}"
        if self.override_dir is not None and not self.override_dir.is_dir():
            raise TemplateProblem(f"{where}: templates_dir {self.override_dir} is not a folder")
        problems: list[str] = []
        files = {f"{name}.{kind}.j2" for name in names for kind in KINDS}
        if self.override_dir is not None:
            files |= {
                str(p.relative_to(self.override_dir)) for p in self.override_dir.rglob("*.j2")
            }
        for file in sorted(files):
            try:
                self._env.get_template(file)
            except jinja2.TemplateError as exc:
                problems.append(_describe(exc))
        if not problems:
            for name, context in samples:
                try:
                    self._render(self._env, name, context)
                except jinja2.TemplateError as exc:
                    problems.append(f"{name}: {_describe(exc)}")
        if problems:
            raise TemplateProblem(f"{where}: " + "; ".join(problems))


@dataclass(frozen=True)
class Outgoing:
    template: str
    recipient: str
    recipient_name: str
    subject: str
    context: dict[str, Any] = field(default_factory=dict)
    audience: Audience = "requester"


def message_id_for(event_id: UUID, template: str, recipient: str, domain: str) -> str:
    who = hashlib.sha256(recipient.lower().encode()).hexdigest()[:10]
    return f"<{event_id}.{template}.{who}@{domain}>"


def merge_thread(
    inbound: list[str],
    inbound_at: Mapping[str, datetime],
    ours: list[tuple[str, datetime]],
    filed_at: datetime,
) -> list[str]:
    """The thread in the order it happened: the requester's first message always first, then
    their later messages and our earlier mails by time (an inbound id of unknown time counts
    as sent at filing)."""
    first, rest = inbound[:1], inbound[1:]
    dated = [(inbound_at.get(mid, filed_at), n, mid) for n, mid in enumerate(rest)]
    dated += [(at, len(rest) + n, mid) for n, (mid, at) in enumerate(ours)]
    seen = set(first)
    thread = list(first)
    for _, _, mid in sorted(dated):
        if mid not in seen:
            seen.add(mid)
            thread.append(mid)
    return thread


def thread_headers(thread: list[str]) -> tuple[str | None, str | None]:
    """(In-Reply-To, References): the requester's first message, then the latest, capped.
    An id that is not a well-formed <...> token is left out rather than copied into a header."""
    thread = [mid for mid in thread if _MESSAGE_ID.fullmatch(mid)]
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
    message["Subject"] = one_line(f"{tag}{one_line(outgoing.subject)}")
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
