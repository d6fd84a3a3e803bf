"""The wire envelope survives the broker unchanged and routes by jurisdiction."""

from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from shared.calendar import derive_deadline
from shared.events import (
    ApiKeyIssued,
    DeadlinesSet,
    Envelope,
    Event,
    PendingEvent,
    RequestFiled,
)
from shared.policy import PolicyBook

POLICIES = PolicyBook.load(Path(__file__).parents[2] / "shared" / "policies")
RECEIVED = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def _deadlines() -> DeadlinesSet:
    calendar = POLICIES["worcester-ma"].calendar
    return DeadlinesSet(
        reason="filed",
        acknowledgment=derive_deadline(calendar, "acknowledgment", RECEIVED, 2),
        response=derive_deadline(calendar, "response", RECEIVED, 10),
    )


def _pending(event: Event, jurisdiction: str = "worcester-ma") -> PendingEvent:
    return PendingEvent(
        event=event,
        occurred_at=RECEIVED,
        jurisdiction=jurisdiction,
        request_ref="WOR-2026-000001",
        correlation_id=uuid4(),
    )


EVENTS = [
    pytest.param(
        RequestFiled(
            channel="mail",
            requester_email="ann@example.org",
            requester_name="Ann Lee",
            subject="Payroll 2025",
            body="Please send the 2025 payroll.",
            received_at=RECEIVED,
            inbound_message_id="<abc@example.org>",
        ),
        "worcester-ma.request.filed",
        id="request-filed",
    ),
    pytest.param(_deadlines(), "worcester-ma.request.deadlines_set", id="deadlines-set"),
]


@pytest.mark.parametrize(("event", "routing_key"), EVENTS)
def test_envelope_survives_the_wire_and_yields_the_typed_event(
    event: Event, routing_key: str
) -> None:
    pending = _pending(event)
    envelope = pending.envelope(sequence=5)
    back = Envelope.from_bytes(envelope.to_bytes())
    assert back == envelope
    assert back.sequence == 5
    assert back.event_id == pending.event_id
    assert back.type == type(event).__name__
    assert back.routing_key == routing_key
    payload = back.payload()
    assert type(payload) is type(event)
    assert payload == event


def test_explanation_reads_the_same_after_the_wire() -> None:
    event = _deadlines()
    payload = Envelope.from_bytes(_pending(event).envelope(sequence=1).to_bytes()).payload()
    assert isinstance(payload, DeadlinesSet)
    assert payload.response.explain() == event.response.explain()


def test_routing_key_is_jurisdiction_then_event_name() -> None:
    event = ApiKeyIssued(
        key_id="k1", scopes=["read"], rate_limit_per_hour=5000, expires_on=date(2027, 11, 22)
    )
    assert _pending(event, "cary-nc").envelope(sequence=1).routing_key == "cary-nc.apikey.issued"
