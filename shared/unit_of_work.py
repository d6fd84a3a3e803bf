"""One transaction per state change: the change, its events and their outbox rows, together.

Nothing is published from here: the outbox relay does that after commit.
"""

from types import TracebackType
from typing import Self
from uuid import UUID, uuid4

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import Clock
from shared.db.tables import EventRecord, InboxEntry, OutboxMessage
from shared.events import SYSTEM, Actor, Envelope, Event, PendingEvent
from shared.topology import is_consumed

# Sequence numbers are handed out under this transaction-scoped lock, taken just before
# commit, so they become visible in order and a reader paging on `after=SEQ` never skips.
EVENT_LOG_LOCK = 0x5245_4344_534B  # "RECDSK"
OUTBOX_CHANNEL = "recordsdesk_outbox"


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self.clock = clock
        self._pending: list[PendingEvent] = []
        self._session: AsyncSession | None = None
        self.committed: list[Envelope] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._pending = []
        self.committed = []
        await self._session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            # loaded rows stay readable after the unit of work, as detached snapshots
            session.expunge_all()
            if session.in_transaction():
                await session.rollback()
        finally:
            await session.close()
            self._session = None

    def record(
        self,
        event: Event,
        *,
        jurisdiction: str,
        request_ref: str | None,
        cause: Envelope | None = None,
        actor: Actor = SYSTEM,
        correlation_id: UUID | None = None,
    ) -> PendingEvent:
        """Queue an event to be stored with this transaction. Causes carry the correlation on."""
        pending = PendingEvent(
            event=event,
            occurred_at=self.clock.now(),
            jurisdiction=jurisdiction,
            request_ref=request_ref,
            correlation_id=correlation_id or (cause.correlation_id if cause else uuid4()),
            causation_id=cause.event_id if cause else None,
            actor=actor,
        )
        self._pending.append(pending)
        return pending

    async def first_delivery(self, consumer: str, event_id: UUID) -> bool:
        """Record that `consumer` handles `event_id`; False when it already has (a redelivery).

        A concurrent duplicate blocks on the primary key until this transaction ends."""
        result = await self.session.execute(
            insert(InboxEntry)
            .values(consumer=consumer, event_id=event_id, handled_at=self.clock.now())
            .on_conflict_do_nothing()
            .returning(col(InboxEntry.event_id))
        )
        return result.first() is not None

    async def commit(self) -> list[Envelope]:
        session = self.session
        envelopes: list[Envelope] = []
        if self._pending:
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_LOG_LOCK}
            )
            now = self.clock.now()
            for pending in self._pending:
                envelope = await self._append(session, pending)
                envelopes.append(envelope)
                if not is_consumed(envelope.routing_key):
                    continue
                session.add(
                    OutboxMessage(
                        event_id=envelope.event_id,
                        routing_key=envelope.routing_key,
                        body=envelope.to_bytes(),
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
            await session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
        await session.commit()
        self._pending = []
        self.committed = envelopes
        return envelopes

    @staticmethod
    async def _append(session: AsyncSession, pending: PendingEvent) -> Envelope:
        draft = pending.envelope(sequence=0)
        result = await session.execute(
            insert(EventRecord)
            .values(
                event_id=draft.event_id,
                type=draft.type,
                schema_version=draft.schema_version,
                occurred_at=draft.occurred_at,
                jurisdiction=draft.jurisdiction,
                request_ref=draft.request_ref,
                correlation_id=draft.correlation_id,
                causation_id=draft.causation_id,
                actor=draft.actor.model_dump(mode="json"),
                data=draft.data,
            )
            .returning(col(EventRecord.sequence))
        )
        return draft.model_copy(update={"sequence": result.scalar_one()})
