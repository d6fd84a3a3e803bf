"""Every .eml fixture through the real mail room and database, checked against cases.yaml."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import FIXTURES
from tests.integration.intake.world import MailDesk, open_mail_desk

pytestmark = pytest.mark.integration

MAIL = FIXTURES / "mail"
CASES: dict[str, dict[str, Any]] = yaml.safe_load((MAIL / "cases.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
async def desk(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[MailDesk]:
    async with open_mail_desk(database_url, tmp_path_factory.mktemp("policies")) as desk:
        yield desk


def _event_text(event: Any) -> str:
    data = event.data
    return str(data.get("text", data.get("body", "")))


async def _check_database(desk: MailDesk, route: dict[str, Any], ref: str | None) -> None:
    if "linked_ref" in route:
        rows = await desk.fetch("SELECT linked_ref FROM requests WHERE ref = :ref", ref=ref)
        assert rows[0].linked_ref == route["linked_ref"]
    for address in route.get("undeliverable", []):
        rows = await desk.fetch(
            "SELECT undeliverable FROM address_status WHERE address = :a", a=address
        )
        assert rows and rows[0].undeliverable, f"{address} should be marked undeliverable"
    for address in route.get("not_undeliverable", []):
        rows = await desk.fetch(
            "SELECT undeliverable FROM address_status WHERE address = :a", a=address
        )
        assert not rows or not rows[0].undeliverable, f"{address} must not be undeliverable"
    for address, count in route.get("temporary_failures", {}).items():
        rows = await desk.fetch(
            "SELECT temporary_failures FROM address_status WHERE address = :a", a=address
        )
        assert rows[0].temporary_failures == count
    if "stored_contents" in route:
        rows = await desk.fetch("SELECT count(*) AS n FROM attachment_contents")
        assert rows[0].n == route["stored_contents"]
    if "attachment_links" in route:
        rows = await desk.fetch(
            "SELECT count(*) AS n FROM mail_attachments WHERE request_ref = :ref", ref=ref
        )
        assert rows[0].n == route["attachment_links"]
    if "thread_appended" in route:
        rows = await desk.fetch("SELECT thread_message_ids FROM requests WHERE ref = :ref", ref=ref)
        assert route["thread_appended"] in rows[0].thread_message_ids


@pytest.mark.parametrize("name", sorted(CASES))
async def test_each_fixture_mail_gets_the_outcome_written_next_to_it(
    desk: MailDesk, name: str
) -> None:
    route = CASES[name]["route"]
    await desk.reset()
    mail_id = await desk.deliver((MAIL / name).read_bytes(), route.get("recipient", ""))

    outcome = await desk.mailroom().process(mail_id)

    assert outcome is not None
    row = await desk.inbound(mail_id)
    assert row.status == route["status"], row.outcome
    assert row.raw == (MAIL / name).read_bytes(), "the raw message is kept unchanged"
    assert route.get("reason", "") in row.outcome
    if "ref" in route:
        assert row.request_ref == route["ref"], row.outcome
    events = await desk.new_events()
    assert [e.type for e in events] == route["events"], row.outcome
    if events:
        assert all(e.request_ref == row.request_ref for e in events)
        first = events[0]
        assert route.get("event_text", "") in _event_text(first)
        if "event_not_text" in route:
            assert route["event_not_text"] not in _event_text(first)
        assert route.get("event_note", "") in str(first.data.get("note", ""))
    await _check_database(desk, route, row.request_ref)


def test_every_fixture_has_an_expected_outcome_and_there_are_at_least_40() -> None:
    files = {p.name for p in Path(MAIL).glob("*.eml")}
    assert files == set(CASES)
    assert len(files) >= 40
