"""Waking a worker loop when PostgreSQL says new rows committed (LISTEN/NOTIFY).

Notifications are a hint, not a guarantee: every loop also polls, so a missed one only
costs latency.
"""

import asyncio

import asyncpg

from shared.logging import get_logger

log = get_logger(__name__)


async def wait_any(wake: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    """Return when `wake` or `stop` is set, or after `timeout` seconds."""
    waiters = [asyncio.create_task(wake.wait()), asyncio.create_task(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def listen(dsn: str, channel: str, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """Hold a LISTEN connection, reconnecting after failures."""
    while not stop.is_set():
        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(dsn)
            await connection.add_listener(channel, lambda *_: wake.set())
            wake.set()  # catch anything committed while we were not listening
            while not stop.is_set() and not connection.is_closed():
                await wait_any(asyncio.Event(), stop, 5.0)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("listener reconnecting", channel=channel, error=repr(exc))
            await wait_any(asyncio.Event(), stop, 2.0)
        finally:
            if connection is not None and not connection.is_closed():
                await connection.close()
