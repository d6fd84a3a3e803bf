"""A requester appeals a decision through their status link.

Within the policy's window the appeal reopens review; after it, the appeal is still
recorded (nothing a requester sends is dropped) and answered as late.
"""

from dataclasses import dataclass
from datetime import date

from sqlmodel import select

from services.review.lifecycle import DECIDED, State
from shared.db.tables import Request
from shared.events import Actor, Appealed
from shared.signing import token_hash
from shared.unit_of_work import UnitOfWork


class NoSuchRequest(Exception):
    pass


class NothingToAppeal(Exception):
    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(f"the request is {state}: only a decision can be appealed")


@dataclass(frozen=True)
class AppealFiled:
    ref: str
    late: bool
    deadline: date | None


async def file_appeal(uow: UnitOfWork, status_token: str, text: str) -> AppealFiled:
    query = select(Request).where(Request.status_token_hash == token_hash(status_token))
    request = (await uow.session.exec(query.with_for_update())).first()
    if request is None:
        raise NoSuchRequest(status_token)
    decided = State(request.state) in DECIDED or (
        request.state == State.CLOSED and request.decided_at is not None
    )
    if not decided:
        raise NothingToAppeal(request.state)
    today = uow.clock.now().date()
    late = request.appeal_deadline is not None and today > request.appeal_deadline
    uow.record(
        Appealed(text=text, late=late),
        jurisdiction=request.jurisdiction,
        request_ref=request.ref,
        actor=Actor(kind="requester", id=request.requester_email),
    )
    await uow.commit()
    return AppealFiled(ref=request.ref, late=late, deadline=request.appeal_deadline)
