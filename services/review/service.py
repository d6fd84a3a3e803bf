"""Wires review into a running process: its queue consumer and the timer loop."""

from services.review.escalation import Escalation
from services.review.handlers import review_handlers
from services.review.timers import TimerFiring
from shared.delivery import subscribe
from shared.runtime import Resources


def attach_review(resources: Resources) -> None:
    handlers = review_handlers(resources.policies, resources.new_uow)
    resources.inboxes["review"] = subscribe(
        resources.broker,
        resources.topology,
        "review",
        handlers,
        resources.settings.max_delivery_attempts,
    )
    firing = timer_firing(resources)
    resources.workers.append(lambda stop: firing.run(resources.settings.timer_poll_seconds, stop))


def timer_firing(resources: Resources) -> TimerFiring:
    return TimerFiring(resources.new_uow, Escalation(resources.policies).handlers())
