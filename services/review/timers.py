"""Durable deadline timers in PostgreSQL: scheduled and cancelled inside the transaction
that starts or stops a clock, fired exactly once (claimed with SKIP LOCKED, marked fired in
the same transaction as the event the firing produces).
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import text

from shared.db.tables import Request, Timer
from shared.logging import get_logger
from shared.unit_of_work import UnitOfWork
from shared.wakeup import wait_any

log = get_logger(__name__)

TimerHandler = Callable[[UnitOfWork, Timer], Awaitable[None]]

# The timer and its request are locked together, skipping either when another worker holds
# it: a handler (or a staff decision) that locks the request and then touches its other
# timers can then never deadlock with a second firing worker.
_CLAIM = text(
    """
    SELECT t.id FROM timers t JOIN requests r ON r.ref = t.request_ref
    WHERE t.status = 'pending' AND t.due_at <= :now
    ORDER BY t.due_at, t.id
    LIMIT 1
    FOR UPDATE OF t, r SKIP LOCKED
    """
)


def schedule(uow: UnitOfWork, request: Request, kind: str, due_at: datetime, **data: Any) -> Timer:
    timer = Timer(
        kind=kind,
        jurisdiction=request.jurisdiction,
        request_ref=request.ref,
        due_at=due_at,
        data=data,
        created_at=uow.clock.now(),
    )
    uow.session.add(timer)
    return timer


async def cancel(uow: UnitOfWork, request_ref: str, kinds: list[str] | None = None) -> int:
    """Cancel the request's pending timers (of these kinds, or all)."""
    sql = (
        "UPDATE timers SET status = 'cancelled', cancelled_at = :now"
        " WHERE request_ref = :ref AND status = 'pending'"
    )
    params: dict[str, Any] = {"now": uow.clock.now(), "ref": request_ref}
    if kinds is not None:
        sql += " AND kind = ANY(:kinds)"
        params["kinds"] = kinds
    result = await uow.session.execute(text(sql), params)
    return int(result.rowcount)  # type: ignore[attr-defined]


class TimerFiring:
    """Fires due timers one per transaction; each kind has one handler."""

    def __init__(
        self, new_uow: Callable[[], UnitOfWork], handlers: dict[str, TimerHandler]
    ) -> None:
        self._new_uow = new_uow
        self._handlers = handlers

    async def fire_one(self) -> bool:
        async with self._new_uow() as uow:
            row = (await uow.session.execute(_CLAIM, {"now": uow.clock.now()})).first()
            if row is None:
                return False
            timer = await uow.session.get(Timer, row.id)
            assert timer is not None
            handler = self._handlers.get(timer.kind)
            if handler is None:
                log.error(
                    "no handler for timer kind; cancelled", kind=timer.kind, timer_id=str(timer.id)
                )
                timer.status = "cancelled"
            else:
                await handler(uow, timer)
                timer.status = "fired"
            timer.fired_at = uow.clock.now()
            uow.session.add(timer)
            await uow.commit()
        log.info(
            "timer fired", kind=timer.kind, request_ref=timer.request_ref, timer_id=str(timer.id)
        )
        return True

    async def fire_due(self) -> int:
        fired = 0
        while await self.fire_one():
            fired += 1
        return fired

    async def run(self, poll_seconds: float, stop: asyncio.Event) -> None:
        """Fire continuously; a due timer waits at most `poll_seconds`."""
        while not stop.is_set():
            try:
                while not stop.is_set() and await self.fire_one():
                    pass
            except Exception as exc:
                log.error("timer pass failed", error=repr(exc))
            await wait_any(asyncio.Event(), stop, poll_seconds)
