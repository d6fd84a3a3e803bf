"""`recordsdesk demo`: the whole pipeline on sample requests, printed as a table.

Runs every service in this process against the configured broker and database server, in
its own NAMESPACE and its own throwaway database, with a throwaway SMTP server on loopback that keeps the receipts. The clock
is fixed at Sunday 22 November 2026, 10:00 in Worcester, so the dates come out the same
every time (Thanksgiving falls inside the response period).
"""

import asyncio
import contextlib
import socket
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.api.auth import add_staff
from services.intake.mail_drop import store
from services.review.service import timer_firing
from services.runner import attach
from shared.clock import FixedClock
from shared.db.admin import drop_database, ensure_database
from shared.db.migrations import upgrade
from shared.runtime import load_resources, open_database, serve
from shared.settings import Settings
from shared.topology import delete

DEMO_NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
DEMO_ESCALATION_CHECK = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # Monday 00:00 in the towns


def _mail(sender: str, to: str, subject: str, body: str, extra: str = "") -> bytes:
    msg_id = f"<{uuid.uuid4().hex}@demo.example>"
    head = f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {msg_id}\r\n{extra}"
    return f"{head}\r\n{body}\r\n".encode()


SAMPLE_MAIL = [
    _mail(
        "Alice Resident <alice@example.org>",
        "records@worcester-ma.example",
        "Street tree inventory",
        "Please send the street tree inventory, with species and planting year, as CSV.",
    ),
    _mail(
        "Bob Builder <bob@example.org>",
        "opendata@cary-nc.example",
        "Building permits 2025",
        "All building permits issued in 2025 with address and valuation, as a spreadsheet.",
    ),
    _mail(
        "Alice Resident <alice@example.org>",
        "records@worcester-ma.example",
        "Out of office: Re: your request",
        "I am away until Monday.",
        "Auto-Submitted: auto-replied\r\n",
    ),
    _mail(
        "Mallory <mallory@example.org>",
        "someone-else@elsewhere.example",
        "Hello",
        "Not for any city we serve.",
    ),
]
SAMPLE_WEB = {
    "jurisdiction": "cary-nc",
    "email": "dev@startup.example",
    "name": "Casey Developer",
    "subject": "API access to transit stop data",
    "description": "An API key for bus stop locations, JSON, polled hourly for a trip planner.",
}


class _Inbox:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_demo(settings: Settings) -> int:
    inbox = _Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    run_id = uuid.uuid4().hex[:6]
    namespace = f"{settings.namespace}demo-{run_id}."
    # its own database too, so earlier demos (or real data) never show up in the table
    url = make_url(settings.database_url)
    database_url = url.set(database=f"{url.database}_demo_{run_id}").render_as_string(
        hide_password=False
    )
    await ensure_database(database_url)
    await asyncio.to_thread(upgrade, database_url)
    settings = settings.model_copy(
        update={
            "database_url": database_url,
            "namespace": namespace,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "http_host": "127.0.0.1",
            "http_port": _free_port(),
            "relay_poll_seconds": 0.5,
            "mail_poll_seconds": 0.5,
        }
    )
    settings.public_base_url = f"http://127.0.0.1:{settings.http_port}"
    try:
        async with open_database(settings) as (engine, _):
            resources = load_resources(settings, engine, FixedClock(DEMO_NOW))
            attach(resources, ["intake", "review", "notify", "api"])
            stop = asyncio.Event()
            server = asyncio.create_task(serve(resources, stop))
            await resources.started.wait()
            try:
                return await _drive(resources, settings, inbox)
            finally:
                stop.set()
                await server
                await delete(settings.amqp_url, resources.topology)
    finally:
        smtp.stop()
        await drop_database(database_url)


async def _drive(resources: Any, settings: Settings, inbox: _Inbox) -> int:
    mail_ids = [
        await store(settings.postgres_dsn, raw, received_at=DEMO_NOW) for raw in SAMPLE_MAIL
    ]
    async with httpx.AsyncClient(base_url=settings.public_base_url) as client:
        for _ in range(100):  # the API comes up a moment after the broker
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.1)
        posted = (await client.post("/v1/requests", json=SAMPLE_WEB)).json()
        refs = await _wait_for_receipts(resources, mail_ids, posted["reference"])
        await _staff_and_timers(resources, client, refs, posted["reference"])
    await _wait_until_mailed(resources)
    _print_report(await _rows(resources, refs), await _unfiled(resources, mail_ids), inbox)
    return 0


async def _staff_and_timers(
    resources: Any, client: httpx.AsyncClient, refs: list[str], web_ref: str
) -> None:
    """A clerk acknowledges Worcester's request, a reviewer releases the API access, and
    the clock moves to Monday 30 November: Cary's unacknowledged mail request escalates
    then, not on Thanksgiving or the day after (both North Carolina holidays)."""
    async with resources.new_uow() as uow:
        clerk = await add_staff(uow, f"clerk-{uuid.uuid4().hex[:6]}@demo.example", "clerk")
        reviewer = await add_staff(uow, f"reviewer-{uuid.uuid4().hex[:6]}@demo.example", "reviewer")
        await uow.commit()
    worcester = next(r for r in refs if r.startswith("WOR-"))
    await client.post(
        f"/v1/requests/{worcester}/decisions",
        json={"decision": "acknowledge", "note": "Checking with Parks."},
        headers={"Authorization": f"Bearer {clerk}"},
    )
    await client.post(
        f"/v1/requests/{web_ref}/decisions",
        json={"decision": "release", "links": ["https://data.cary-nc.example/transit-stops"]},
        headers={"Authorization": f"Bearer {reviewer}"},
    )
    resources.clock.set(DEMO_ESCALATION_CHECK)
    await timer_firing(resources).fire_due()


async def _wait_until_mailed(resources: Any) -> None:
    """Until every event that calls for mail has its notifications recorded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        async with resources.new_uow() as uow:
            waiting = (
                await uow.session.execute(
                    text(
                        "SELECT count(*) FROM events e WHERE e.type = ANY(:types)"
                        " AND NOT EXISTS (SELECT 1 FROM notifications n"
                        "  WHERE n.about_event_id = e.event_id AND n.status = 'sent')"
                    ),
                    {"types": ["Released", "ApiKeyIssued", "Escalated"]},
                )
            ).scalar_one()
        if waiting == 0:
            return
        await asyncio.sleep(0.2)
    raise SystemExit("demo: timed out waiting for the mails")


async def _wait_for_receipts(resources: Any, mail_ids: list[int | None], web_ref: str) -> list[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        async with resources.new_uow() as uow:
            refs = [
                r
                for (r,) in (
                    await uow.session.execute(
                        text("SELECT request_ref FROM inbound_mail WHERE id = ANY(:ids)"),
                        {"ids": [i for i in mail_ids if i]},
                    )
                ).all()
                if r
            ] + [web_ref]
            sent = (
                await uow.session.execute(
                    text(
                        "SELECT count(*) FROM events WHERE type = 'NotificationSent'"
                        " AND request_ref = ANY(:refs)"
                    ),
                    {"refs": refs},
                )
            ).scalar_one()
            pending = (
                await uow.session.execute(
                    text("SELECT count(*) FROM inbound_mail WHERE status = 'pending'")
                )
            ).scalar_one()
        if pending == 0 and sent >= len(refs):
            return refs
        if loop.time() > deadline:
            raise SystemExit("demo: timed out waiting for the receipts (is the broker up?)")
        await asyncio.sleep(0.2)


async def _rows(resources: Any, refs: list[str]) -> list[Any]:
    async with resources.new_uow() as uow:
        return list(
            (
                await uow.session.execute(
                    text(
                        "SELECT r.ref, r.channel, r.requester_email, r.ack_due_on, r.response_due_on,"
                        " (SELECT string_agg(e.type, ' > ' ORDER BY e.sequence) FROM events e"
                        "  WHERE e.request_ref = r.ref) AS events"
                        " FROM requests r WHERE r.ref = ANY(:refs) ORDER BY r.ref"
                    ),
                    {"refs": refs},
                )
            ).all()
        )


async def _unfiled(resources: Any, mail_ids: list[int | None]) -> list[Any]:
    async with resources.new_uow() as uow:
        return list(
            (
                await uow.session.execute(
                    text(
                        "SELECT id, status, outcome FROM inbound_mail"
                        " WHERE id = ANY(:ids) AND request_ref IS NULL ORDER BY id"
                    ),
                    {"ids": [i for i in mail_ids if i]},
                )
            ).all()
        )


def _print_report(rows: list[Any], unfiled: list[Any], inbox: _Inbox) -> None:
    print(f"RecordsDesk demo — the clock reads {DEMO_NOW:%A %Y-%m-%d %H:%M} UTC\n")
    header = f"{'REFERENCE':<18} {'VIA':<5} {'REQUESTER':<22} {'ACK DUE':<12} {'RESPONSE DUE':<12}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.ref:<18} {r.channel:<5} {r.requester_email:<22} "
            f"{r.ack_due_on:%a %m-%d}    {r.response_due_on:%a %m-%d}"
        )
        print(f"{'':<18} events: {r.events}")
    print("\nMail that did not become a request:")
    for m in unfiled:
        print(f"  inbound mail #{m.id}: {m.status} — {m.outcome}")
    print(
        f"\nThen a clerk acknowledged the Worcester request, a reviewer released the API access,"
        f"\nand the clock moved to {DEMO_ESCALATION_CHECK:%A %Y-%m-%d} (after Thanksgiving and"
        f" the day after,\nboth holidays in Cary), when the unacknowledged Cary request escalated."
    )
    print(f"\nMail delivered to the local SMTP server: {len(inbox.received)}")
    for message in inbox.received:
        print(f"  To: {message['To']}\n      Subject: {message['Subject']}")
