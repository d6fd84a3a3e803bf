"""The thin slice against the real broker and database, services in this process."""

import pytest
from sqlalchemy import text

from services.intake.mail_drop import store
from tests.conftest import eventually
from tests.harness import running

pytestmark = pytest.mark.integration

MAIL = (
    b"From: Alice Resident <alice@example.org>\r\n"
    b"To: records@worcester-ma.example\r\n"
    b"Subject: Street tree inventory\r\n"
    b"Message-ID: <tree-1@example.org>\r\n"
    b"\r\n"
    b"Please send the street tree inventory as CSV.\r\n"
)


async def count(resources, sql: str) -> int:  # type: ignore[no-untyped-def]
    async with resources.new_uow() as uow:
        return int((await uow.session.execute(text(sql))).scalar_one())


async def test_piped_mail_becomes_request_with_receipt(settings, clean, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    sink, port = smtp_sink
    settings.smtp_port = port
    async with running(settings, ["intake", "review", "notify"]) as resources:
        await store(settings.postgres_dsn, MAIL, "records@worcester-ma.example")
        await eventually(lambda: sink.messages, what="the receipt")
        receipt = sink.messages[0]
        assert receipt["To"].addresses[0].addr_spec == "alice@example.org"
        assert receipt["Subject"].startswith("[WOR-2026-000001] ")
        assert receipt["In-Reply-To"] == "<tree-1@example.org>"
        assert receipt["Auto-Submitted"] == "auto-generated"
        await eventually(
            lambda: count(resources, "SELECT count(*) FROM events WHERE type = 'NotificationSent'"),
            what="NotificationSent",
        )
        types = await _types(resources)
        assert types == ["RequestFiled", "DeadlinesSet", "NotificationSent"]


async def _types(resources) -> list[str]:  # type: ignore[no-untyped-def]
    async with resources.new_uow() as uow:
        rows = await uow.session.execute(text("SELECT type FROM events ORDER BY sequence"))
        return [r.type for r in rows]
