"""The wire contract: the event envelope and one typed payload model per event.

These are pydantic models kept apart from the database tables, so a table change never
changes what other services (and the AsyncAPI document) see.
"""

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from shared.calendar import DeadlineDerivation


class Actor(BaseModel):
    kind: Literal["requester", "staff", "system"]
    id: str


SYSTEM = Actor(kind="system", id="recordsdesk")


class Event(BaseModel):
    """A domain event's payload. `name` is the routing-key suffix and the public event name."""

    model_config = ConfigDict(frozen=True)
    name: ClassVar[str]
    schema_version: ClassVar[int] = 1


# --- intake -----------------------------------------------------------------------------


class ExtractedValue(BaseModel):
    value: str
    source_text: str


class RequestFiled(Event):
    name = "request.filed"
    channel: Literal["mail", "web", "staff"]
    requester_email: str
    requester_name: str = ""
    subject: str
    body: str
    received_at: datetime
    kind: Literal["open_data", "extract", "api_access", "public_records"] = "public_records"
    extracted: dict[str, ExtractedValue] = {}
    missing_fields: list[str] = []
    inbound_message_id: str | None = None
    catalog_matches: list[dict[str, Any]] = []
    possible_duplicates: list[str] = []
    linked_ref: str | None = None  # a reply to a long-closed request opens a new one linked to it


class ClarificationReceived(Event):
    name = "request.clarification_received"
    text: str
    inbound_message_id: str | None = None


class CostAccepted(Event):
    name = "request.cost_accepted"
    text: str = ""


class CostDeclined(Event):
    name = "request.cost_declined"
    text: str = ""


class Appealed(Event):
    name = "request.appealed"
    text: str
    late: bool = False


class ReplyReceived(Event):
    """A message from the requester (or about the request) that joins its timeline."""

    name = "request.reply_received"
    text: str
    sender: str
    inbound_message_id: str | None = None
    note: str = ""


class AttachmentTooLarge(Event):
    """An attachment over the policy's limit: the mail is kept, the requester told, staff alerted."""

    name = "request.attachment_too_large"
    filename: str
    size_bytes: int
    limit_bytes: int


# --- review -----------------------------------------------------------------------------


class DeadlinesSet(Event):
    """The request's clocks were started or moved; carries how each due date was derived."""

    name = "request.deadlines_set"
    reason: Literal["filed", "clarified", "extended", "restarted"]
    acknowledgment: DeadlineDerivation
    response: DeadlineDerivation


class RequestAcknowledged(Event):
    name = "request.acknowledged"
    note: str = ""


class ClarificationNeeded(Event):
    name = "request.clarification_needed"
    questions: list[str]


class CostLine(BaseModel):
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


class CostEstimated(Event):
    name = "request.cost_estimated"
    lines: list[CostLine]
    total: Decimal
    respond_by: date


class Released(Event):
    name = "request.released"
    links: list[str] = []
    redactions: list[str] = []
    partial: bool = False
    withheld_parts: list[dict[str, str]] = []


class Withheld(Event):
    name = "request.withheld"
    exemption_code: str
    citation: str
    explanation: str
    appeal_route: str
    appeal_deadline: date


class Escalated(Event):
    name = "request.escalated"
    clock: Literal["acknowledgment", "response"]
    level: int
    title: str
    notify: list[str]
    reason: str
    business_days_late: int


class ReminderDue(Event):
    """A clock is about to run out (or ran out on the requester's side): somebody is reminded."""

    name = "request.reminder_due"
    clock: Literal["response", "clarification", "cost_acceptance"]
    audience: Literal["assignee", "requester"]
    recipients: list[str]
    due_on: date
    note: str = ""


class DeadlineExtended(Event):
    name = "request.deadline_extended"
    business_days: int
    reason: str
    new_due_on: date


CloseReason = Literal["withdrawn", "duplicate", "already_published", "abandoned", "cost_declined"]


class Closed(Event):
    name = "request.closed"
    reason: CloseReason
    note: str = ""


class ApiKeyIssued(Event):
    name = "apikey.issued"
    key_id: str
    scopes: list[str]
    rate_limit_per_hour: int
    expires_on: date


class ApiKeySuspended(Event):
    name = "apikey.suspended"
    key_id: str
    reason: str
    until: date


class ApiKeyRevoked(Event):
    name = "apikey.revoked"
    key_id: str
    reason: str


# --- notify -----------------------------------------------------------------------------


class NotificationSent(Event):
    name = "notification.sent"
    notification_id: str
    template: str
    recipient: str
    message_id: str
    about_event_id: UUID


class NotificationFailed(Event):
    name = "notification.failed"
    notification_id: str
    template: str
    recipient: str
    reason: str
    permanent: bool
    about_event_id: UUID


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        RequestFiled,
        ClarificationReceived,
        CostAccepted,
        CostDeclined,
        Appealed,
        ReplyReceived,
        AttachmentTooLarge,
        ReminderDue,
        DeadlinesSet,
        RequestAcknowledged,
        ClarificationNeeded,
        CostEstimated,
        Released,
        Withheld,
        Escalated,
        DeadlineExtended,
        Closed,
        ApiKeyIssued,
        ApiKeySuspended,
        ApiKeyRevoked,
        NotificationSent,
        NotificationFailed,
    )
}


class Envelope(BaseModel):
    """What travels on the exchange and what `GET /v1/events` returns."""

    event_id: UUID
    type: str
    schema_version: int
    sequence: int
    occurred_at: datetime
    jurisdiction: str
    request_ref: str | None
    correlation_id: UUID
    causation_id: UUID | None
    actor: Actor
    data: dict[str, Any]

    @property
    def routing_key(self) -> str:
        return routing_key(self.jurisdiction, EVENT_TYPES[self.type])

    def payload(self) -> Event:
        return EVENT_TYPES[self.type].model_validate(self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> "Envelope":
        return cls.model_validate(json.loads(body))


def routing_key(jurisdiction: str, event_type: type[Event]) -> str:
    return f"{jurisdiction}.{event_type.name}"


class PendingEvent(BaseModel):
    """An event the domain produced; the unit of work numbers and stores it at commit."""

    event_id: UUID = Field(default_factory=uuid4)
    event: Event
    occurred_at: datetime
    jurisdiction: str
    request_ref: str | None
    correlation_id: UUID
    causation_id: UUID | None = None
    actor: Actor = SYSTEM

    def envelope(self, sequence: int) -> Envelope:
        return Envelope(
            event_id=self.event_id,
            type=type(self.event).__name__,
            schema_version=type(self.event).schema_version,
            sequence=sequence,
            occurred_at=self.occurred_at,
            jurisdiction=self.jurisdiction,
            request_ref=self.request_ref,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            actor=self.actor,
            data=self.event.model_dump(mode="json"),
        )
