"""Inbound messages per second, stored durably: through the MTA pipe and the SMTP listener.

Builds a throwaway database (dropped at the end) and times, on loopback only:
  pipe/subprocess   `recordsdesk mail --recipient ...` started once per message, as an MTA
                    does (one at a time, then --concurrency at once);
  pipe/in-process   mail_drop.store(), the same transaction without the process start;
  smtp/...          the SMTP listener of `recordsdesk run intake` (in this process), fed by
                    aiosmtplib: a new connection per message, one connection for all, and
                    --concurrency connections at once.
Every message is distinct (its own Message-ID), so nothing is absorbed by the dedupe.
Bounded: --count messages per run (default 200) and --max-seconds per run (default 30).

    .venv/bin/python bench/mail_pipe.py [--count 200] [--concurrency 4] [--max-seconds 30]
"""

import argparse
import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosmtplib
import asyncpg
from sqlalchemy.engine import make_url

from services.intake.mail_drop import store
from services.intake.smtp_listener import SmtpListener
from shared.clock import SystemClock
from shared.db.admin import drop_database, ensure_database
from shared.db.migrations import upgrade
from shared.defaults import plain_postgres_dsn
from shared.logging import configure_logging
from shared.settings import Settings

RECIPIENT = "records@worcester-ma.example"
RECORDSDESK = Path(sys.executable).with_name("recordsdesk")


def message(run: str, n: int) -> bytes:
    return (
        f"From: Resident {n} <resident{n}@example.org>\r\n"
        f"To: {RECIPIENT}\r\n"
        f"Subject: Street tree inventory {n}\r\n"
        f"Message-ID: <bench-{run}-{n}@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n" + "Please send the street tree inventory as CSV, with species and diameter.\r\n" * 20
    ).encode()


class Run:
    """Counts messages stored until the count or the time bound is reached."""

    def __init__(self, count: int, max_seconds: float) -> None:
        self.count = count
        self.deadline = time.perf_counter() + max_seconds
        self.started = time.perf_counter()
        self.next = 0
        self.done = 0

    def take(self) -> int | None:
        if self.next >= self.count or time.perf_counter() > self.deadline:
            return None
        self.next += 1
        return self.next - 1

    def rate(self) -> tuple[int, float, float]:
        elapsed = time.perf_counter() - self.started
        return self.done, elapsed, self.done / elapsed if elapsed else 0.0


async def in_workers(run: Run, workers: int, one: Callable[[int], Awaitable[None]]) -> None:
    async def worker() -> None:
        while (n := run.take()) is not None:
            await one(n)
            run.done += 1

    await asyncio.gather(*(worker() for _ in range(workers)))


async def pipe_subprocess(database_url: str, raw: bytes) -> None:
    process = await asyncio.create_subprocess_exec(
        str(RECORDSDESK),
        "mail",
        "--recipient",
        RECIPIENT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={"RECORDSDESK_DATABASE_URL": database_url, "PATH": os.environ.get("PATH", "")},
    )
    _, err = await asyncio.wait_for(process.communicate(raw), timeout=60)
    if process.returncode != 0:
        raise RuntimeError(f"recordsdesk mail exited {process.returncode}: {err.decode()}")


async def smtp_each(port: int, raw: bytes) -> None:
    await aiosmtplib.send(
        raw, sender="resident@example.org", recipients=[RECIPIENT], hostname="127.0.0.1",
        port=port, timeout=30,
    )  # fmt: skip


async def smtp_session(run: Run, port: int, label: str) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
    await client.connect()
    try:
        while (n := run.take()) is not None:
            await client.sendmail("resident@example.org", [RECIPIENT], message(label, n))
            run.done += 1
    finally:
        with contextlib.suppress(aiosmtplib.SMTPException):
            await client.quit()


async def store_one(dsn: str, raw: bytes) -> None:
    if await store(dsn, raw, RECIPIENT) is None:
        raise RuntimeError("a distinct message was taken for a duplicate")


async def stored(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM inbound_mail"))
    finally:
        await connection.close()


async def main(count: int, concurrency: int, max_seconds: float) -> int:
    base = Settings()
    name = f"recordsdesk_bench_{uuid.uuid4().hex[:8]}"
    database_url = make_url(base.database_url).set(database=name).render_as_string(False)
    dsn = plain_postgres_dsn(database_url)
    await ensure_database(database_url)
    results: list[tuple[str, tuple[int, float, float]]] = []
    try:
        await asyncio.to_thread(upgrade, database_url)

        async def measure(label: str, workers: int, one: Callable[[int], Awaitable[None]]) -> None:
            run = Run(count, max_seconds)
            await in_workers(run, workers, one)
            results.append((label, run.rate()))

        await measure(
            "pipe/subprocess, 1 at a time",
            1,
            lambda n: pipe_subprocess(database_url, message("p1", n)),
        )
        await measure(
            f"pipe/subprocess, {concurrency} at once",
            concurrency,
            lambda n: pipe_subprocess(database_url, message(f"p{concurrency}", n)),
        )
        await measure(
            "pipe/in-process store()",
            1,
            lambda n: store_one(dsn, message("store", n)),
        )
        listener = SmtpListener(dsn, SystemClock(), "127.0.0.1", 0, 26_214_400)
        await listener.start()
        try:
            await measure(
                "smtp/new connection per message",
                1,
                lambda n: smtp_each(listener.port, message("s1", n)),
            )
            run = Run(count, max_seconds)
            await smtp_session(run, listener.port, "session")
            results.append(("smtp/one connection, many messages", run.rate()))
            await measure(
                f"smtp/{concurrency} connections at once",
                concurrency,
                lambda n: smtp_each(listener.port, message(f"s{concurrency}", n)),
            )
        finally:
            await listener.stop()
        total = await stored(dsn)
    finally:
        await drop_database(database_url)
    print(f"inbound mail stored durably (each a committed row), loopback, {os.cpu_count()} CPUs")
    print(f"{'path':42} {'messages':>9} {'seconds':>8} {'msg/s':>8}")
    for label, (done, elapsed, rate) in results:
        print(f"{label:42} {done:9d} {elapsed:8.2f} {rate:8.1f}")
    expected = sum(done for _, (done, _, _) in results)
    print(f"rows stored: {total} (expected {expected})")
    return 0 if total == expected else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="messages per run (bound)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=30.0, help="time bound per run")
    args = parser.parse_args()
    configure_logging("WARNING")
    sys.exit(asyncio.run(main(args.count, args.concurrency, args.max_seconds)))
