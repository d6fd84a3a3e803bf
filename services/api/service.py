"""Wires the HTTP API into a running process: a uvicorn server that stops with the process."""

import asyncio
import contextlib
from collections.abc import Generator

import uvicorn

from services.api.app import create_api
from shared.runtime import Resources


class _Server(uvicorn.Server):
    """The process owns the signals and tells the server when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def attach_api(resources: Resources) -> None:
    settings = resources.settings
    server = _Server(
        uvicorn.Config(
            create_api(resources),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )

    async def run(stop: asyncio.Event) -> None:
        serving = asyncio.create_task(server.serve())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([serving, stopping], return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        stopping.cancel()
        await serving
        if not stop.is_set():
            raise RuntimeError(f"HTTP server on {settings.http_host}:{settings.http_port} stopped")

    resources.workers.append(run)
