"""The SMTP listener: a real SMTP conversation on loopback, storing into the real database."""

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiosmtplib
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.intake.smtp_listener import SmtpListener
from shared.clock import FixedClock
from shared.runtime import load_resources, open_database
from tests.conftest import eventually, free_port
from tests.harness import running
from tests.proxy import OnOffProxy

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
MAIL = (
    b"From: Bob Builder <bob@example.org>\r\n"
    b"To: publicrecords@cary-nc.example\r\n"
    b"Subject: Building permits 2025\r\n"
    b"Message-ID: <smtp-permits@example.org>\r\n"
    b"\r\n"
    b"All building permits issued in 2025, as CSV.\r\n"
)


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def rows(settings) -> list:  # type: ignore[no-untyped-def]
    async with open_database(settings) as (engine, _), engine.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT envelope_recipient, source, raw, received_at FROM inbound_mail ORDER BY id"
            )
        )
        return list(result.all())


@pytest.fixture
async def listener(settings, clean) -> AsyncIterator[SmtpListener]:  # type: ignore[no-untyped-def]
    server = SmtpListener(plain_dsn(settings.database_url), FixedClock(NOW), "127.0.0.1", 0, 64_000)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def send(port: int, raw: bytes, recipients: list[str]) -> aiosmtplib.SMTPResponse:
    errors, reply = await aiosmtplib.send(
        raw,
        sender="bob@example.org",
        recipients=recipients,
        hostname="127.0.0.1",
        port=port,
        timeout=30,
    )
    assert errors == {}
    return reply  # type: ignore[return-value]


async def test_each_envelope_recipient_gets_its_own_stored_copy_before_250(
    settings, listener
) -> None:  # type: ignore[no-untyped-def]
    reply = await send(
        listener.port, MAIL, ["publicrecords@cary-nc.example", "records@worcester-ma.example"]
    )

    assert reply.startswith("2.0.0 Stored")
    stored = await rows(settings)  # committed by the time 250 was said: no waiting
    assert [r.envelope_recipient for r in stored] == [
        "publicrecords@cary-nc.example",
        "records@worcester-ma.example",
    ]
    assert {r.source for r in stored} == {"smtp"}
    assert all(r.raw == MAIL for r in stored)  # the bytes as sent
    assert {r.received_at for r in stored} == {NOW}  # the injected clock


async def test_the_same_message_sent_again_is_stored_once(settings, listener) -> None:  # type: ignore[no-untyped-def]
    await send(listener.port, MAIL, ["publicrecords@cary-nc.example"])
    await send(listener.port, MAIL, ["publicrecords@cary-nc.example"])
    assert len(await rows(settings)) == 1


async def test_451_while_the_database_is_down_so_the_sender_retries_then_250(
    settings, clean
) -> None:  # type: ignore[no-untyped-def]
    url = make_url(settings.database_url)
    proxy = OnOffProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.up()
    through_proxy = plain_dsn(url.set(port=proxy.port).render_as_string(hide_password=False))
    await proxy.down()
    server = SmtpListener(through_proxy, FixedClock(NOW), "127.0.0.1", 0, 64_000)
    await server.start()
    try:
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await send(server.port, MAIL, ["publicrecords@cary-nc.example"])
        assert refused.value.code == 451
        assert "try again later" in refused.value.message

        await proxy.up()  # the database is back; the sender's retry is accepted
        try:
            reply = await send(server.port, MAIL, ["publicrecords@cary-nc.example"])
        finally:
            await proxy.down()
    finally:
        await server.stop()
    assert reply.startswith("2.0.0")
    assert len(await rows(settings)) == 1


async def test_a_message_over_the_size_limit_is_refused_with_552(settings, listener) -> None:  # type: ignore[no-untyped-def]
    big = MAIL + b"x" * 70_000 + b"\r\n"
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await send(listener.port, big, ["publicrecords@cary-nc.example"])
    assert refused.value.code == 552
    assert await rows(settings) == []


async def test_mail_sent_to_the_listener_inside_run_intake_becomes_a_request(
    settings, clean
) -> None:  # type: ignore[no-untyped-def]
    settings.smtp_listen_port = free_port()
    settings.imap_host = None
    async with running(settings, ["intake"], FixedClock(NOW)) as resources:

        def listening() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", settings.smtp_listen_port), 1):
                    return True
            except OSError:
                return False

        await eventually(listening, what="the SMTP listener")
        await send(settings.smtp_listen_port, MAIL, ["publicrecords@cary-nc.example"])

        async def filed() -> list[tuple[str, str]]:
            async with resources.new_uow() as uow:
                result = await uow.session.execute(text("SELECT ref, kind FROM requests"))
                return [tuple(r) for r in result.all()]

        assert await eventually(filed, what="the request") == [("CARY-2026-000001", "extract")]


def test_the_listener_is_off_unless_its_port_is_set(settings) -> None:  # type: ignore[no-untyped-def]
    from services.intake.service import attach_intake

    async def workers(port: int | None) -> int:
        settings.smtp_listen_port = port
        settings.imap_host = None
        async with open_database(settings) as (engine, _):
            resources = load_resources(settings, engine)
            attach_intake(resources)
            return len(resources.workers)

    assert asyncio.run(workers(2525)) == asyncio.run(workers(None)) + 1
