"""kill -9 the review process while timers are due; after a restart every timer has fired
exactly once: one Escalated event and one email each."""

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.clock import SystemClock
from tests.conftest import eventually
from tests.harness import running

pytestmark = pytest.mark.integration

RECORDSDESK = str(Path(sys.executable).with_name("recordsdesk"))
REQUESTS = 40


def start_review(settings, log: Path) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "RECORDSDESK_AMQP_URL": settings.amqp_url,
        "RECORDSDESK_DATABASE_URL": settings.database_url,
        "RECORDSDESK_NAMESPACE": settings.namespace,
        "RECORDSDESK_RETRY_DELAY_MS": str(settings.retry_delay_ms),
        "RECORDSDESK_TIMER_POLL_SECONDS": "0.2",
        "RECORDSDESK_RELAY_POLL_SECONDS": "0.2",
    }
    return subprocess.Popen(
        [RECORDSDESK, "run", "review"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


async def count(resources, sql: str) -> int:  # type: ignore[no-untyped-def]
    async with resources.new_uow() as uow:
        return int((await uow.session.execute(text(sql))).scalar_one())


async def test_killed_review_process_fires_every_due_timer_exactly_once_after_restart(
    settings, clean, smtp_sink, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.review.conftest import Desk

    sink, settings.smtp_port = smtp_sink
    # notify runs here; review runs as its own process, which this test kills
    async with running(settings, ["notify"], SystemClock()) as resources:
        desk = Desk(resources, SystemClock(), None, {})  # type: ignore[arg-type]
        long_ago = SystemClock().now() - timedelta(days=30)
        # filed a month ago: their acknowledgment timers are due the moment review creates them
        review = start_review(settings, tmp_path / "review.log")
        try:
            refs = [await _file(resources, long_ago) for _ in range(REQUESTS)]
            await eventually(
                lambda: count(resources, "SELECT count(*) FROM events WHERE type = 'Escalated'"),
                timeout=60,
                interval=0.01,
                what="the first escalation",
            )
        finally:
            review.send_signal(signal.SIGKILL)
            await asyncio.to_thread(review.wait, 30)
        fired_before_kill = await count(
            resources, "SELECT count(*) FROM events WHERE type = 'Escalated'"
        )

        review = start_review(settings, tmp_path / "review.log")
        try:
            await eventually(
                lambda: _all_escalated(resources, refs),
                timeout=90,
                interval=0.2,
                what="every request escalated after the restart",
            )
        finally:
            review.send_signal(signal.SIGTERM)
            try:
                # waiting must not block this event loop: notify runs on it
                await asyncio.to_thread(review.wait, 30)
            except subprocess.TimeoutExpired:
                review.kill()
                log = (tmp_path / "review.log").read_text()[-3000:]
                raise AssertionError(
                    f"review did not stop on SIGTERM; its log ends:\n{log}"
                ) from None
        # each Escalated event (acknowledgment, and response: these requests are a month old)
        escalated = await count(resources, "SELECT count(*) FROM events WHERE type = 'Escalated'")
        await eventually(
            lambda: len(_to_records_officer(sink)) >= escalated,
            timeout=60,
            what="one email per escalation",
        )

    for ref in refs:
        escalations = [
            e for e in await desk.events(ref, "Escalated") if e.data["clock"] == "acknowledgment"
        ]
        assert len(escalations) == 1, (ref, escalations)
    escalation_mails = _to_records_officer(sink)
    assert len(escalation_mails) == escalated
    assert len({m["Message-ID"] for m in escalation_mails}) == escalated
    assert 0 < fired_before_kill <= REQUESTS


def _to_records_officer(sink) -> list:  # type: ignore[no-untyped-def]
    return [m for m in sink.messages if "rao@worcester-ma.example" in str(m["To"])]


async def _all_escalated(resources, refs: list[str]) -> bool:  # type: ignore[no-untyped-def]
    n = await count(
        resources, "SELECT count(DISTINCT request_ref) FROM events WHERE type = 'Escalated'"
    )
    return n == len(refs)


async def _file(resources, received_at) -> str:  # type: ignore[no-untyped-def]
    from services.intake.filing import NewRequest, file_request

    policy = resources.policies["worcester-ma"]
    async with resources.new_uow() as uow:
        filed = await file_request(
            uow,
            policy,
            NewRequest(
                channel="web",
                requester_email="resident@example.org",
                requester_name="R",
                subject="Street tree inventory",
                body="Street tree inventory, CSV, 2020-2025",
                received_at=received_at,
            ),
            "test-secret",
        )
        await uow.commit()
    return filed.ref


async def test_two_review_processes_fire_each_due_timer_exactly_once(
    settings, clean, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.review.conftest import Desk

    async with running(settings, [], SystemClock()) as resources:
        desk = Desk(resources, SystemClock(), None, {})  # type: ignore[arg-type]
        long_ago = SystemClock().now() - timedelta(days=30)
        refs = [await _file(resources, long_ago) for _ in range(REQUESTS)]
        reviews = [start_review(settings, tmp_path / f"review-{n}.log") for n in range(2)]
        try:
            await eventually(
                lambda: _all_escalated(resources, refs),
                timeout=90,
                interval=0.2,
                what="every request escalated by one of the two review processes",
            )
        finally:
            for review in reviews:
                review.send_signal(signal.SIGTERM)
            for review in reviews:
                await asyncio.to_thread(review.wait, 30)
        for ref in refs:
            for clock in ("acknowledgment", "response"):
                fired = [e for e in await desk.events(ref, "Escalated") if e.data["clock"] == clock]
                assert len(fired) <= 1, (ref, clock, fired)
            assert any(
                e.data["clock"] == "acknowledgment" for e in await desk.events(ref, "Escalated")
            )
