"""Wires review into a running process: its queue consumer."""

from services.review.handlers import review_handlers
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
