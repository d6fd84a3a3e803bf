"""The request's running clocks: derive due dates from the row and (re)schedule timers.

The derivations are pure (shared.calendar); this module only applies them to a request
inside the caller's unit of work.
"""

from datetime import datetime

from services.review import timers
from shared.calendar import DeadlineDerivation, Pause, derive_deadline, previous_business_day
from shared.db.tables import Request
from shared.policy import Policy
from shared.unit_of_work import UnitOfWork

RESPONSE_TIMERS = ["response_reminder", "response_overdue"]
CLARIFICATION_TIMERS = ["clarification_reminder", "clarification_abandon"]
COST_TIMERS = ["cost_reminder", "cost_abandon"]


def response_deadline(
    policy: Policy, request: Request, restart_at: datetime | None = None
) -> DeadlineDerivation:
    previous = request.deadlines.get("response")
    base = restart_at or (
        datetime.fromisoformat(previous["received_at"]) if previous else request.received_at
    )
    return derive_deadline(
        policy.calendar,
        "response",
        base,
        policy.response.business_days,
        pauses=[] if restart_at else [Pause.model_validate(p) for p in request.pauses],
        extension_business_days=request.extension_business_days,
    )


def acknowledgment_deadline(policy: Policy, request: Request) -> DeadlineDerivation:
    return derive_deadline(
        policy.calendar, "acknowledgment", request.received_at, policy.acknowledgment.business_days
    )


def apply_deadlines(
    request: Request, ack: DeadlineDerivation, response: DeadlineDerivation
) -> None:
    request.ack_due_on = ack.due_on
    request.response_due_on = response.due_on
    request.deadlines = {
        "acknowledgment": ack.model_dump(mode="json"),
        "response": response.model_dump(mode="json"),
    }


async def schedule_response_timers(
    uow: UnitOfWork, policy: Policy, request: Request, response: DeadlineDerivation
) -> None:
    await timers.cancel(uow, request.ref, RESPONSE_TIMERS)
    calendar = policy.calendar
    remind_on = response.due_on
    for _ in range(policy.response_reminder_business_days):
        remind_on = previous_business_day(calendar, remind_on)
    remind_at = calendar.start_of_day(remind_on)
    if policy.response_reminder_business_days and remind_at > uow.clock.now():
        timers.schedule(uow, request, "response_reminder", remind_at)
    timers.schedule(uow, request, "response_overdue", response.overdue_at, level=1)


def business_days_from(policy: Policy, at: datetime, days: int) -> datetime:
    """The start of the business day `days` business days after the local date of `at`."""
    calendar = policy.calendar
    return calendar.start_of_day(calendar.add_business_days(calendar.local(at).date(), days))


def pause_length(policy: Policy, since: datetime, until: datetime) -> Pause:
    calendar = policy.calendar
    start, end = calendar.local(since).date(), calendar.local(until).date()
    return Pause(
        started_on=start,
        ended_on=end,
        business_days=calendar.business_days_between(start, end),
        reason="awaiting clarification",
    )
