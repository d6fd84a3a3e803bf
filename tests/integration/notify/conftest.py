"""Notify against the real database and a real SMTP server: requests and events are made
here directly (no review service needed), and a Notifier is built per test."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from sqlalchemy import text

from services.notify.delivery import DeliveryRules, Notifier
from services.notify.smtp import RetryPolicy, SmtpMailer
from shared.clock import FixedClock
from shared.db.tables import Request
from shared.events import Envelope, Event
from shared.policy import PolicyBook
from shared.runtime import open_database
from shared.settings import Settings
from shared.signing import status_token, token_hash
from shared.unit_of_work import UnitOfWork
from tests.conftest import SmtpSink, serving_smtp

START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
FAST_RETRY = RetryPolicy(attempts=3, initial_seconds=0.01, max_seconds=0.05)


class RecordingSink(SmtpSink):
    """The conftest sink, also noting the Message-ID of every DATA it was offered (answered
    250 or not), so a test can see what a retry re-sent."""

    def __init__(self) -> None:
        super().__init__()
        self.offered: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.offered.append(
            str(message_from_bytes(envelope.content, policy=policy.default)["Message-ID"])
        )
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def sink() -> Iterator[tuple[RecordingSink, int]]:
    recorder = RecordingSink()
    with serving_smtp(recorder) as port:
        yield recorder, port


@dataclass
class NotifyWorld:
    settings: Settings
    sessions: Any
    clock: FixedClock
    policies: PolicyBook
    port: int
    sink: RecordingSink
    refs: dict[str, int] = field(default_factory=dict)

    def new_uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock)

    def notifier(
        self, retry: RetryPolicy = FAST_RETRY, cls: type[Notifier] = Notifier, **rules: Any
    ) -> Notifier:
        return cls(
            self.new_uow,
            self.policies,
            SmtpMailer("127.0.0.1", self.port, timeout=5, retry=retry),
            self.settings.secret_key,
            "https://records.example",
            self.clock,
            DeliveryRules(**rules),
        )

    async def request(
        self,
        jurisdiction: str = "worcester-ma",
        *,
        email: str = "ann@example.org",
        name: str = "Ann Lee",
        subject: str = "Street tree inventory",
        thread: list[str] | None = None,
        **columns: Any,
    ) -> Request:
        policy = self.policies[jurisdiction]
        number = self.refs[jurisdiction] = self.refs.get(jurisdiction, 0) + 1
        ref = f"{policy.reference_prefix}-2026-{number:06d}"
        row = Request(
            ref=ref,
            jurisdiction=jurisdiction,
            state="filed",
            channel="mail",
            kind="extract",
            requester_email=email,
            requester_name=name,
            subject=subject,
            body="Please send it as CSV.",
            received_at=self.clock.now(),
            status_token_hash=token_hash(status_token(self.settings.secret_key, ref)),
            thread_message_ids=thread if thread is not None else [f"<{ref}@example.org>"],
            ack_due_on=START.date() + timedelta(days=2),
            response_due_on=START.date() + timedelta(days=15),
            created_at=self.clock.now(),
            updated_at=self.clock.now(),
            **columns,
        )
        async with self.new_uow() as uow:
            uow.session.add(row)
            await uow.commit()
        return row

    async def record(self, request: Request, event: Event) -> Envelope:
        """Store the event as review would (event log + outbox) and return its envelope."""
        async with self.new_uow() as uow:
            uow.record(event, jurisdiction=request.jurisdiction, request_ref=request.ref)
            [envelope] = await uow.commit()
        return envelope

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.new_uow() as uow:
            return (await uow.session.execute(text(sql), params)).scalar_one()

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.new_uow() as uow:
            return list((await uow.session.execute(text(sql), params)).all())


@pytest.fixture
async def world(settings, clean, sink) -> AsyncIterator[NotifyWorld]:  # type: ignore[no-untyped-def]
    recorder, port = sink
    async with open_database(settings) as (_engine, sessions):
        yield NotifyWorld(
            settings=settings,
            sessions=sessions,
            clock=FixedClock(START),
            policies=PolicyBook.load(settings.policy_dir),
            port=port,
            sink=recorder,
        )
