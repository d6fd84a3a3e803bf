"""Stored messages per second turned into requests and replies by the mail room.

Builds a throwaway database (dropped at the end) and times, on loopback only:
  parse             parse_mail() alone over the .eml fixtures (pure CPU);
  mailroom/1        one MailRoom draining --count stored messages (a third new requests
                    from distinct senders, a third replies to one request, a third
                    out-of-office replies), each in its own transaction;
  mailroom/2        two MailRooms draining the same kind of backlog at once (SKIP LOCKED).
Bounded: --count messages per run (default 300) and --max-seconds per run (default 30).

    .venv/bin/python bench/mailroom.py [--count 300] [--max-seconds 30]
"""

import argparse
import asyncio
import contextlib
import time
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from services.intake.filing import NewRequest, file_request
from services.intake.mail_drop import store
from services.intake.mailroom import MailRoom
from services.intake.parsing import UnparseableMail, parse_mail
from shared.clock import SystemClock
from shared.db.admin import drop_database, ensure_database
from shared.db.engine import make_engine, make_sessions
from shared.db.migrations import upgrade
from shared.defaults import plain_postgres_dsn
from shared.logging import configure_logging
from shared.policy import PolicyBook
from shared.settings import Settings
from shared.unit_of_work import UnitOfWork

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "mail"
SECRET = "bench-secret"


def message(run: str, n: int, first_id: str) -> bytes:
    kind = n % 3
    sender = f"resident{n}@example.org" if kind == 0 else "ann@example.org"
    extra = "" if kind == 0 else f"In-Reply-To: {first_id}\r\n"
    if kind == 2:
        extra += "Auto-Submitted: auto-replied\r\n"
    return (
        f"From: Resident <{sender}>\r\nTo: records@worcester-ma.example\r\n"
        f"Subject: Street trees {n}\r\nMessage-ID: <bench-{run}-{n}@example.org>\r\n{extra}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + "Please send the street tree inventory as CSV, with species.\r\n" * 10
        + "\r\nOn Mon, Nov 23, 2026 at 10:00 AM Clerk <c@x.example> wrote:\r\n> earlier\r\n"
    ).encode()


def bench_parse(max_seconds: float) -> None:
    raws = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < min(max_seconds, 3.0):
        for raw in raws:
            with contextlib.suppress(UnparseableMail):  # the spoofing fixtures
                parse_mail(raw)
            done += 1
    elapsed = time.perf_counter() - started
    print(f"parse          {done:6d} messages  {done / elapsed:8.1f} msg/s")


async def bench_mailroom(
    database_url: str, policies: PolicyBook, count: int, workers: int, max_seconds: float
) -> None:
    engine = make_engine(database_url, pool_size=workers + 1)
    sessions = make_sessions(engine)
    clock = SystemClock()

    def new_uow() -> UnitOfWork:
        return UnitOfWork(sessions, clock)

    run = uuid.uuid4().hex[:8]
    first_id = f"<bench-first-{run}@example.org>"
    async with new_uow() as uow:
        await file_request(
            uow,
            policies["worcester-ma"],
            NewRequest("mail", "ann@example.org", "Ann", "Trees", "x", clock.now(), first_id),
            SECRET,
        )
        await uow.commit()
    dsn = plain_postgres_dsn(database_url)
    for n in range(count):
        await store(dsn, message(run, n, first_id), "records@worcester-ma.example")

    rooms = [MailRoom(new_uow, policies, SECRET) for _ in range(workers)]
    deadline = time.perf_counter() + max_seconds

    async def drain(room: MailRoom) -> int:
        handled = 0
        while time.perf_counter() < deadline and await room.process_next() is not None:
            handled += 1
        return handled

    started = time.perf_counter()
    handled = sum(await asyncio.gather(*(drain(room) for room in rooms)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    print(f"mailroom/{workers}     {handled:6d} messages  {handled / elapsed:8.1f} msg/s")


async def main(count: int, max_seconds: float) -> None:
    settings = Settings()
    configure_logging("WARNING")
    name = f"recordsdesk_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(settings.database_url).set(database=name).render_as_string(hide_password=False)
    await ensure_database(url)
    try:
        await asyncio.to_thread(upgrade, url)
        policies = PolicyBook.load(settings.policy_dir)
        bench_parse(max_seconds)
        for workers in (1, 2):
            await bench_mailroom(url, policies, count, workers, max_seconds)
    finally:
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.max_seconds))
