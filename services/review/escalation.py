"""What each deadline timer does when it fires: escalate, remind, or close as abandoned.

A timer whose clock was stopped by a later event is harmless: each handler checks the
request's state first and does nothing when the clock no longer applies.
"""

from datetime import date

from services.review import clocks, timers
from services.review.handlers import close, record
from services.review.lifecycle import DECIDED, State
from services.review.timers import TimerHandler
from shared.calendar import previous_business_day
from shared.db.tables import Request, Timer
from shared.events import Escalated, ReminderDue
from shared.policy import Policy, PolicyBook
from shared.request_store import find_request
from shared.unit_of_work import UnitOfWork


class Escalation:
    def __init__(self, policies: PolicyBook) -> None:
        self.policies = policies

    def handlers(self) -> dict[str, TimerHandler]:
        return {
            "acknowledgment": self.acknowledgment_overdue,
            "response_overdue": self.response_overdue,
            "response_reminder": self.response_reminder,
            "clarification_reminder": self.clarification_reminder,
            "clarification_abandon": self.clarification_abandon,
            "cost_reminder": self.cost_reminder,
            "cost_abandon": self.cost_abandon,
            "appeal_window": self.appeal_window_closed,
        }

    async def _load(self, uow: UnitOfWork, timer: Timer) -> tuple[Request, Policy]:
        request = await find_request(uow, timer.request_ref, for_update=True)
        if request is None:
            raise LookupError(f"timer {timer.id} names unknown request {timer.request_ref}")
        return request, self.policies[request.jurisdiction]

    def _today(self, uow: UnitOfWork, policy: Policy) -> date:
        return policy.calendar.local(uow.clock.now()).date()

    async def _escalate(
        self,
        uow: UnitOfWork,
        timer: Timer,
        request: Request,
        policy: Policy,
        clock: str,
        due_on: date,
        reason: str,
    ) -> None:
        level = int(timer.data.get("level", 1))
        chain = policy.escalation
        step = chain[min(level, len(chain)) - 1]
        notify = list(step.notify)
        if request.assignee and request.assignee not in notify:
            notify.append(request.assignee)
        record(
            uow,
            request,
            Escalated(
                clock=clock,
                level=step.level,
                title=step.title,
                notify=notify,
                reason=reason,
                business_days_late=policy.calendar.business_days_between(
                    due_on, self._today(uow, policy)
                ),
            ),
        )
        if level < len(chain):
            following = chain[level]
            timers.schedule(
                uow,
                request,
                timer.kind,
                clocks.business_days_from(
                    policy, uow.clock.now(), max(following.after_business_days, 1)
                ),
                level=level + 1,
            )

    async def acknowledgment_overdue(self, uow: UnitOfWork, timer: Timer) -> None:
        request, policy = await self._load(uow, timer)
        # Staff decisions cancel this timer; a request waiting on the requester because of
        # automatic triage (questions, an estimate) still needs a person to pick it up.
        if request.state in DECIDED | {State.CLOSED} or request.ack_due_on is None:
            return
        await self._escalate(
            uow,
            timer,
            request,
            policy,
            "acknowledgment",
            request.ack_due_on,
            f"not acknowledged within {policy.acknowledgment.business_days} business days"
            f" (due {request.ack_due_on:%a %Y-%m-%d})",
        )

    async def response_overdue(self, uow: UnitOfWork, timer: Timer) -> None:
        request, policy = await self._load(uow, timer)
        if not _response_clock_running(request) or request.response_due_on is None:
            return
        await self._escalate(
            uow,
            timer,
            request,
            policy,
            "response",
            request.response_due_on,
            f"no response within the response period (due {request.response_due_on:%a %Y-%m-%d};"
            f" {policy.response.citation})",
        )

    async def response_reminder(self, uow: UnitOfWork, timer: Timer) -> None:
        request, policy = await self._load(uow, timer)
        if not _response_clock_running(request) or request.response_due_on is None:
            return
        record(
            uow,
            request,
            ReminderDue(
                clock="response",
                audience="assignee",
                recipients=[request.assignee or policy.staff_address],
                due_on=request.response_due_on,
                note=f"The response to {request.ref} is due {request.response_due_on:%A %Y-%m-%d}.",
            ),
        )

    async def _requester_reminder(
        self, uow: UnitOfWork, timer: Timer, waiting: State, clock: str
    ) -> None:
        request, policy = await self._load(uow, timer)
        if request.state != waiting:
            return
        abandon_on = policy.calendar.add_business_days(
            self._today(uow, policy),
            policy.clarification.abandon_after_business_days
            - policy.clarification.reminder_after_business_days,
        )
        record(
            uow,
            request,
            ReminderDue(
                clock=clock,
                audience="requester",
                recipients=[request.requester_email],
                due_on=previous_business_day(policy.calendar, abandon_on),
                note="We are still waiting for your answer; without it the request will be closed.",
            ),
        )

    async def _abandon(self, uow: UnitOfWork, timer: Timer, waiting: State, what: str) -> None:
        request, policy = await self._load(uow, timer)
        if request.state != waiting:
            return
        await close(
            uow,
            request,
            "abandoned",
            f"No answer to our {what} within {policy.clarification.abandon_after_business_days} business days.",
            None,
        )

    async def clarification_reminder(self, uow: UnitOfWork, timer: Timer) -> None:
        await self._requester_reminder(uow, timer, State.AWAITING_CLARIFICATION, "clarification")

    async def clarification_abandon(self, uow: UnitOfWork, timer: Timer) -> None:
        await self._abandon(uow, timer, State.AWAITING_CLARIFICATION, "questions")

    async def cost_reminder(self, uow: UnitOfWork, timer: Timer) -> None:
        await self._requester_reminder(
            uow, timer, State.AWAITING_COST_ACCEPTANCE, "cost_acceptance"
        )

    async def cost_abandon(self, uow: UnitOfWork, timer: Timer) -> None:
        await self._abandon(uow, timer, State.AWAITING_COST_ACCEPTANCE, "cost estimate")

    async def appeal_window_closed(self, uow: UnitOfWork, timer: Timer) -> None:
        """Nothing to send: the fired timer records that the window closed; an appeal after
        `requests.appeal_deadline` is answered as late."""


def _response_clock_running(request: Request) -> bool:
    """Undecided, open, and not paused waiting on the requester."""
    return request.state not in DECIDED | {State.CLOSED} and request.paused_since is None
