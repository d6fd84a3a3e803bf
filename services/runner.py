"""Runs the chosen services in this process until SIGINT/SIGTERM."""

import asyncio
from collections.abc import Callable, Iterable

from services.api.service import attach_api
from services.intake.service import attach_intake
from services.notify.service import attach_notify
from services.review.service import attach_review, timer_firing
from shared.clock import Clock
from shared.runtime import Resources, install_signal_handlers, load_resources, open_database, serve
from shared.settings import Settings

ATTACH: dict[str, Callable[[Resources], object]] = {
    "intake": attach_intake,
    "review": attach_review,
    "notify": attach_notify,
    "api": attach_api,
}


def attach(resources: Resources, services: Iterable[str]) -> None:
    for name in services:
        ATTACH[name](resources)


async def run_services(
    settings: Settings,
    services: Iterable[str],
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    stop = stop or asyncio.Event()
    async with open_database(settings) as (engine, _sessions):
        resources = load_resources(settings, engine, clock)
        attach(resources, services)
        install_signal_handlers(stop)
        await serve(resources, stop)


async def fire_timers(settings: Settings, clock: Clock) -> int:
    """`recordsdesk timers fire --now`: fire what is due at the clock's instant, once."""
    async with open_database(settings) as (engine, _sessions):
        resources = load_resources(settings, engine, clock)
        return await timer_firing(resources).fire_due()
