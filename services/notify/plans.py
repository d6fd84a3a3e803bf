"""Who hears about which event, and with which template. Pure: no I/O."""

from collections.abc import Callable
from typing import Any

from services.notify.composer import Outgoing
from shared.calendar import DeadlineDerivation
from shared.db.tables import Request
from shared.events import DeadlinesSet, Envelope, Event
from shared.policy import Policy

Plan = Callable[[Envelope, Any, Request, Policy, dict[str, Any]], list[Outgoing]]


def _due(d: DeadlineDerivation) -> str:
    return f"{d.due_on:%A, %B} {d.due_on.day}, {d.due_on.year}"


def receipt(
    envelope: Envelope, event: DeadlinesSet, request: Request, policy: Policy, base: dict[str, Any]
) -> list[Outgoing]:
    if event.reason != "filed":
        return []
    local = policy.calendar.local(request.received_at)
    context = {
        **base,
        "received_local": f"{local:%A, %B} {local.day}, {local.year} at {local:%H:%M %Z}",
        "ack_due": _due(event.acknowledgment),
        "response_due": _due(event.response),
        "response_explained": event.response.explain(),
    }
    return [
        Outgoing(
            template="receipt",
            recipient=request.requester_email,
            recipient_name=request.requester_name,
            subject=f"We received your request: {request.subject}",
            context=context,
        )
    ]


PLANS: dict[type[Event], Plan] = {
    DeadlinesSet: receipt,
}
TEMPLATES = ["receipt"]
