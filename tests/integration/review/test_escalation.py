"""Escalation timers: on the right business day, once, and cancelled by acknowledgment."""

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from services.review.service import timer_firing
from shared.runtime import load_resources, open_database

pytestmark = pytest.mark.integration

RECORDSDESK = str(Path(sys.executable).with_name("recordsdesk"))
# Friday 16 April 2027, 10:00 in Worcester; Monday 19 April is Patriots' Day.
FRIDAY_BEFORE_PATRIOTS_DAY = datetime(2027, 4, 16, 14, 0, tzinfo=UTC)


async def fire_at(settings, instant: str) -> str:  # type: ignore[no-untyped-def]
    """`recordsdesk timers fire --now` as ops and tests run it."""
    process = await asyncio.create_subprocess_exec(
        RECORDSDESK,
        "timers",
        "fire",
        "--now",
        instant,
        env={
            "RECORDSDESK_DATABASE_URL": settings.database_url,
            "RECORDSDESK_AMQP_URL": settings.amqp_url,
            "RECORDSDESK_NAMESPACE": settings.namespace,
            "PATH": "/usr/bin:/bin",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()[-2000:]
    return out.decode()


async def test_request_filed_friday_before_a_monday_holiday_escalates_on_the_right_day(
    desk, settings
) -> None:  # type: ignore[no-untyped-def]
    desk.clock.set(FRIDAY_BEFORE_PATRIOTS_DAY)
    ref = await desk.file(received_at=FRIDAY_BEFORE_PATRIOTS_DAY)
    row = await desk.row(ref)
    assert str(row.ack_due_on) == "2027-04-21"  # Tue 20th is day 1, Wed 21st day 2

    assert "fired 0" in await fire_at(settings, "2027-04-21T23:59:00-04:00")
    assert await desk.events(ref, "Escalated") == []
    assert "fired 1" in await fire_at(settings, "2027-04-22T00:00:00-04:00")
    [escalated] = await desk.events(ref, "Escalated")
    assert escalated.data["level"] == 1
    assert escalated.data["notify"] == ["rao@worcester-ma.example"]
    assert escalated.data["business_days_late"] == 1
    assert "not acknowledged within 2 business days" in escalated.data["reason"]


async def test_acknowledgment_after_the_first_escalation_stops_the_second(desk, settings) -> None:  # type: ignore[no-untyped-def]
    desk.clock.set(FRIDAY_BEFORE_PATRIOTS_DAY)
    ref = await desk.file(received_at=FRIDAY_BEFORE_PATRIOTS_DAY)
    await fire_at(settings, "2027-04-22T00:00:00-04:00")
    assert len(await desk.events(ref, "Escalated")) == 1
    desk.clock.set(datetime(2027, 4, 22, 14, 0, tzinfo=UTC))
    assert (await desk.decide(ref, "clerk", decision="acknowledge")).status_code == 202
    await fire_at(settings, "2027-05-31T00:00:00-04:00")
    escalations = await desk.events(ref, "Escalated")
    assert [e.data["level"] for e in escalations if e.data["clock"] == "acknowledgment"] == [1]


async def test_unacknowledged_request_climbs_the_whole_chain_once_per_level(desk, settings) -> None:  # type: ignore[no-untyped-def]
    desk.clock.set(FRIDAY_BEFORE_PATRIOTS_DAY)
    ref = await desk.file(received_at=FRIDAY_BEFORE_PATRIOTS_DAY)
    for day in ("2027-04-22", "2027-04-26", "2027-04-29", "2027-05-20"):
        await fire_at(settings, f"{day}T08:00:00-04:00")
    levels = [
        (e.data["level"], e.data["title"])
        for e in await desk.events(ref, "Escalated")
        if e.data["clock"] == "acknowledgment"
    ]
    assert levels == [(1, "Records Access Officer"), (2, "City Clerk"), (3, "City Solicitor")]


async def test_two_review_instances_fire_each_due_timer_exactly_once(desk, settings) -> None:  # type: ignore[no-untyped-def]
    desk.clock.set(FRIDAY_BEFORE_PATRIOTS_DAY)
    refs = [await desk.file(received_at=FRIDAY_BEFORE_PATRIOTS_DAY) for _ in range(12)]
    desk.clock.set(datetime(2027, 4, 22, 4, 0, tzinfo=UTC))  # Thu 00:00 in Worcester
    async with open_database(settings) as (engine_a, _), open_database(settings) as (engine_b, _):
        instances = [
            timer_firing(load_resources(settings, e, desk.clock)) for e in (engine_a, engine_b)
        ]
        fired = await asyncio.gather(*(i.fire_due() for i in instances))
    assert sum(fired) > 0  # the desk's own review loop is a third instance and may fire some too
    for ref in refs:
        assert (
            len(
                [
                    e
                    for e in await desk.events(ref, "Escalated")
                    if e.data["clock"] == "acknowledgment"
                ]
            )
            == 1
        )
    async with desk.resources.new_uow() as uow:
        left = (
            await uow.session.execute(
                text(
                    "SELECT count(*) FROM timers WHERE kind = 'acknowledgment' AND status = 'pending' AND due_at <= :now"
                ),
                {"now": desk.clock.now()},
            )
        ).scalar_one()
    assert left == 0


async def test_clarification_unanswered_reminds_then_closes_as_abandoned(desk, settings) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()  # Monday 2026-11-23
    await desk.decide(ref, "clerk", decision="clarify", questions=["Which years?"])
    await fire_at(
        settings, "2026-12-02T00:00:00-05:00"
    )  # 5 business days later (Thanksgiving skipped)
    [reminder] = await desk.events(ref, "ReminderDue")
    assert reminder.data["audience"] == "requester" and reminder.data["recipients"] == [
        "resident@example.org"
    ]
    await fire_at(settings, "2026-12-23T00:00:00-05:00")  # 20 business days
    [closed] = await desk.events(ref, "Closed")
    assert closed.data["reason"] == "abandoned"
    assert (await desk.row(ref)).state == "closed"


async def test_response_overdue_escalates_and_the_assignee_is_reminded_before(
    desk, settings
) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()  # response due Tuesday 2026-12-08
    await desk.decide(ref, "clerk", decision="acknowledge")
    await desk.decide(ref, "clerk", decision="assign", assignee="analyst@city.example")
    await fire_at(settings, "2026-12-04T00:00:00-05:00")  # two business days before: Fri 4th
    [reminder] = await desk.events(ref, "ReminderDue")
    assert reminder.data["recipients"] == ["analyst@city.example"]
    await fire_at(settings, "2026-12-08T23:00:00-05:00")
    assert [e for e in await desk.events(ref, "Escalated")] == []
    await fire_at(settings, "2026-12-09T00:00:00-05:00")
    [escalated] = await desk.events(ref, "Escalated")
    assert escalated.data["clock"] == "response"
    assert "analyst@city.example" in escalated.data["notify"]


def test_timer_handlers_cover_every_kind_review_schedules() -> None:
    from services.review.escalation import Escalation
    from shared.policy import PolicyBook

    kinds = set(
        Escalation(PolicyBook.load(Path(__file__).parents[3] / "shared" / "policies")).handlers()
    )
    scheduled = {
        "acknowledgment",
        "response_reminder",
        "response_overdue",
        "clarification_reminder",
        "clarification_abandon",
        "cost_reminder",
        "cost_abandon",
        "appeal_window",
    }
    assert scheduled <= kinds
