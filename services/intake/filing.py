"""Filing a new request: one function shared by mail, the web form and staff."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import text

from shared.db.tables import Request
from shared.events import Actor, RequestFiled
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


@dataclass(frozen=True)
class FiledRequest:
    ref: str
    status_token: str


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
    ref = await next_reference(uow, policy, new.received_at)
    token = status_token(secret, ref)
    now = uow.clock.now()
    uow.session.add(
        Request(
            ref=ref,
            jurisdiction=policy.id,
            state="filed",
            channel=new.channel,
            kind="public_records",
            requester_email=new.requester_email,
            requester_name=new.requester_name,
            subject=new.subject,
            body=new.body,
            received_at=new.received_at,
            status_token_hash=token_hash(token),
            thread_message_ids=[new.inbound_message_id] if new.inbound_message_id else [],
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
        ),
        jurisdiction=policy.id,
        request_ref=ref,
        actor=Actor(kind="requester", id=new.requester_email),
    )
    return FiledRequest(ref=ref, status_token=token)
