"""Running services inside the test process, against the real broker and database."""

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from services.runner import attach
from shared.clock import Clock
from shared.runtime import Resources, load_resources, open_database, serve
from shared.settings import Settings


@asynccontextmanager
async def running(
    settings: Settings, services: Iterable[str], clock: Clock | None = None
) -> AsyncIterator[Resources]:
    async with open_database(settings) as (engine, _):
        resources = load_resources(settings, engine, clock)
        attach(resources, services)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(resources, stop))
        started = asyncio.create_task(resources.started.wait())
        await asyncio.wait([task, started], timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # re-raise why it could not start
        try:
            yield resources
        finally:
            stop.set()
            await task
