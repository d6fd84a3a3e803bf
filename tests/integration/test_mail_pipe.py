"""`recordsdesk mail` as the MTA runs it: a subprocess reading one message on stdin."""

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.intake.mailroom import MailRoom
from shared.runtime import load_resources, open_database
from tests.proxy import OnOffProxy

pytestmark = pytest.mark.integration

RECORDSDESK = Path(sys.executable).with_name("recordsdesk")
MAIL = (
    b"From: Carol <carol@example.org>\r\n"
    b"To: publicrecords@cary-nc.example\r\n"
    b"Subject: Building permits 2025\r\n"
    b"Message-ID: <permits@example.org>\r\n"
    b"\r\n"
    b"All building permits issued in 2025, as CSV.\r\n"
)


async def pipe_mail(database_url: str, raw: bytes) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(RECORDSDESK),
        "mail",
        "--recipient",
        "publicrecords@cary-nc.example",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"RECORDSDESK_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
    )
    _, err = await asyncio.wait_for(process.communicate(raw), timeout=60)
    return process.returncode or 0, err.decode()


async def test_mail_piped_while_database_down_exits_75_and_is_filed_once_after(
    settings, clean
) -> None:  # type: ignore[no-untyped-def]
    url = make_url(settings.database_url)
    proxy = OnOffProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.up()
    through_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
    await proxy.down()

    code, err = await pipe_mail(through_proxy, MAIL)
    assert code == 75, err
    assert "try again later" in err

    await proxy.up()  # the database is back; the MTA retries, maybe more than once
    try:
        assert (await pipe_mail(through_proxy, MAIL))[0] == 0
        assert (await pipe_mail(through_proxy, MAIL))[0] == 0
    finally:
        await proxy.down()

    async with open_database(settings) as (engine, _):
        resources = load_resources(settings, engine)
        mailroom = MailRoom(resources.new_uow, resources.policies, settings.secret_key)
        assert await mailroom.drain() == 1
        async with resources.new_uow() as uow:
            refs = (await uow.session.execute(text("SELECT ref FROM requests"))).scalars().all()
            stored = (
                await uow.session.execute(text("SELECT count(*) FROM inbound_mail"))
            ).scalar_one()
    assert refs == ["CARY-2026-000001"]
    assert stored == 1


async def test_malformed_mail_is_stored_and_quarantined_not_rejected(settings, clean) -> None:  # type: ignore[no-untyped-def]
    code, err = await pipe_mail(settings.database_url, b"this is not\x00 a mail \xff\xfe at all")
    assert code == 0, err
    async with open_database(settings) as (engine, _):
        resources = load_resources(settings, engine)
        await MailRoom(resources.new_uow, resources.policies, settings.secret_key).drain()
        async with resources.new_uow() as uow:
            row = (
                await uow.session.execute(text("SELECT status, outcome, raw FROM inbound_mail"))
            ).one()
    assert row.status == "quarantined"
    assert "From" in row.outcome
    assert row.raw == b"this is not\x00 a mail \xff\xfe at all"


async def test_staff_see_quarantined_mail_with_its_reason(settings, clean) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from services.api.app import create_api
    from services.api.auth import add_staff

    await pipe_mail(settings.database_url, b"no headers at all")
    async with open_database(settings) as (engine, _):
        resources = load_resources(settings, engine)
        await MailRoom(resources.new_uow, resources.policies, settings.secret_key).drain()
        async with resources.new_uow() as uow:
            token = await add_staff(uow, "clerk@city.example", "clerk")
            await uow.commit()
        transport = httpx.ASGITransport(app=create_api(resources))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            answer = await client.get(
                "/v1/inbound-mail",
                params={"status": "quarantined"},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert answer.status_code == 200
    [row] = answer.json()
    assert row["status"] == "quarantined" and "From" in row["outcome"]
