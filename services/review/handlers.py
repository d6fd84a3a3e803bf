"""What review does when an event arrives. Each handler runs inside one unit of work."""

from collections.abc import Callable

from services.review.deadlines import initial_deadlines
from shared.db.tables import Timer
from shared.events import DeadlinesSet, Envelope, RequestFiled
from shared.handling import EventHandlers
from shared.policy import PolicyBook
from shared.request_store import find_request
from shared.unit_of_work import UnitOfWork

CONSUMER = "review"


class Review:
    def __init__(self, policies: PolicyBook) -> None:
        self.policies = policies

    async def on_request_filed(
        self, uow: UnitOfWork, envelope: Envelope, event: RequestFiled
    ) -> None:
        request = await find_request(uow, envelope.request_ref or "", for_update=True)
        if request is None:
            raise LookupError(f"request {envelope.request_ref} not found")
        policy = self.policies[request.jurisdiction]
        ack, response = initial_deadlines(policy, request.received_at)
        request.ack_due_on = ack.due_on
        request.response_due_on = response.due_on
        request.deadlines = {
            "acknowledgment": ack.model_dump(mode="json"),
            "response": response.model_dump(mode="json"),
        }
        request.updated_at = uow.clock.now()
        uow.session.add(request)
        uow.session.add(
            Timer(
                kind="acknowledgment",
                jurisdiction=request.jurisdiction,
                request_ref=request.ref,
                due_at=ack.overdue_at,
                data={"level": 1},
                created_at=uow.clock.now(),
            )
        )
        uow.record(
            DeadlinesSet(reason="filed", acknowledgment=ack, response=response),
            jurisdiction=request.jurisdiction,
            request_ref=request.ref,
            cause=envelope,
        )


def review_handlers(policies: PolicyBook, new_uow: Callable[[], UnitOfWork]) -> EventHandlers:
    review = Review(policies)
    handlers = EventHandlers(CONSUMER, new_uow)
    handlers.register(RequestFiled, review.on_request_filed)
    return handlers
