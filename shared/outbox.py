"""The outbox relay: publishes committed events to the exchange, each row exactly once.

Rows are claimed with SKIP LOCKED, so several relays share the work without ever
publishing one row twice; a row is marked only after the broker confirmed it.
"""

import asyncio
import contextlib
from datetime import timedelta

from faststream.rabbit import RabbitBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import Clock
from shared.events import Envelope
from shared.logging import get_logger
from shared.topology import Topology
from shared.unit_of_work import OUTBOX_CHANNEL
from shared.wakeup import listen, wait_any

log = get_logger(__name__)

_CLAIM = text(
    """
    SELECT id, event_id, routing_key, body, attempts FROM outbox
    WHERE published_at IS NULL AND next_attempt_at <= :now
    ORDER BY id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
    """
)


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: RabbitBroker,
        topology: Topology,
        clock: Clock,
        batch_size: int = 100,
        max_backoff: timedelta = timedelta(minutes=5),
    ) -> None:
        self._sessions = sessions
        self._broker = broker
        self._topology = topology
        self._clock = clock
        self._batch_size = batch_size
        self._max_backoff = max_backoff

    async def publish_pending(self) -> int:
        """Publish one batch of due rows; returns how many were published."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            rows = (await session.execute(_CLAIM, {"now": now, "batch": self._batch_size})).all()
            if not rows:
                return 0
            results = await asyncio.gather(
                *(self._publish(row.routing_key, row.body) for row in rows),
                return_exceptions=True,
            )
            published = 0
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    backoff = min(timedelta(seconds=2 ** min(row.attempts, 12)), self._max_backoff)
                    log.error(
                        "outbox publish failed",
                        event_id=str(row.event_id),
                        routing_key=row.routing_key,
                        error=repr(result),
                    )
                    await session.execute(
                        text(
                            "UPDATE outbox SET attempts = attempts + 1, last_error = :err,"
                            " next_attempt_at = :next WHERE id = :id"
                        ),
                        {"err": repr(result)[:2000], "next": now + backoff, "id": row.id},
                    )
                else:
                    published += 1
                    await session.execute(
                        text(
                            "UPDATE outbox SET published_at = :now, attempts = attempts + 1"
                            " WHERE id = :id"
                        ),
                        {"now": now, "id": row.id},
                    )
        return published

    async def _publish(self, routing_key: str, body: bytes) -> None:
        envelope = Envelope.from_bytes(body)
        await self._broker.publish(
            body,
            exchange=self._topology.exchange,
            routing_key=routing_key,
            mandatory=True,
            persist=True,
            message_id=str(envelope.event_id),
            correlation_id=str(envelope.correlation_id),
            content_type="application/json",
            message_type=envelope.type,
            timestamp=envelope.occurred_at,
        )

    async def drain(self) -> int:
        total = 0
        while published := await self.publish_pending():
            total += published
        return total

    async def run(self, dsn: str, poll_seconds: float, stop: asyncio.Event) -> None:
        """Publish as rows commit (LISTEN/NOTIFY), and poll as a backstop."""
        wake = asyncio.Event()
        listener = asyncio.create_task(listen(dsn, OUTBOX_CHANNEL, wake, stop))
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    while not stop.is_set() and await self.publish_pending():
                        pass
                except Exception as exc:  # keep relaying after a database or broker blip
                    log.error("outbox relay pass failed", error=repr(exc))
                await wait_any(wake, stop, poll_seconds)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
