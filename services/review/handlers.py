"""What review does when an event arrives: triage on filing, and the requester's answers.

Each handler runs inside one unit of work (shared.handling): state, timers and the new
events commit together.
"""

from collections.abc import Callable
from typing import Literal

from services.review import clocks, timers
from services.review.fees import Quote, WorkEstimate, price
from services.review.lifecycle import DECIDED, RequesterStep, State, after_requester
from services.review.screening import clarification_questions, sensitive_terms_in
from shared.calendar import previous_business_day
from shared.db.tables import Request
from shared.events import (
    SYSTEM,
    Actor,
    Appealed,
    ClarificationNeeded,
    ClarificationReceived,
    Closed,
    CloseReason,
    CostAccepted,
    CostDeclined,
    CostEstimated,
    DeadlinesSet,
    Envelope,
    Event,
    RequestFiled,
)
from shared.handling import EventHandlers
from shared.policy import Policy, PolicyBook
from shared.request_store import find_request
from shared.unit_of_work import UnitOfWork

CONSUMER = "review"


def record(
    uow: UnitOfWork,
    request: Request,
    event: Event,
    cause: Envelope | None = None,
    actor: Actor = SYSTEM,
) -> None:
    uow.record(
        event, jurisdiction=request.jurisdiction, request_ref=request.ref, cause=cause, actor=actor
    )


def touch(uow: UnitOfWork, request: Request) -> None:
    request.updated_at = uow.clock.now()
    uow.session.add(request)


async def ask_for_clarification(
    uow: UnitOfWork,
    policy: Policy,
    request: Request,
    questions: list[str],
    cause: Envelope | None,
    actor: Actor = SYSTEM,
) -> None:
    """Send questions; the response clock pauses (timers cancelled) until the answer."""
    request.state = State.AWAITING_CLARIFICATION
    request.paused_since = uow.clock.now()
    await timers.cancel(uow, request.ref, clocks.RESPONSE_TIMERS)
    rule = policy.clarification
    timers.schedule(
        uow,
        request,
        "clarification_reminder",
        clocks.business_days_from(policy, uow.clock.now(), rule.reminder_after_business_days),
    )
    timers.schedule(
        uow,
        request,
        "clarification_abandon",
        clocks.business_days_from(policy, uow.clock.now(), rule.abandon_after_business_days),
    )
    record(uow, request, ClarificationNeeded(questions=questions), cause, actor)


async def ask_to_accept_cost(
    uow: UnitOfWork,
    policy: Policy,
    request: Request,
    quote: Quote,
    cause: Envelope | None,
    actor: Actor = SYSTEM,
) -> None:
    """Send the itemized estimate; work waits for the requester's acceptance."""
    request.state = State.AWAITING_COST_ACCEPTANCE
    await timers.cancel(uow, request.ref, clocks.COST_TIMERS)
    rule = policy.clarification
    now = uow.clock.now()
    respond_by_at = clocks.business_days_from(policy, now, rule.abandon_after_business_days)
    timers.schedule(
        uow,
        request,
        "cost_reminder",
        clocks.business_days_from(policy, now, rule.reminder_after_business_days),
    )
    timers.schedule(uow, request, "cost_abandon", respond_by_at)
    request.cost_estimate = {
        "lines": [line.model_dump(mode="json") for line in quote.lines],
        "total": str(quote.total),
        "waived": quote.waived_reasons,
    }
    respond_by = previous_business_day(policy.calendar, policy.calendar.local(respond_by_at).date())
    record(
        uow,
        request,
        CostEstimated(lines=quote.lines, total=quote.total, respond_by=respond_by),
        cause,
        actor,
    )


async def close(
    uow: UnitOfWork,
    request: Request,
    reason: CloseReason,
    note: str,
    cause: Envelope | None,
    actor: Actor = SYSTEM,
) -> None:
    request.state = State.CLOSED
    request.closed_at = uow.clock.now()
    request.close_reason = reason
    await timers.cancel(uow, request.ref)
    record(uow, request, Closed(reason=reason, note=note), cause, actor)


class Review:
    def __init__(self, policies: PolicyBook) -> None:
        self.policies = policies

    async def _load(self, uow: UnitOfWork, envelope: Envelope) -> tuple[Request, Policy]:
        request = await find_request(uow, envelope.request_ref or "", for_update=True)
        if request is None:
            raise LookupError(f"request {envelope.request_ref} not found")
        return request, self.policies[request.jurisdiction]

    async def on_request_filed(
        self, uow: UnitOfWork, envelope: Envelope, event: RequestFiled
    ) -> None:
        """Start the clocks, then triage: privacy, already published, missing details."""
        request, policy = await self._load(uow, envelope)
        ack = clocks.acknowledgment_deadline(policy, request)
        response = clocks.response_deadline(policy, request)
        clocks.apply_deadlines(request, ack, response)
        timers.schedule(uow, request, "acknowledgment", ack.overdue_at, level=1)
        await clocks.schedule_response_timers(uow, policy, request, response)
        record(
            uow,
            request,
            DeadlinesSet(reason="filed", acknowledgment=ack, response=response),
            envelope,
        )

        fields_text = " ".join(v.value for v in event.extracted.values())
        terms = sensitive_terms_in(policy, event.subject, event.body, fields_text)
        best = max(event.catalog_matches, key=lambda m: float(m.get("score", 0)), default=None)
        published = (
            best is not None and float(best.get("score", 0)) >= policy.catalog.match_threshold
        )
        request.triage = {
            "sensitive_terms": terms,
            "catalog_match": best if published else None,
            "catalog_action": policy.catalog.on_match if published else None,
            "possible_duplicates": event.possible_duplicates,
        }
        if terms:
            request.legal_review = True
            request.legal_review_reasons = [f"mentions {t!r}" for t in terms]

        if published and policy.catalog.on_match == "close_as_published" and best is not None:
            where = best.get("url") or best.get("landing_page") or best.get("title", "")
            await close(
                uow,
                request,
                "already_published",
                f"This data is already published: {best.get('title', '')} {where}".strip(),
                envelope,
            )
        elif questions := clarification_questions(policy, event.missing_fields):
            await ask_for_clarification(uow, policy, request, questions, envelope)
        elif (work := policy.triage_estimate(request.kind)) is not None:
            quote = price(
                policy.fees,
                WorkEstimate(pages=work.pages, search_hours=work.search_hours),
            )
            request.triage = {
                **request.triage,
                "estimate": {
                    "basis": work.model_dump(mode="json"),
                    "total": str(quote.total),
                    "waived": quote.waived_reasons,
                },
            }
            if quote.chargeable:
                await ask_to_accept_cost(uow, policy, request, quote, envelope)
        touch(uow, request)

    async def on_clarification_received(
        self, uow: UnitOfWork, envelope: Envelope, event: ClarificationReceived
    ) -> None:
        request, policy = await self._load(uow, envelope)
        request.state = after_requester(State(request.state), RequesterStep.CLARIFY)
        await timers.cancel(uow, request.ref, clocks.CLARIFICATION_TIMERS)
        now = uow.clock.now()
        if policy.clarification.clock == "restart":
            response = clocks.response_deadline(policy, request, restart_at=now)
            reason: Literal["restarted", "clarified"] = "restarted"
        else:
            if request.paused_since is not None:
                pause = clocks.pause_length(policy, request.paused_since, now)
                request.pauses = [*request.pauses, pause.model_dump(mode="json")]
            response = clocks.response_deadline(policy, request)
            reason = "clarified"
        request.paused_since = None
        ack = clocks.acknowledgment_deadline(policy, request)
        clocks.apply_deadlines(request, ack, response)
        await clocks.schedule_response_timers(uow, policy, request, response)
        record(
            uow,
            request,
            DeadlinesSet(reason=reason, acknowledgment=ack, response=response),
            envelope,
        )
        touch(uow, request)

    async def on_cost_accepted(
        self, uow: UnitOfWork, envelope: Envelope, event: CostAccepted
    ) -> None:
        request, _ = await self._load(uow, envelope)
        request.state = after_requester(State(request.state), RequesterStep.ACCEPT_COST)
        await timers.cancel(uow, request.ref, clocks.COST_TIMERS)
        touch(uow, request)

    async def on_cost_declined(
        self, uow: UnitOfWork, envelope: Envelope, event: CostDeclined
    ) -> None:
        request, _ = await self._load(uow, envelope)
        after_requester(State(request.state), RequesterStep.DECLINE_COST)
        await close(
            uow, request, "cost_declined", "The requester declined the cost estimate.", envelope
        )
        touch(uow, request)

    async def on_appealed(self, uow: UnitOfWork, envelope: Envelope, event: Appealed) -> None:
        """A timely appeal reopens review; a late one is on the record and answered as late."""
        request, _ = await self._load(uow, envelope)
        if event.late or State(request.state) not in DECIDED:
            return
        request.state = after_requester(State(request.state), RequesterStep.APPEAL)
        touch(uow, request)


def review_handlers(policies: PolicyBook, new_uow: Callable[[], UnitOfWork]) -> EventHandlers:
    review = Review(policies)
    handlers = EventHandlers(CONSUMER, new_uow)
    handlers.register(RequestFiled, review.on_request_filed)
    handlers.register(ClarificationReceived, review.on_clarification_received)
    handlers.register(CostAccepted, review.on_cost_accepted)
    handlers.register(CostDeclined, review.on_cost_declined)
    handlers.register(Appealed, review.on_appealed)
    return handlers
