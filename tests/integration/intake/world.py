"""A small, fixed world of requests and sent mail that the mail fixtures reply to.

WOR-2026-000001  ann@example.org   acknowledged, our receipt M1, her first message ann-first
WOR-2026-000002  ann@example.org   awaiting_clarification (ClarificationNeeded, mail M2)
WOR-2026-000003  bob@example.net   awaiting_cost_acceptance (CostEstimated, mail M3)
WOR-2026-000004  ann@example.org   closed 2026-08-01, long before the 30-day reopen window
WOR-2026-000005  ann@example.org   closed 2026-11-20, four days ago
WOR-2026-000006  dave@gone.example acknowledged, receipt M6 (the one the bounces return)
CARY-2026-000001 carol@example.org filed, receipt MC
The next new requests are WOR-2026-000007 and CARY-2026-000002.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.mail_drop import store
from services.intake.mailroom import MailRoom
from shared.clock import FixedClock
from shared.db.tables import Notification, ReferenceCounter, Request
from shared.events import ClarificationNeeded, CostEstimated, CostLine
from shared.settings import DEFAULT_POLICY_DIR
from shared.signing import status_token, token_hash
from shared.unit_of_work import UnitOfWork

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday, 10:00 in Worcester
TEST_SECRET = "test-secret"
ATTACHMENT_LIMIT = 2048  # small, so a fixture can be over it

M1 = "<11111111-1111-4111-8111-111111111111.receipt.438c4c7afe@worcester-ma.example>"
M2 = "<22222222-2222-4222-8222-222222222222.clarification_needed.438c4c7afe@worcester-ma.example>"
M3 = "<33333333-3333-4333-8333-333333333333.cost_estimated.0c1d2e3f4a@worcester-ma.example>"
M4 = "<44444444-4444-4444-8444-444444444444.closed.438c4c7afe@worcester-ma.example>"
M5 = "<55555555-5555-4555-8555-555555555555.closed.438c4c7afe@worcester-ma.example>"
M6 = "<66666666-6666-4666-8666-666666666666.receipt.9a8b7c6d5e@worcester-ma.example>"
MC = "<77777777-7777-4777-8777-777777777777.receipt.1a2b3c4d5e@cary-nc.example>"


@dataclass(frozen=True)
class Seed:
    ref: str
    jurisdiction: str
    state: str
    requester: str
    name: str
    our_message_id: str
    closed_at: datetime | None = None
    thread: tuple[str, ...] = ()


SEEDS = [
    Seed(
        "WOR-2026-000001", "worcester-ma", "acknowledged", "ann@example.org", "Ann Lee", M1,
        thread=("<ann-first@mail.example.org>",),
    ),
    Seed("WOR-2026-000002", "worcester-ma", "awaiting_clarification", "ann@example.org", "Ann Lee", M2),
    Seed("WOR-2026-000003", "worcester-ma", "awaiting_cost_acceptance", "bob@example.net", "Bob Ray", M3),
    Seed(
        "WOR-2026-000004", "worcester-ma", "closed", "ann@example.org", "Ann Lee", M4,
        closed_at=datetime(2026, 8, 1, 16, 0, tzinfo=UTC),
    ),
    Seed(
        "WOR-2026-000005", "worcester-ma", "closed", "ann@example.org", "Ann Lee", M5,
        closed_at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
    ),
    Seed("WOR-2026-000006", "worcester-ma", "acknowledged", "dave@gone.example", "Dave", M6),
    Seed("CARY-2026-000001", "cary-nc", "filed", "carol@example.org", "Carol Diaz", MC),
]  # fmt: skip


def policies_with_small_attachment_limit(tmp: Path) -> Path:
    """The real policies with a small attachment limit."""
    for source in DEFAULT_POLICY_DIR.glob("*.yaml"):
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        data["max_attachment_bytes"] = ATTACHMENT_LIMIT
        (tmp / source.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return tmp


async def empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        tables = (
            await connection.execute(
                text(
                    "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables"
                    " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            )
        ).scalar_one()
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))


async def seed_world(uow: UnitOfWork) -> int:
    """Write the world; returns the last event sequence it used."""
    clock = uow.clock
    assert isinstance(clock, FixedClock)
    for seed in SEEDS:
        uow.session.add(
            Request(
                ref=seed.ref,
                jurisdiction=seed.jurisdiction,
                state=seed.state,
                channel="mail",
                kind="public_records",
                requester_email=seed.requester,
                requester_name=seed.name,
                subject=f"Seeded request {seed.ref}",
                body="seeded",
                received_at=datetime(2026, 7, 1, 14, 0, tzinfo=UTC),
                status_token_hash=token_hash(status_token(TEST_SECRET, seed.ref)),
                thread_message_ids=list(seed.thread),
                closed_at=seed.closed_at,
                created_at=datetime(2026, 7, 1, 14, 0, tzinfo=UTC),
                updated_at=datetime(2026, 7, 1, 14, 0, tzinfo=UTC),
            )
        )
        uow.session.add(
            Notification(
                dedupe_key=f"seed:{seed.ref}",
                about_event_id=uuid4(),
                request_ref=seed.ref,
                jurisdiction=seed.jurisdiction,
                template="seeded",
                recipient=seed.requester,
                message_id=seed.our_message_id,
                status="sent",
                claimed_at=datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
                sent_at=datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
            )
        )
    uow.session.add(ReferenceCounter(prefix="WOR", year=2026, last=6))
    uow.session.add(ReferenceCounter(prefix="CARY", year=2026, last=1))
    uow.record(
        ClarificationNeeded(questions=["Which months?"]),
        jurisdiction="worcester-ma",
        request_ref="WOR-2026-000002",
        correlation_id=UUID(int=2),
    )
    uow.record(
        CostEstimated(
            lines=[
                CostLine(
                    description="staff time",
                    quantity=Decimal(2),
                    unit="hour",
                    unit_price=Decimal(25),
                    amount=Decimal(50),
                )
            ],
            total=Decimal(50),
            respond_by=date(2026, 12, 8),
        ),
        jurisdiction="worcester-ma",
        request_ref="WOR-2026-000003",
        correlation_id=UUID(int=3),
    )
    envelopes = await uow.commit()
    return max(e.sequence for e in envelopes)


class MailDesk:
    """The mail room on the test database, a fixed clock, and ways to look at the result."""

    def __init__(self, database_url: str, policy_dir: Path) -> None:
        from shared import defaults
        from shared.db.engine import make_engine, make_sessions
        from shared.policy import PolicyBook

        self.dsn = defaults.plain_postgres_dsn(database_url)
        self.engine = make_engine(database_url, pool_size=2)
        self.sessions = make_sessions(self.engine)
        self.clock = FixedClock(NOW)
        self.policies = PolicyBook.load(policy_dir)
        self.seeded_up_to = 0

    def new_uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock)

    def mailroom(self) -> MailRoom:
        return MailRoom(self.new_uow, self.policies, TEST_SECRET)

    async def reset(self) -> None:
        self.clock.set(NOW)
        await empty_tables(self.engine)
        async with self.new_uow() as uow:
            self.seeded_up_to = await seed_world(uow)

    async def deliver(self, raw: bytes, recipient: str = "") -> int:
        mail_id = await store(self.dsn, raw, recipient, received_at=self.clock.now())
        assert mail_id is not None, "the mail drop saw these exact bytes before"
        return mail_id

    async def fetch(self, sql: str, **params: object) -> list[Any]:
        async with self.engine.connect() as connection:
            return list((await connection.execute(text(sql), params)).all())

    async def inbound(self, mail_id: int) -> Any:
        rows = await self.fetch("SELECT * FROM inbound_mail WHERE id = :id", id=mail_id)
        return rows[0]

    async def new_events(self) -> list[Any]:
        return await self.fetch(
            "SELECT type, request_ref, data FROM events WHERE sequence > :seq ORDER BY sequence",
            seq=self.seeded_up_to,
        )

    async def close(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def open_mail_desk(database_url: str, tmp_dir: Path) -> AsyncIterator[MailDesk]:
    """A MailDesk whose policies have a small attachment limit, closed afterwards."""
    desk = MailDesk(database_url, policies_with_small_attachment_limit(tmp_dir))
    try:
        yield desk
    finally:
        await desk.close()
