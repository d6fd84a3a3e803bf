"""SQLModel tables. Not the wire contract: events travel as shared.events models."""

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index),
    )


def _json(default: Any) -> Any:
    return Field(
        default_factory=lambda: type(default)(),
        sa_column=Column(JSONB, nullable=False, server_default=text(f"'{default!s}'::jsonb")),
    )


class Request(SQLModel, table=True):
    __tablename__ = "requests"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    ref: str = Field(unique=True, max_length=32)
    jurisdiction: str = Field(index=True, max_length=64)
    state: str = Field(index=True, max_length=32)
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=32)
    requester_email: str = Field(index=True, max_length=320)
    requester_name: str = Field(default="", max_length=200)
    subject: str
    body: str
    received_at: datetime = _ts()
    status_token_hash: str = Field(unique=True, max_length=64)
    extracted: dict[str, Any] = _json({})
    missing_fields: list[str] = _json([])
    thread_message_ids: list[str] = _json([])
    ack_due_on: date | None = None
    response_due_on: date | None = None
    deadlines: dict[str, Any] = _json({})
    assignee: str | None = Field(default=None, max_length=320)
    legal_review: bool = False
    legal_review_reasons: list[str] = _json([])
    linked_ref: str | None = Field(default=None, max_length=32)
    paused_since: datetime | None = _ts(nullable=True)
    pauses: list[dict[str, Any]] = _json([])
    extension_business_days: int = 0
    extensions_used: int = 0
    cost_estimate: dict[str, Any] = _json({})
    decided_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)
    close_reason: str | None = Field(default=None, max_length=32)
    triage: dict[str, Any] = _json({})
    appeal_deadline: date | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ReferenceCounter(SQLModel, table=True):
    """Gapless per-prefix, per-year numbering of request references."""

    __tablename__ = "reference_counters"
    __table_args__ = (PrimaryKeyConstraint("prefix", "year"),)

    prefix: str = Field(max_length=8)
    year: int
    last: int = 0


class EventRecord(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_request_ref_sequence", "request_ref", "sequence"),
        Index("ix_events_type_sequence", "type", "sequence"),
    )

    sequence: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, Identity(always=True), primary_key=True),
    )
    event_id: UUID = Field(unique=True)
    type: str = Field(max_length=64)
    schema_version: int
    occurred_at: datetime = _ts()
    jurisdiction: str = Field(index=True, max_length=64)
    request_ref: str | None = Field(default=None, max_length=32)
    correlation_id: UUID
    causation_id: UUID | None = None
    actor: dict[str, Any] = _json({})
    data: dict[str, Any] = _json({})


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "next_attempt_at",
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    event_id: UUID = Field(unique=True)
    routing_key: str = Field(max_length=200)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _ts()
    next_attempt_at: datetime = _ts()
    published_at: datetime | None = _ts(nullable=True)
    attempts: int = 0
    last_error: str | None = None


class InboxEntry(SQLModel, table=True):
    """Events a consumer has applied; a redelivery finds its row and does nothing."""

    __tablename__ = "inbox"
    __table_args__ = (PrimaryKeyConstraint("consumer", "event_id"),)

    consumer: str = Field(max_length=64)
    event_id: UUID
    handled_at: datetime = _ts()


class Timer(SQLModel, table=True):
    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_due", "due_at", postgresql_where=text("status = 'pending'")),
        Index("ix_timers_request", "request_ref", "kind"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    kind: str = Field(max_length=64)
    jurisdiction: str = Field(max_length=64)
    request_ref: str = Field(max_length=32)
    due_at: datetime = _ts()
    status: str = Field(default="pending", max_length=16)
    data: dict[str, Any] = _json({})
    created_at: datetime = _ts()
    fired_at: datetime | None = _ts(nullable=True)
    cancelled_at: datetime | None = _ts(nullable=True)


class InboundMail(SQLModel, table=True):
    """Every message as it arrived, stored before anything parses it."""

    __tablename__ = "inbound_mail"
    __table_args__ = (
        UniqueConstraint("sha256", "envelope_recipient", name="uq_inbound_mail_raw"),
        Index("ix_inbound_mail_pending", "id", postgresql_where=text("status = 'pending'")),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    sha256: str = Field(max_length=64)
    envelope_recipient: str = Field(default="", max_length=320)
    source: str = Field(max_length=16)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime = _ts()
    status: str = Field(default="pending", max_length=16)
    message_id: str | None = Field(default=None, index=True, max_length=998)
    request_ref: str | None = Field(default=None, max_length=32)
    outcome: str | None = None
    attempts: int = 0
    last_error: str | None = None
    processed_at: datetime | None = _ts(nullable=True)
    content_sha256: str | None = Field(default=None, max_length=64)


class Notification(SQLModel, table=True):
    """One email to one recipient about one event; claimed before sending, marked after 250."""

    __tablename__ = "notifications"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=400)
    about_event_id: UUID = Field(index=True)
    request_ref: str | None = Field(default=None, index=True, max_length=32)
    jurisdiction: str = Field(max_length=64)
    template: str = Field(max_length=64)
    recipient: str = Field(max_length=320)
    message_id: str = Field(max_length=998)
    status: str = Field(default="claimed", max_length=16)
    attempts: int = 0
    claimed_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    last_error: str | None = None
    # deferred (rate limit) or retry rows: when notify's sweeper picks them up (0005_notify)
    next_attempt_at: datetime | None = _ts(nullable=True)


class AddressStatus(SQLModel, table=True):
    __tablename__ = "address_status"

    address: str = Field(primary_key=True, max_length=320)
    undeliverable: bool = False
    reason: str | None = None
    updated_at: datetime = _ts()
    temporary_failures: int = 0


class AttachmentContent(SQLModel, table=True):
    """An attachment's bytes, stored once however many mails carry them."""

    __tablename__ = "attachment_contents"

    sha256: str = Field(primary_key=True, max_length=64)
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _ts()


class MailAttachment(SQLModel, table=True):
    """One attachment of one inbound mail; `stored` is false when it was over the size limit."""

    __tablename__ = "mail_attachments"
    __table_args__ = (
        UniqueConstraint("inbound_mail_id", "position", name="uq_mail_attachments_position"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    inbound_mail_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    position: int
    request_ref: str | None = Field(default=None, index=True, max_length=32)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    stored: bool


class StaffMember(SQLModel, table=True):
    __tablename__ = "staff"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    email: str = Field(unique=True, max_length=320)
    role: str = Field(max_length=16)
    token_hash: str = Field(unique=True, max_length=64)
    active: bool = True
    created_at: datetime = _ts()


class ApiKey(SQLModel, table=True):
    """An API key issued on a released api_access request; only its hash is kept."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=32)
    key_hash: str = Field(unique=True, max_length=64)
    request_ref: str = Field(index=True, max_length=32)
    jurisdiction: str = Field(max_length=64)
    holder_email: str = Field(max_length=320)
    scopes: list[str] = _json([])
    rate_limit_per_hour: int
    expires_on: date
    status: str = Field(default="active", max_length=16)
    suspended_until: date | None = None
    status_reason: str | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ImapMailbox(SQLModel, table=True):
    """How far the IMAP poller got in one mailbox; UIDs count only under their UIDVALIDITY."""

    __tablename__ = "imap_mailboxes"

    mailbox_key: str = Field(primary_key=True, max_length=600)
    uidvalidity: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_uid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = _ts()


class CatalogDataset(SQLModel, table=True):
    """A dataset a jurisdiction already publishes, from its DCAT-US data.json catalog."""

    __tablename__ = "catalog_datasets"
    __table_args__ = (PrimaryKeyConstraint("jurisdiction", "identifier"),)

    jurisdiction: str = Field(max_length=64)
    identifier: str = Field(max_length=500)
    title: str
    description: str = ""
    keywords: list[str] = _json([])
    themes: list[str] = _json([])
    landing_page: str | None = None
    distributions: list[dict[str, Any]] = _json([])
    modified: str | None = Field(default=None, max_length=64)
    imported_at: datetime = _ts()


class IdempotencyKey(SQLModel, table=True):
    """A web submission's Idempotency-Key: a repeat with the same body gets the same answer."""

    __tablename__ = "idempotency_keys"

    key: str = Field(primary_key=True, max_length=255)
    body_sha256: str = Field(max_length=64)
    request_ref: str | None = Field(default=None, max_length=32)
    created_at: datetime = _ts(index=True)


class WebSubmissionCount(SQLModel, table=True):
    """Web requests filed per requester address or client in one rate-limit window."""

    __tablename__ = "web_submission_counts"
    __table_args__ = (PrimaryKeyConstraint("scope", "subject", "window_start"),)

    scope: str = Field(max_length=16)
    subject: str = Field(max_length=320)
    window_start: datetime = _ts()
    count: int = 0
