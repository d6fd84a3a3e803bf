"""Nothing lost, nothing twice: each guarantee against the real broker and database."""

import asyncio
import itertools
import random
from uuid import uuid4

import aio_pika
import httpx
import pytest
from faststream.rabbit import RabbitBroker
from sqlalchemy import text

from services.api.app import create_api
from services.api.auth import add_staff
from services.intake.mail_drop import store
from shared.delivery import subscribe
from shared.events import Envelope, RequestFiled
from shared.outbox import OutboxRelay
from shared.runtime import load_resources, open_database
from shared.settings import Settings
from shared.topology import Topology, declare, make_broker
from shared.unit_of_work import UnitOfWork
from tests.conftest import eventually
from tests.harness import running

pytestmark = pytest.mark.integration

MAIL = (
    b"From: Alice Resident <alice@example.org>\r\n"
    b"To: records@worcester-ma.example\r\n"
    b"Subject: Street tree inventory\r\n"
    b"Message-ID: <tree-2@example.org>\r\n"
    b"\r\n"
    b"Please send the street tree inventory as CSV.\r\n"
)


async def scalar(resources, sql: str, **params):  # type: ignore[no-untyped-def]
    async with resources.new_uow() as uow:
        return (await uow.session.execute(text(sql), params)).scalar_one()


def filed(n: int = 0) -> RequestFiled:
    return RequestFiled(
        channel="web",
        requester_email=f"r{n}@example.org",
        subject=f"ask {n}",
        body="please",
        received_at="2026-11-23T15:00:00Z",  # type: ignore[arg-type]
    )


async def queue_depth(amqp_url: str, name: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)


async def test_redelivered_events_change_nothing_and_send_no_second_mail(
    settings, clean, smtp_sink
) -> None:  # type: ignore[no-untyped-def]
    sink, settings.smtp_port = smtp_sink
    async with running(settings, ["intake", "review", "notify"]) as resources:
        await store(settings.postgres_dsn, MAIL)
        await eventually(
            lambda: scalar(
                resources, "SELECT count(*) FROM events WHERE type = 'NotificationSent'"
            ),
            what="the receipt to be recorded",
        )
        before = await scalar(resources, "SELECT count(*) FROM events")
        timers_before = await scalar(resources, "SELECT count(*) FROM timers")
        handled = {name: inbox.outcomes["handled"] for name, inbox in resources.inboxes.items()}
        async with resources.new_uow() as uow:
            published = (
                await uow.session.execute(text("SELECT routing_key, body FROM outbox"))
            ).all()
        assert len(published) == 2  # RequestFiled -> review, DeadlinesSet -> notify
        for row in published:  # what the broker does after a lost ack: deliver again
            envelope = Envelope.from_bytes(row.body)
            await resources.broker.publish(
                row.body,
                exchange=resources.topology.exchange,
                routing_key=row.routing_key,
                mandatory=True,
                persist=True,
                message_id=str(envelope.event_id),
            )
        await eventually(
            lambda: all(
                inbox.outcomes["handled"] == handled[name] + 1
                for name, inbox in resources.inboxes.items()
            ),
            what="both redeliveries to be handled",
        )
        assert await scalar(resources, "SELECT count(*) FROM events") == before
        assert await scalar(resources, "SELECT count(*) FROM timers") == timers_before
        assert len(sink.messages) == 1


async def test_two_relays_publish_every_outbox_row_exactly_once(settings, clean) -> None:  # type: ignore[no-untyped-def]
    rows = 300
    async with open_database(settings) as (engine, _):
        resources = load_resources(settings, engine)
        for start in range(0, rows, 50):
            async with resources.new_uow() as uow:
                for n in range(start, start + 50):
                    uow.record(filed(n), jurisdiction="cary-nc", request_ref=f"CARY-2026-{n:06d}")
                await uow.commit()
        brokers = [make_broker(settings), make_broker(settings)]
        for broker in brokers:
            await broker.connect()
        await declare(brokers[0], resources.topology)
        relays = [
            OutboxRelay(resources.sessions, b, resources.topology, resources.clock, batch_size=7)
            for b in brokers
        ]
        counts = await asyncio.gather(*(relay.drain() for relay in relays))
        for broker in brokers:
            await broker.stop()
        assert sum(counts) == rows
        assert all(c > 0 for c in counts), "both relays should have taken part"
        assert (
            await scalar(resources, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        )

    queue = resources.topology.queue_name("review")
    await eventually(lambda: _depth_is(settings.amqp_url, queue, rows), what=f"{rows} messages")
    ids = await _drain_message_ids(settings.amqp_url, queue, rows)
    assert len(ids) == rows and len(set(ids)) == rows


async def _depth_is(amqp_url: str, queue: str, expected: int) -> bool:
    return await queue_depth(amqp_url, queue) == expected


async def _drain_message_ids(amqp_url: str, name: str, expected: int) -> list[str]:
    connection = await aio_pika.connect(amqp_url)
    ids: list[str] = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(name)
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            ids.append(str(message.message_id))
    return ids


async def test_failing_handler_parks_message_in_dead_letter_queue_after_bounded_attempts(
    settings, clean
) -> None:  # type: ignore[no-untyped-def]
    topology = Topology.from_settings(settings)
    broker = make_broker(settings)
    attempts: list[float] = []

    async def always_fails(envelope: Envelope) -> None:
        attempts.append(asyncio.get_running_loop().time())
        raise RuntimeError("the handler is broken")

    inbox = subscribe(broker, topology, "review", always_fails, settings.max_delivery_attempts)
    await _start(broker, topology)
    try:
        await _publish(broker, topology, _envelope())
        dead = topology.dead_queue_name("review")
        await eventually(lambda: _depth_is(settings.amqp_url, dead, 1), what="the dead letter")
    finally:
        await broker.stop()
    assert len(attempts) == settings.max_delivery_attempts
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert min(gaps) >= settings.retry_delay_ms / 1000 * 0.9, "retries must wait, not spin"
    assert inbox.outcomes == {"retried": settings.max_delivery_attempts - 1, "parked": 1}
    assert await queue_depth(settings.amqp_url, topology.queue_name("review")) == 0
    assert await queue_depth(settings.amqp_url, topology.retry_queue_name("review")) == 0


async def _start(broker: RabbitBroker, topology: Topology) -> None:
    await broker.connect()
    await declare(broker, topology)
    await broker.start()


async def _publish(broker: RabbitBroker, topology: Topology, envelope: Envelope) -> None:
    """What the outbox relay does for one event."""
    await broker.publish(
        envelope.to_bytes(),
        exchange=topology.exchange,
        routing_key=envelope.routing_key,
        mandatory=True,
        persist=True,
        message_id=str(envelope.event_id),
        message_type=envelope.type,
    )


def _envelope(routing_jurisdiction: str = "worcester-ma") -> Envelope:
    from shared.events import PendingEvent

    pending = PendingEvent(
        event=filed(),
        occurred_at="2026-11-23T15:00:00Z",  # type: ignore[arg-type]
        jurisdiction=routing_jurisdiction,
        request_ref="WOR-2026-000009",
        correlation_id=uuid4(),
    )
    return pending.envelope(sequence=1)


async def test_unroutable_publish_is_an_error_and_the_row_stays_unpublished(
    settings, clean
) -> None:  # type: ignore[no-untyped-def]
    async with open_database(settings) as (engine, _):
        resources = load_resources(settings, engine)
        broker = resources.broker
        await broker.connect()
        await declare(broker, resources.topology)
        try:
            with pytest.raises(Exception, match="NO_ROUTE"):
                await broker.publish(
                    b"{}",
                    exchange=resources.topology.exchange,
                    routing_key="nowhere.nothing.listens",
                    mandatory=True,
                )
            envelope = _envelope()
            async with resources.new_uow() as uow:
                await uow.session.execute(
                    text(
                        "INSERT INTO outbox (event_id, routing_key, body, created_at, next_attempt_at, attempts)"
                        " VALUES (:id, 'nowhere.unknown.event', :body, now(), now(), 0)"
                    ),
                    {"id": envelope.event_id, "body": envelope.to_bytes()},
                )
                await uow.commit()
            relay = OutboxRelay(resources.sessions, broker, resources.topology, resources.clock)
            assert await relay.publish_pending() == 0
            async with resources.new_uow() as uow:
                row = (await uow.session.execute(text("SELECT * FROM outbox"))).one()
            assert row.published_at is None
            assert row.attempts == 1
            assert "NO_ROUTE" in row.last_error
            assert row.next_attempt_at > resources.clock.now()
        finally:
            await broker.stop()


async def test_event_log_reader_never_skips_an_event_under_concurrent_writers(
    settings, clean, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Writers commit out of order (a pause between numbering and commit); a dashboard paging
    with `after=` must still see every event exactly once, in order."""
    original_append = UnitOfWork._append

    async def slow_append(session, pending):  # type: ignore[no-untyped-def]
        envelope = await original_append(session, pending)
        await asyncio.sleep(random.uniform(0, 0.005))
        return envelope

    monkeypatch.setattr(UnitOfWork, "_append", staticmethod(slow_append))
    writers, per_writer = 6, 20
    async with open_database(settings) as (engine, _):
        resources = load_resources(settings, engine)
        async with resources.new_uow() as uow:
            token = await add_staff(uow, "dash@example.org", "auditor")
            await uow.commit()
        transport = httpx.ASGITransport(app=create_api(resources))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            done = asyncio.Event()
            seen: list[int] = []

            async def write(w: int) -> None:
                for n in range(per_writer):
                    async with resources.new_uow() as uow:
                        uow.record(
                            filed(n),
                            jurisdiction="cary-nc",
                            request_ref=f"CARY-2026-{w:03d}{n:03d}",
                        )
                        await uow.commit()

            async def read() -> None:
                after = 0
                while True:
                    finished = done.is_set()
                    page = (
                        await client.get("/v1/events", params={"after": after, "limit": 7})
                    ).json()
                    seen.extend(e["sequence"] for e in page["events"])
                    after = page["next_after"]
                    if finished and not page["events"]:
                        return

            reader = asyncio.create_task(read())
            await asyncio.gather(*(write(w) for w in range(writers)))
            done.set()
            await reader
        total = await scalar(resources, "SELECT count(*) FROM events")
    assert total == writers * per_writer
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert len(seen) == total, f"the reader skipped {total - len(seen)} events"


def test_settings_are_isolated_per_run(settings: Settings) -> None:
    assert settings.namespace.startswith("test-")
    assert "recordsdesk_test_" in settings.database_url
    assert isinstance(make_broker(settings), RabbitBroker)


async def test_parked_message_is_listed_and_replayed_to_its_service_once_fixed(
    settings, clean
) -> None:  # type: ignore[no-untyped-def]
    from shared.dead_letters import peek, replay

    topology = Topology.from_settings(settings)
    broker = make_broker(settings)
    broken = True
    handled: list[str] = []

    async def handler(envelope: Envelope) -> None:
        if broken:
            raise RuntimeError("a bug, fixed later")
        handled.append(str(envelope.event_id))

    subscribe(broker, topology, "review", handler, settings.max_delivery_attempts)
    await _start(broker, topology)
    try:
        envelope = _envelope()
        await _publish(broker, topology, envelope)
        dead = topology.dead_queue_name("review")
        await eventually(lambda: _depth_is(settings.amqp_url, dead, 1), what="the dead letter")
        total, parked = await peek(settings.amqp_url, topology, "review")
        assert total == 1
        assert parked[0].message_id == str(envelope.event_id)
        assert parked[0].type == "RequestFiled"
        assert await queue_depth(settings.amqp_url, dead) == 1  # peeking leaves it parked

        broken = False  # the fix is deployed
        assert await replay(settings.amqp_url, topology, "review") == 1
        await eventually(lambda: handled, what="the replayed message to be handled")
        assert handled == [str(envelope.event_id)]
        assert await queue_depth(settings.amqp_url, dead) == 0
    finally:
        await broker.stop()
