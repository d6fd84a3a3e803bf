"""Representative events, one or more per template, for checking a jurisdiction's
templates at start-up. Pure: no I/O, no wall clock (a fixed instant is used).

Each sample runs through the real plan, so the start-up check renders exactly the context a
send would, and a template that names a missing variable fails there, not at send time.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from services.notify.plans import Situation, plan
from shared.calendar import derive_deadline
from shared.db.tables import Request
from shared.events import (
    SYSTEM,
    ApiKeyIssued,
    ApiKeyRevoked,
    ApiKeySuspended,
    Appealed,
    AttachmentTooLarge,
    ClarificationNeeded,
    Closed,
    CostEstimated,
    CostLine,
    DeadlineExtended,
    DeadlinesSet,
    Envelope,
    Escalated,
    Event,
    Released,
    ReminderDue,
    Withheld,
)
from shared.policy import Policy

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
EVENT_ID = UUID(int=1)


def envelope_for(
    event: Event,
    jurisdiction: str,
    ref: str | None,
    *,
    event_id: UUID = EVENT_ID,
    occurred_at: datetime = AT,
    data: dict[str, Any] | None = None,
) -> Envelope:
    """An envelope as the relay would deliver it (`data` adds fields a newer producer sends)."""
    return Envelope(
        event_id=event_id,
        type=type(event).__name__,
        schema_version=type(event).schema_version,
        sequence=1,
        occurred_at=occurred_at,
        jurisdiction=jurisdiction,
        request_ref=ref,
        correlation_id=event_id,
        causation_id=None,
        actor=SYSTEM,
        data={**event.model_dump(mode="json"), **(data or {})},
    )


def sample_request(policy: Policy) -> Request:
    return Request(
        ref=f"{policy.reference_prefix}-2026-000001",
        jurisdiction=policy.id,
        state="filed",
        channel="mail",
        kind="extract",
        requester_email="ann@example.org",
        requester_name="Ann Lee",
        subject="Street tree inventory",
        body="Please send the street tree inventory as CSV.",
        received_at=AT,
        status_token_hash="0" * 64,
        extracted={
            "dataset": {"value": "street tree inventory", "source_text": "street tree inventory"},
            "format": {"value": "CSV", "source_text": "as CSV"},
        },
        thread_message_ids=["<first@example.org>"],
        ack_due_on=date(2026, 11, 25),
        response_due_on=date(2026, 12, 8),
        appeal_deadline=date(2027, 2, 21),
        created_at=AT,
        updated_at=AT,
    )


def sample_events(policy: Policy) -> list[tuple[Event, dict[str, Any]]]:
    """(event, extra envelope data) covering every template and branch."""
    calendar = policy.calendar
    code = policy.exemptions[0].code if policy.exemptions else "none"
    withheld_part = {"description": "Home addresses", "exemption_code": code}
    return [
        (
            DeadlinesSet(
                reason="filed",
                acknowledgment=derive_deadline(calendar, "acknowledgment", AT, 2),
                response=derive_deadline(calendar, "response", AT, 10),
            ),
            {},
        ),
        (ClarificationNeeded(questions=["Which years?", "Which format?"]), {}),
        (
            CostEstimated(
                lines=[
                    CostLine(
                        description="Copies",
                        quantity=Decimal(120),
                        unit="pages",
                        unit_price=Decimal("0.05"),
                        amount=Decimal("6.00"),
                    )
                ],
                total=Decimal("6.00"),
                respond_by=date(2026, 12, 21),
            ),
            {},
        ),
        (
            Released(links=["https://data.example/trees.csv"], redactions=["Owner names"]),
            {"attachments": ["trees.csv"]},
        ),
        (
            Released(
                links=["https://data.example/trees.csv"],
                partial=True,
                withheld_parts=[withheld_part],
            ),
            {},
        ),
        (
            Withheld(
                exemption_code=code,
                citation=code,
                explanation="Privacy of residents.",
                appeal_route=f"{policy.appeal.to}. {policy.appeal.instructions}",
                appeal_deadline=date(2027, 2, 21),
            ),
            {},
        ),
        (
            DeadlineExtended(
                business_days=5, reason="Records are in storage.", new_due_on=date(2026, 12, 15)
            ),
            {},
        ),
        (Closed(reason="withdrawn", note="Thank you."), {}),
        (Appealed(text="I think the exemption does not apply.", late=False), {}),
        (Appealed(text="Sorry this is late.", late=True), {}),
        (
            ApiKeyIssued(
                key_id="0123456789abcdef",
                scopes=list(policy.api_keys.scopes),
                rate_limit_per_hour=policy.api_keys.rate_limit_per_hour,
                expires_on=date(2027, 11, 23),
            ),
            {},
        ),
        (ApiKeySuspended(key_id="0123456789abcdef", reason="Misuse", until=date(2026, 12, 1)), {}),
        (ApiKeyRevoked(key_id="0123456789abcdef", reason="Misuse"), {}),
        (
            Escalated(
                clock="acknowledgment",
                level=1,
                title=policy.escalation[0].title,
                notify=list(policy.escalation[0].notify),
                reason="not acknowledged in time",
                business_days_late=1,
            ),
            {},
        ),
        (
            ReminderDue(
                clock="clarification",
                audience="requester",
                recipients=["ann@example.org"],
                due_on=date(2026, 12, 18),
            ),
            {},
        ),
        (
            ReminderDue(
                clock="response",
                audience="assignee",
                recipients=[policy.staff_address],
                due_on=date(2026, 12, 8),
                note="Due soon.",
            ),
            {},
        ),
        (
            AttachmentTooLarge(filename="scan.pdf", size_bytes=40_000_000, limit_bytes=25_000_000),
            {},
        ),
    ]


def sample_renders(policy: Policy) -> list[tuple[str, dict[str, Any]]]:
    """(template, context) for every sample, produced by the real plans."""
    request = sample_request(policy)
    out: list[tuple[str, dict[str, Any]]] = []
    for event, extra in sample_events(policy):
        situation = Situation(
            envelope=envelope_for(event, policy.id, request.ref, data=extra),
            request=request,
            policy=policy,
            status_url="https://records.example/v1/status/sample",
            staff_url=f"https://records.example/v1/requests/{request.ref}",
            api_key_for=lambda key_id: f"rdk_{key_id}_sample",
        )
        out += [(o.template, o.context) for o in plan(situation)]
    return out
