"""Which request a reply belongs to. Pure logic; the lookups are handed in.

In this order, the first that holds wins:
1. our Message-IDs (or the requester's own earlier ones) in In-Reply-To, then References,
   newest first;
2. the signed per-request reply address (records+wor-2026-000042.<sig>@...): a tampered
   or unsigned token does not match;
3. the subject tag [WOR-2026-000042], only when the sender is that request's requester.
A stranger who copies a subject tag matches nothing (and so starts a request of their
own): nobody can write into somebody else's request by knowing its number.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from services.intake.parsing import ParsedMail
from shared.signing import ref_from_reply_address

_TAG = re.compile(r"\[(?P<prefix>[A-Z]{2,6})-(?P<year>\d{4})-(?P<number>\d{6})\]")


class ThreadLookup(Protocol):
    async def ref_for_message_ids(self, message_ids: Sequence[str]) -> str | None:
        """The request one of these Message-IDs belongs to (first in the given order)."""
        ...

    async def requester_of(self, ref: str) -> str | None:
        """The requester's address, or None when there is no such request."""
        ...


@dataclass(frozen=True)
class ThreadMatch:
    ref: str
    via: Literal["message_id", "reply_address", "subject_tag"]


@dataclass(frozen=True)
class MatchResult:
    match: ThreadMatch | None
    notes: list[str] = field(default_factory=list)  # near misses, for the outcome staff see


def subject_refs(subject: str, prefixes: Sequence[str]) -> list[str]:
    """References tagged in a subject, for the given prefixes only."""
    return [
        m.group(0)[1:-1] for m in _TAG.finditer(subject.upper()) if m.group("prefix") in prefixes
    ]


def thread_ids(mail: ParsedMail) -> list[str]:
    """In-Reply-To first, then References newest first (the last one is the parent)."""
    return list(dict.fromkeys([*mail.in_reply_to, *reversed(mail.references)]))


class ReplyMatcher:
    def __init__(self, secret: str, prefixes: Sequence[str]) -> None:
        self._secret = secret
        self._prefixes = list(prefixes)

    async def match(
        self, mail: ParsedMail, envelope_recipient: str, lookup: ThreadLookup
    ) -> MatchResult:
        notes: list[str] = []
        if ids := thread_ids(mail):
            ref = await lookup.ref_for_message_ids(ids)
            if ref is not None:
                return MatchResult(ThreadMatch(ref, "message_id"))

        for address in dict.fromkeys([envelope_recipient, *mail.recipients]):
            if "+" not in address.partition("@")[0]:
                continue
            ref = ref_from_reply_address(self._secret, address)
            if ref is None:
                notes.append(f"reply address {address} is not validly signed")
            elif await lookup.requester_of(ref) is not None:
                return MatchResult(ThreadMatch(ref, "reply_address"), notes)
            else:
                notes.append(f"reply address names {ref}, which does not exist")

        for ref in subject_refs(mail.subject, self._prefixes):
            requester = await lookup.requester_of(ref)
            if requester is None:
                continue
            if requester.lower() == mail.sender.lower():
                return MatchResult(ThreadMatch(ref, "subject_tag"), notes)
            notes.append(f"subject names {ref}, but the sender is not its requester")
        return MatchResult(None, notes)
