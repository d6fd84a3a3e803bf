"""Filing a new request: one function shared by mail, the web form and staff.

Reads what was asked (extraction), looks for it among the published datasets (catalog) and
among the requester's open requests (possible duplicates), and records RequestFiled, all in
the caller's unit of work. Never commits: the caller does.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import text
from sqlmodel import col, select

from services.intake.catalog import load_index, match_data
from services.intake.extraction import Ask, extract_ask
from services.intake.similarity import same_ask
from shared.db.tables import Request
from shared.events import Actor, ExtractedValue, RequestFiled
from shared.policy import Policy
from shared.signing import status_token, token_hash
from shared.unit_of_work import UnitOfWork

_NEXT_NUMBER = text(
    """
    INSERT INTO reference_counters (prefix, year, last) VALUES (:prefix, :year, 1)
    ON CONFLICT (prefix, year) DO UPDATE SET last = reference_counters.last + 1
    RETURNING last
    """
)


@dataclass(frozen=True)
class NewRequest:
    channel: Literal["mail", "web", "staff"]
    requester_email: str
    requester_name: str
    subject: str
    body: str
    received_at: datetime
    inbound_message_id: str | None = None
    linked_ref: str | None = None  # the long-closed request a reply to it continues


@dataclass(frozen=True)
class FiledRequest:
    ref: str
    status_token: str
    kind: str = "public_records"
    missing_fields: tuple[str, ...] = ()


# States in which a request is finished: a new ask like it is not a duplicate of it.
FINISHED_STATES = ("released", "partially_released", "withheld", "closed")
DUPLICATE_THRESHOLD = 0.6
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


def ask_summary(subject: str, extracted: Mapping[str, Any]) -> str:
    """What a request asks for, in a few words: its topic (or subject) and the years it
    covers. Greetings and legal boilerplate are left out, so two different asks from the
    same person do not look alike for sharing them."""
    dataset = extracted.get("dataset")
    topic = dataset["value"] if isinstance(dataset, dict) else subject
    period = extracted.get("time_range")
    years = sorted(set(_YEAR.findall(period["value"]))) if isinstance(period, dict) else []
    return " ".join([topic, *years])


async def possible_duplicates(
    uow: UnitOfWork, jurisdiction: str, requester_email: str, summary: str
) -> list[str]:
    """The requester's unfinished requests that look like the same ask, oldest first."""
    rows = (
        await uow.session.exec(
            select(Request.ref, Request.subject, Request.extracted)
            .where(Request.jurisdiction == jurisdiction)
            .where(Request.requester_email == requester_email)
            .where(col(Request.state).not_in(FINISHED_STATES))
            .order_by(col(Request.received_at))
            .limit(200)
        )
    ).all()
    return [
        ref
        for ref, subject, extracted in rows
        if same_ask(summary, ask_summary(subject, extracted)).score >= DUPLICATE_THRESHOLD
    ]


def understand(policy: Policy, new: "NewRequest") -> Ask:
    return extract_ask(new.subject, new.body, policy.calendar.local(new.received_at).date())


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


async def next_reference(uow: UnitOfWork, policy: Policy, received_at: datetime) -> str:
    year = policy.calendar.local(received_at).year
    result = await uow.session.execute(
        _NEXT_NUMBER, {"prefix": policy.reference_prefix, "year": year}
    )
    return format_reference(policy.reference_prefix, year, int(result.scalar_one()))


async def file_request(
    uow: UnitOfWork, policy: Policy, new: NewRequest, secret: str
) -> FiledRequest:
    """Create the request row and record RequestFiled in the caller's transaction."""
    ask = understand(policy, new)
    values = dict(ask.values)
    if ask.kind_cue.source_text:  # why it was read as this kind, for staff
        values["kind"] = ask.kind_cue
    extracted = {name: value.model_dump() for name, value in values.items()}
    # the requester's own address is how to reach them, so contact is never missing
    missing = ask.missing(policy.required_fields, known=("contact",))
    summary = ask_summary(new.subject, extracted)
    duplicates = await possible_duplicates(uow, policy.id, new.requester_email, summary)
    topic = ask.values.get("dataset", ExtractedValue(value=new.subject, source_text="")).value
    index = await load_index(uow, policy.id)
    matches = index.match(topic, f"{new.subject}\n{new.body}") if len(index) else []
    ref = await next_reference(uow, policy, new.received_at)
    token = status_token(secret, ref)
    now = uow.clock.now()
    uow.session.add(
        Request(
            ref=ref,
            jurisdiction=policy.id,
            state="filed",
            channel=new.channel,
            kind=ask.kind,
            requester_email=new.requester_email,
            requester_name=new.requester_name,
            subject=new.subject,
            body=new.body,
            received_at=new.received_at,
            status_token_hash=token_hash(token),
            thread_message_ids=[new.inbound_message_id] if new.inbound_message_id else [],
            extracted=extracted,
            missing_fields=missing,
            linked_ref=new.linked_ref,
            created_at=now,
            updated_at=now,
        )
    )
    uow.record(
        RequestFiled(
            channel=new.channel,
            requester_email=new.requester_email,
            requester_name=new.requester_name,
            subject=new.subject,
            body=new.body,
            received_at=new.received_at,
            inbound_message_id=new.inbound_message_id,
            linked_ref=new.linked_ref,
            kind=ask.kind,
            extracted=values,
            missing_fields=missing,
            catalog_matches=match_data(matches),
            possible_duplicates=duplicates,
        ),
        jurisdiction=policy.id,
        request_ref=ref,
        actor=Actor(kind="requester", id=new.requester_email),
    )
    return FiledRequest(ref=ref, status_token=token, kind=ask.kind, missing_fields=tuple(missing))
