"""`recordsdesk demo`, the README's first command, prints what happened end to end."""

import asyncio
import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

RECORDSDESK = str(Path(sys.executable).with_name("recordsdesk"))


async def test_demo_runs_the_pipeline_and_prints_requests_decisions_and_mail(settings) -> None:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "RECORDSDESK_AMQP_URL": settings.amqp_url,
        "RECORDSDESK_DATABASE_URL": settings.database_url,
        "RECORDSDESK_NAMESPACE": settings.namespace,
    }
    process = await asyncio.create_subprocess_exec(
        RECORDSDESK, "demo", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out_b, err_b = await asyncio.wait_for(process.communicate(), timeout=120)
    out = out_b.decode()
    assert process.returncode == 0, err_b.decode()[-3000:]
    assert "WOR-2026-000001    mail  alice@example.org      Wed 11-25    Tue 12-08" in out
    assert "ignored — automatic mail" in out and "quarantined — addressed to no known intake" in out
    assert "Mail delivered to the local SMTP server: 6" in out
    assert "[CARY-2026-000002] Your API key" in out
    assert "[CARY-2026-000001] Overdue acknowledgment (level 1, Town Clerk)" in out
    assert (
        "Overdue acknowledgment"
        not in out.split("WOR-2026-000001] We received")[1].split("CARY")[0]
    )
