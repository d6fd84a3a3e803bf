"""The mail room against the real database: duplicates, races, the sender limit, reprocessing,
threads that go on, attachments shared between mails."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text as text_

from services.intake.mail_checks import automatic_mail
from tests.conftest import FIXTURES
from tests.integration.intake.world import (
    TEST_SECRET,
    MailDesk,
    open_mail_desk,
    policies_with_small_attachment_limit,
)

pytestmark = pytest.mark.integration

MAIL = FIXTURES / "mail"
RECORDSDESK = Path(sys.executable).with_name("recordsdesk")


@pytest.fixture(scope="module")
async def world(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[MailDesk]:
    async with open_mail_desk(database_url, tmp_path_factory.mktemp("policies")) as desk:
        yield desk


@pytest.fixture
async def desk(world: MailDesk) -> MailDesk:
    await world.reset()
    return world


def request_mail(sender: str, message_id: str, body: str = "Budget data, please.") -> bytes:
    return (
        f"From: {sender}\nTo: records@worcester-ma.example\nSubject: Budget\n"
        f"Message-ID: <{message_id}>\nDate: Tue, 24 Nov 2026 09:00:00 -0500\n\n{body}\n"
    ).encode()


async def filed_refs(desk: MailDesk) -> list[str]:
    rows = await desk.fetch(
        "SELECT request_ref FROM events WHERE type = 'RequestFiled' AND sequence > :s",
        s=desk.seeded_up_to,
    )
    return [r.request_ref for r in rows]


async def test_the_same_message_delivered_to_two_intake_addresses_files_one_request(
    desk: MailDesk,
) -> None:
    raw = (MAIL / "new_plain.eml").read_bytes()
    first = await desk.deliver(raw, "records@worcester-ma.example")
    again = await desk.deliver(raw, "opendata@worcester-ma.example")

    assert await desk.mailroom().drain() == 2

    assert await filed_refs(desk) == ["WOR-2026-000007"]
    assert (await desk.inbound(first)).status == "processed"
    duplicate = await desk.inbound(again)
    assert duplicate.status == "duplicate"
    assert duplicate.request_ref == "WOR-2026-000007"


async def test_a_copy_that_differs_only_in_trace_headers_is_a_duplicate(desk: MailDesk) -> None:
    raw = (MAIL / "new_plain.eml").read_bytes()
    await desk.deliver(b"Received: from a by b; Tue, 24 Nov 2026 09:12:01 -0500\r\n" + raw)
    await desk.deliver(b"Delivered-To: records@worcester-ma.example\r\n" + raw)

    await desk.mailroom().drain()

    assert await filed_refs(desk) == ["WOR-2026-000007"]
    statuses = await desk.fetch("SELECT status FROM inbound_mail ORDER BY id")
    assert [r.status for r in statuses] == ["processed", "duplicate"]


async def test_a_message_without_message_id_delivered_twice_by_different_routes_files_once(
    desk: MailDesk,
) -> None:
    raw = (MAIL / "no_message_id.eml").read_bytes()
    await desk.deliver(b"Delivered-To: records@worcester-ma.example\n" + raw)
    await desk.deliver(b"Delivered-To: opendata@worcester-ma.example\n" + raw)

    await desk.mailroom().drain()

    assert await filed_refs(desk) == ["WOR-2026-000007"]
    statuses = await desk.fetch("SELECT status FROM inbound_mail ORDER BY id")
    assert [r.status for r in statuses] == ["processed", "duplicate"]


async def test_the_same_message_id_with_different_content_is_held_for_staff_not_dropped(
    desk: MailDesk,
) -> None:
    await desk.deliver(request_mail("ann@example.org", "reused@example.org", "Budget data."))
    other = await desk.deliver(request_mail("ann@example.org", "reused@example.org", "Payroll."))

    await desk.mailroom().drain()

    row = await desk.inbound(other)
    assert row.status == "quarantined"
    assert "different content" in row.outcome
    assert b"Payroll." in row.raw
    assert len(await filed_refs(desk)) == 1


async def test_two_workers_racing_on_two_copies_of_one_message_file_it_once(
    desk: MailDesk,
) -> None:
    raw = (MAIL / "new_plain.eml").read_bytes()
    ids = [
        await desk.deliver(raw, "records@worcester-ma.example"),
        await desk.deliver(raw, "opendata@worcester-ma.example"),
    ]

    outcomes = await asyncio.gather(*(desk.mailroom().process(i) for i in ids))

    assert sorted(o.status for o in outcomes if o) == ["duplicate", "processed"]
    assert await filed_refs(desk) == ["WOR-2026-000007"]


async def test_new_requests_over_the_hourly_limit_per_sender_are_held_then_filed_later(
    desk: MailDesk,
) -> None:
    limit = desk.policies["worcester-ma"].max_new_mail_requests_per_sender_per_hour
    ids = [
        await desk.deliver(request_mail("loop@example.com", f"loop-{n}@example.com"))
        for n in range(limit + 1)
    ]
    mailroom = desk.mailroom()

    await mailroom.drain()

    held = await desk.inbound(ids[-1])
    assert held.status == "held"
    assert f"limit {limit}" in held.outcome
    assert len(await filed_refs(desk)) == limit
    # Another sender is not affected.
    other = await desk.deliver(request_mail("ann@example.org", "ann-budget@example.org"))
    assert (await mailroom.process(other)).status == "processed"  # type: ignore[union-attr]

    desk.clock.advance(timedelta(hours=1, minutes=1))
    outcome = await mailroom.reprocess(ids[-1])

    assert not isinstance(outcome, str)
    assert outcome.status == "processed"
    assert len(await filed_refs(desk)) == limit + 2


async def test_a_message_quarantined_by_a_bug_is_filed_by_reprocess_after_the_fix(
    desk: MailDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("a bug in a check")

    mail_id = await desk.deliver((MAIL / "new_plain.eml").read_bytes())
    with monkeypatch.context() as patched:
        patched.setattr("services.intake.mailroom.automatic_reason", broken)
        outcome = await desk.mailroom().process(mail_id)
    assert outcome is not None and outcome.status == "quarantined"
    assert "a bug in a check" in (await desk.inbound(mail_id)).outcome
    assert automatic_mail.automatic_reason is not broken

    again = await desk.mailroom().reprocess(mail_id)

    assert not isinstance(again, str) and again.status == "processed"
    assert again.ref == "WOR-2026-000007"
    assert await filed_refs(desk) == ["WOR-2026-000007"]


async def test_reprocess_leaves_a_processed_message_alone(desk: MailDesk) -> None:
    mail_id = await desk.deliver((MAIL / "new_plain.eml").read_bytes())
    await desk.mailroom().drain()

    answer = await desk.mailroom().reprocess(mail_id)

    assert answer == (
        f"inbound mail {mail_id} is processed, not one of quarantined, held; nothing to do"
    )
    assert await desk.mailroom().reprocess(9999) == "no inbound mail 9999"
    assert len(await filed_refs(desk)) == 1


async def test_recordsdesk_mail_reprocess_prints_the_new_outcome(
    desk: MailDesk, database_url: str, tmp_path: Path
) -> None:
    quarantined = await desk.deliver(
        request_mail("ann@example.org", "to-nobody@example.org").replace(
            b"records@worcester-ma.example", b"nobody@elsewhere.example"
        )
    )
    await desk.mailroom().drain()
    assert (await desk.inbound(quarantined)).status == "quarantined"
    # the fix: the address becomes one of Worcester's intake addresses
    policy_dir = policies_with_small_attachment_limit(tmp_path)
    worcester = policy_dir / "worcester-ma.yaml"
    worcester.write_text(
        worcester.read_text().replace(
            "intake_addresses:\n", "intake_addresses:\n- nobody@elsewhere.example\n", 1
        )
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "RECORDSDESK_DATABASE_URL": database_url,
        "RECORDSDESK_POLICY_DIR": str(policy_dir),
        "RECORDSDESK_SECRET_KEY": TEST_SECRET,
        "RECORDSDESK_LOG_LEVEL": "WARNING",
    }

    async def cli(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            str(RECORDSDESK),
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        return process.returncode or 0, out.decode(), err.decode()

    code, out, err = await cli("mail", "reprocess", str(quarantined))
    assert code == 0, err
    assert f"inbound mail {quarantined}: processed (WOR-2026-000007)" in out

    code, _, err = await cli("mail", "reprocess", str(quarantined))
    assert code == 1
    assert "is processed" in err


async def test_a_thread_goes_on_under_the_requesters_latest_message(desk: MailDesk) -> None:
    first = await desk.deliver((MAIL / "reply_in_reply_to_receipt.eml").read_bytes())
    await desk.mailroom().process(first)
    rows = await desk.fetch("SELECT thread_message_ids FROM requests WHERE ref = 'WOR-2026-000001'")
    assert rows[0].thread_message_ids == [
        "<ann-first@mail.example.org>",
        "<ann-reply-1@mail.example.org>",
    ]
    # A colleague answers Ann's reply (not our mail): it still lands on her request.
    follow = await desk.deliver(
        b"From: Cy <cy@example.org>\nTo: records@worcester-ma.example\n"
        b"Subject: Re: pothole repairs\nMessage-ID: <cy-1@example.org>\n"
        b"In-Reply-To: <ann-reply-1@mail.example.org>\n\nAnd the 2024 ones.\n"
    )
    outcome = await desk.mailroom().process(follow)

    assert outcome is not None and outcome.ref == "WOR-2026-000001"
    events = await desk.new_events()
    assert [e.type for e in events] == ["ReplyReceived", "ReplyReceived"]
    assert events[1].data["sender"] == "cy@example.org"
    assert "not the requester" in events[1].data["note"]


async def test_a_second_answer_to_one_clarification_is_a_message_not_a_second_answer(
    desk: MailDesk,
) -> None:
    raw = (MAIL / "reply_clarification.eml").read_bytes()
    await desk.deliver(raw)
    await desk.deliver(raw.replace(b"<ann-clarifies@", b"<ann-clarifies-again@"))

    await desk.mailroom().drain()

    assert [e.type for e in await desk.new_events()] == ["ClarificationReceived", "ReplyReceived"]


async def test_an_attachment_sent_in_two_mails_is_stored_once_and_linked_twice(
    desk: MailDesk,
) -> None:
    raw = (MAIL / "attachments_same_content_twice.eml").read_bytes()
    await desk.deliver(raw)
    await desk.deliver(raw.replace(b"<same-content@", b"<same-content-again@"))

    await desk.mailroom().drain()

    contents = await desk.fetch("SELECT count(*) AS n FROM attachment_contents")
    links = await desk.fetch("SELECT count(*) AS n FROM mail_attachments")
    assert (contents[0].n, links[0].n) == (1, 4)


async def test_a_bounce_is_never_answered_and_marks_only_the_failed_address(
    desk: MailDesk,
) -> None:
    await desk.deliver((MAIL / "bounce_dsn_permanent.eml").read_bytes())
    await desk.mailroom().drain()

    statuses = await desk.fetch("SELECT address, undeliverable FROM address_status")
    assert [(r.address, r.undeliverable) for r in statuses] == [("dave@gone.example", True)]
    assert await desk.new_events() == []


async def test_requester_who_replies_i_appeal_to_a_withholding_files_an_appeal(
    desk: MailDesk,
) -> None:
    from datetime import date

    from tests.integration.intake.world import M1

    async with desk.new_uow() as uow:
        await uow.session.execute(
            text_("UPDATE requests SET state = 'withheld', appeal_deadline = :d WHERE ref = :r"),
            {"d": date(2027, 2, 21), "r": "WOR-2026-000001"},
        )
        await uow.commit()
    reply = (
        f"From: Ann Lee <ann@example.org>\nTo: records@worcester-ma.example\n"
        f"Subject: Re: [WOR-2026-000001] Decision on your request\nMessage-ID: <ann-appeal@example.org>\n"
        f"In-Reply-To: {M1}\nReferences: {M1}\n\nI appeal this decision: the files are not medical.\n"
    ).encode()
    mail_id = await desk.deliver(reply)
    await desk.mailroom().drain()

    [appealed] = [e for e in await desk.new_events() if e.type == "Appealed"]
    assert appealed.request_ref == "WOR-2026-000001"
    assert appealed.data["late"] is False
    assert "not medical" in appealed.data["text"]
    assert (await desk.inbound(mail_id)).status == "processed"
