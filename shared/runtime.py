"""Process wiring: builds connections in one place and runs the chosen services until told to stop."""

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from faststream.rabbit import RabbitBroker
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import Clock, SystemClock
from shared.db.engine import make_engine, make_sessions
from shared.delivery import ServiceInbox
from shared.logging import get_logger
from shared.outbox import OutboxRelay
from shared.policy import PolicyBook
from shared.settings import Settings
from shared.topology import Topology, declare, make_broker
from shared.unit_of_work import UnitOfWork

log = get_logger(__name__)
Worker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class Resources:
    settings: Settings
    clock: Clock
    policies: PolicyBook
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: RabbitBroker
    topology: Topology
    workers: list[Worker] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    inboxes: dict[str, ServiceInbox] = field(default_factory=dict)

    def new_uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock)


@contextlib.asynccontextmanager
async def open_database(
    settings: Settings,
) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession]]]:
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    try:
        yield engine, make_sessions(engine)
    finally:
        await engine.dispose()


def load_resources(
    settings: Settings, engine: AsyncEngine, clock: Clock | None = None
) -> Resources:
    """Validate the policies (a bad one stops start-up here) and build the unstarted broker."""
    return Resources(
        settings=settings,
        clock=clock or SystemClock(),
        policies=PolicyBook.load(settings.policy_dir),
        engine=engine,
        sessions=make_sessions(engine),
        broker=make_broker(settings),
        topology=Topology.from_settings(settings),
    )


async def serve(resources: Resources, stop: asyncio.Event) -> None:
    """Connect, declare the topology, start consumers and workers; stop cleanly on `stop`."""
    broker = resources.broker
    await broker.connect()
    await declare(broker, resources.topology)
    await broker.start()
    relay = OutboxRelay(resources.sessions, broker, resources.topology, resources.clock)
    settings = resources.settings
    workers: list[Worker] = [
        lambda s: relay.run(settings.postgres_dsn, settings.relay_poll_seconds, s),
        *resources.workers,
    ]
    tasks = [asyncio.create_task(worker(stop)) for worker in workers]
    resources.started.set()
    log.info("recordsdesk running", namespace=settings.namespace or "(none)")
    try:
        done, _ = await asyncio.wait(
            [asyncio.create_task(stop.wait()), *tasks], return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            if task in tasks and task.exception():
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        # Workers finish their current step; one stuck past the grace period (say, on a lock)
        # is cancelled: its transaction rolls back and its message is redelivered, never lost.
        _, stuck = await asyncio.wait(tasks, timeout=settings.shutdown_grace_seconds)
        for task in stuck:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await broker.stop()


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
