"""Notifications per second from notify to a local SMTP server.

Builds a throwaway database (dropped at the end), starts an aiosmtpd server on loopback
that accepts everything, records one event per request and times the Notifier on them:
one at a time, then several at once. Each mail is claimed, rendered, threaded, sent over
a new SMTP connection, marked and recorded as NotificationSent, as in production.
Bounded: --count mails per run (default 200) and --max-seconds per run (default 60).

    .venv/bin/python bench/notify.py [--count 200] [--concurrency 8] [--max-seconds 60]
"""

import argparse
import asyncio
import contextlib
import socket
import statistics
import time
import uuid

from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

from services.notify.delivery import DeliveryRules, Notifier
from services.notify.smtp import RetryPolicy, SmtpMailer
from shared.clock import SystemClock
from shared.db.admin import drop_database, ensure_database
from shared.db.migrations import upgrade
from shared.db.tables import Request
from shared.events import ClarificationNeeded, Envelope
from shared.logging import configure_logging
from shared.policy import PolicyBook
from shared.runtime import open_database
from shared.settings import Settings
from shared.unit_of_work import UnitOfWork


class CountingSink:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.received += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def make_events(new_uow, count: int, run: str) -> list[Envelope]:  # type: ignore[no-untyped-def]
    """`count` requests, each with one ClarificationNeeded (one mail to its requester)."""
    envelopes = []
    async with new_uow() as uow:
        now = uow.clock.now()
        for n in range(count):
            ref = f"WOR-2026-{run}{n:05d}"
            uow.session.add(
                Request(
                    ref=ref,
                    jurisdiction="worcester-ma",
                    state="filed",
                    channel="web",
                    kind="extract",
                    requester_email=f"r{n}.{run}@example.org",
                    requester_name=f"Requester {n}",
                    subject="Street tree inventory",
                    body="As CSV, please.",
                    received_at=now,
                    status_token_hash=uuid.uuid4().hex,
                    created_at=now,
                    updated_at=now,
                )
            )
            uow.record(
                ClarificationNeeded(questions=["Which years?", "Which neighbourhoods?"]),
                jurisdiction="worcester-ma",
                request_ref=ref,
            )
        envelopes = await uow.commit()
    return envelopes


async def timed_run(
    notifier: Notifier, envelopes: list[Envelope], concurrency: int, deadline: float
) -> tuple[int, float, list[float]]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    done = 0

    async def one(envelope: Envelope) -> None:
        nonlocal done
        async with gate:
            if time.monotonic() > deadline:
                return
            start = time.monotonic()
            await notifier(envelope)
            latencies.append(time.monotonic() - start)
            done += 1

    start = time.monotonic()
    await asyncio.gather(*(one(e) for e in envelopes))
    return done, time.monotonic() - start, latencies


async def main(count: int, concurrency: int, max_seconds: float) -> None:
    configure_logging("WARNING")
    base = Settings()
    url = make_url(base.database_url).set(
        database=f"recordsdesk_bench_notify_{uuid.uuid4().hex[:8]}"
    )
    database_url = url.render_as_string(hide_password=False)
    await ensure_database(database_url)
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        await asyncio.to_thread(upgrade, database_url)
        settings = base.model_copy(update={"database_url": database_url})
        async with open_database(settings) as (_engine, sessions):
            clock = SystemClock()

            def new_uow() -> UnitOfWork:
                return UnitOfWork(sessions, clock)

            notifier = Notifier(
                new_uow,
                PolicyBook.load(settings.policy_dir),
                SmtpMailer("127.0.0.1", controller.port, retry=RetryPolicy(attempts=1)),
                "bench-secret",
                "https://records.example",
                clock,
                DeliveryRules(rate_limit=count + 1),
            )
            print(f"notify bench: {count} mails per run, loopback SMTP, throwaway database")
            print(
                f"{'run':<28}{'mails':>7}{'seconds':>10}{'mails/s':>10}{'p50 ms':>9}{'p95 ms':>9}"
            )
            for label, width in (("one at a time", 1), (f"{concurrency} at once", concurrency)):
                envelopes = await make_events(new_uow, count, f"{width:02d}")
                done, seconds, latencies = await timed_run(
                    notifier, envelopes, width, time.monotonic() + max_seconds
                )
                latencies.sort()
                p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)] if latencies else 0.0
                print(
                    f"{label:<28}{done:>7}{seconds:>10.2f}{done / seconds:>10.1f}"
                    f"{statistics.median(latencies) * 1000:>9.1f}{p95 * 1000:>9.1f}"
                )
            start = time.monotonic()
            for envelope in envelopes[:count]:
                await notifier(envelope)  # already sent: only the claim lookup runs
            seconds = time.monotonic() - start
            print(
                f"{'redelivered (no mail)':<28}{len(envelopes):>7}{seconds:>10.2f}{len(envelopes) / seconds:>10.1f}"
            )
            print(f"SMTP server received {sink.received} messages")
    finally:
        controller.stop()
        with contextlib.suppress(Exception):
            await drop_database(database_url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(main(max(1, min(args.count, 5000)), max(1, args.concurrency), args.max_seconds))
