"""Shared fixtures: one database and one broker NAMESPACE per test run, dropped after."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aio_pika
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.engine import make_url

from shared.db.admin import drop_database, ensure_database
from shared.db.migrations import upgrade
from shared.settings import Settings
from shared.topology import SERVICES, Topology, delete
from tests.services import ServiceUrls, find_services

FIXTURES = Path(__file__).parent / "fixtures"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def service_urls() -> Iterator[ServiceUrls]:
    with ExitStack() as stack:
        found = find_services(stack)
        if isinstance(found, str):
            pytest.skip(found)
        yield found


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def database_url(service_urls: ServiceUrls, run_id: str) -> Iterator[str]:
    url = make_url(service_urls.database_url).set(
        drivername="postgresql+asyncpg", database=f"recordsdesk_test_{run_id}"
    )
    rendered = url.render_as_string(hide_password=False)
    asyncio.run(ensure_database(rendered))
    upgrade(rendered)
    yield rendered
    asyncio.run(drop_database(rendered))


@pytest.fixture(scope="session")
def namespace(service_urls: ServiceUrls, run_id: str) -> Iterator[str]:
    ns = f"test-{run_id}."
    yield ns
    asyncio.run(delete(service_urls.amqp_url, Topology(namespace=ns)))


class SmtpSink:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.replies: list[str] = []  # scripted answers to DATA, e.g. "451 try later"

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        if self.replies:
            return self.replies.pop(0)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@contextmanager
def serving_smtp(handler: SmtpSink) -> Iterator[int]:
    """A real aiosmtpd server on a free loopback port, for the duration of the block."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def smtp_sink() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    with serving_smtp(sink) as port:
        yield sink, port


@pytest.fixture
def settings(service_urls: ServiceUrls, database_url: str, namespace: str) -> Settings:
    return Settings(
        amqp_url=service_urls.amqp_url,
        database_url=database_url,
        namespace=namespace,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        http_port=free_port(),
        retry_delay_ms=200,
        max_delivery_attempts=3,
        relay_poll_seconds=0.5,
        mail_poll_seconds=0.5,
        timer_poll_seconds=0.5,
        secret_key="test-secret",
    )


@pytest.fixture
async def clean(settings: Settings) -> AsyncIterator[None]:
    """Empty tables and queues, so each test sees only its own requests and messages."""
    from shared.db.engine import make_engine

    engine = make_engine(settings.database_url, pool_size=1)
    async with engine.begin() as connection:
        tables = (
            await connection.execute(
                text(
                    "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables"
                    " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            )
        ).scalar_one()
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
    await engine.dispose()
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        topology = Topology(namespace=settings.namespace)
        for service in SERVICES:
            for name in (
                topology.queue_name(service),
                topology.retry_queue_name(service),
                topology.dead_queue_name(service),
            ):
                try:
                    queue = await channel.get_queue(name, ensure=True)
                    await queue.purge()
                except aio_pika.exceptions.ChannelClosed:
                    channel = await connection.channel()
    yield


async def eventually(check, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `check` (sync or async) until it returns a truthy value, or fail after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
