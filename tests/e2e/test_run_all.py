"""`recordsdesk run all` as a real process: mail piped in, JSON posted, receipts read from a
real SMTP server, the event log read over HTTP."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import eventually, free_port

pytestmark = pytest.mark.e2e

RECORDSDESK = str(Path(sys.executable).with_name("recordsdesk"))
MAIL = (
    b"From: Dana Researcher <dana@example.org>\r\n"
    b"To: records@worcester-ma.example\r\n"
    b"Subject: 311 service requests, 2025\r\n"
    b"Message-ID: <dana-311@example.org>\r\n"
    b"Date: Sun, 22 Nov 2026 10:00:00 -0500\r\n"
    b"\r\n"
    b"Could I have all 311 service requests from 2025 as CSV?\r\n"
)


@pytest.fixture
async def app_env(settings, clean, smtp_sink) -> AsyncIterator[dict]:  # type: ignore[no-untyped-def]
    sink, smtp_port = smtp_sink
    http_port = free_port()
    env = {
        **os.environ,
        "RECORDSDESK_AMQP_URL": settings.amqp_url,
        "RECORDSDESK_DATABASE_URL": settings.database_url,
        "RECORDSDESK_NAMESPACE": settings.namespace,
        "RECORDSDESK_SMTP_HOST": "127.0.0.1",
        "RECORDSDESK_SMTP_PORT": str(smtp_port),
        "RECORDSDESK_HTTP_PORT": str(http_port),
        "RECORDSDESK_PUBLIC_BASE_URL": f"http://127.0.0.1:{http_port}",
        "RECORDSDESK_SECRET_KEY": "e2e-secret",
        "RECORDSDESK_RELAY_POLL_SECONDS": "0.5",
        "RECORDSDESK_MAIL_POLL_SECONDS": "0.5",
        "RECORDSDESK_RETRY_DELAY_MS": str(settings.retry_delay_ms),
        "RECORDSDESK_MAX_DELIVERY_ATTEMPTS": str(settings.max_delivery_attempts),
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
        [RECORDSDESK, "run", "all"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{http_port}"

    async def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"run all exited: {process.stderr.read().decode()[-3000:]}")  # type: ignore[union-attr]
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{base}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await eventually(ready, timeout=60, interval=0.2, what="recordsdesk run all to be ready")
        yield {"env": env, "base": base, "sink": sink, "process": process}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


async def cli(env: dict, *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        RECORDSDESK,
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_mail_and_web_requests_get_receipts_and_appear_in_the_event_log(app_env) -> None:  # type: ignore[no-untyped-def]
    env, base, sink = app_env["env"], app_env["base"], app_env["sink"]

    code, _, err = await cli(env, "mail", "--recipient", "records@worcester-ma.example", stdin=MAIL)
    assert code == 0, err
    receipt = await eventually(
        lambda: next((m for m in sink.messages if "dana@example.org" in str(m["To"])), None),
        timeout=30,
        what="the receipt for the mailed request",
    )
    assert str(receipt["Subject"]).startswith("[WOR-2026-000001] ")
    assert receipt["In-Reply-To"] == "<dana-311@example.org>"
    assert receipt["Auto-Submitted"] == "auto-generated"
    assert receipt["Reply-To"].startswith("records+wor-2026-000001.")
    text_part = receipt.get_body(("plain",)).get_content()
    assert "Tuesday, December 8, 2026" in text_part  # DESIGN.md's worked example
    assert receipt.get_body(("html",)) is not None

    async with httpx.AsyncClient(base_url=base) as client:
        posted = await client.post(
            "/v1/requests",
            json={
                "jurisdiction": "cary-nc",
                "email": "erin@example.org",
                "name": "Erin",
                "subject": "Greenway trail counts",
                "description": "Daily counts, 2024-2025, JSON",
            },
        )
        assert posted.status_code == 201, posted.text
        filed = posted.json()
        assert filed["reference"] == "CARY-2026-000001"
        bad = await client.post("/v1/requests", json={"jurisdiction": "cary-nc", "email": "nope"})
        assert bad.status_code == 422
        assert {tuple(e["loc"]) for e in bad.json()["detail"]} >= {
            ("body", "email"),
            ("body", "subject"),
        }

        await eventually(
            lambda: any("erin@example.org" in str(m["To"]) for m in sink.messages),
            timeout=30,
            what="the receipt for the web request",
        )
        status = (await client.get(f"/v1/status/{filed['status_token']}")).json()
        assert status["reference"] == "CARY-2026-000001"
        assert status["response_due_on"] is not None

        code, token, err = await cli(
            env, "staff", "add", "--email", "dash@example.org", "--role", "auditor"
        )
        assert code == 0, err
        token = token.strip()
        assert (await client.get("/v1/events")).status_code == 401
        auth = {"Authorization": f"Bearer {token}"}

        async def both_sent() -> list[dict] | None:
            page = (await client.get("/v1/events", params={"after": 0}, headers=auth)).json()
            sent = [e for e in page["events"] if e["type"] == "NotificationSent"]
            return page["events"] if len(sent) == 2 else None

        events = await eventually(both_sent, timeout=30, what="both NotificationSent events")
        sequences = [e["sequence"] for e in events]
        assert sequences == sorted(sequences)
        for ref in ("WOR-2026-000001", "CARY-2026-000001"):
            assert [e["type"] for e in events if e["request_ref"] == ref] == [
                "RequestFiled",
                "DeadlinesSet",
                "NotificationSent",
            ]
        metrics = (await client.get("/metrics")).text
        assert 'recordsdesk_requests{jurisdiction="cary-nc",state="filed"} 1.0' in metrics
        assert 'recordsdesk_backlog{status="unpublished",what="outbox"} 0.0' in metrics
        detail = (await client.get("/v1/requests/WOR-2026-000001", headers=auth)).json()
        assert "Thanksgiving" in detail["deadlines"]["response"]["explained"]
        assert detail["response_due_on"] == "2026-12-08"
