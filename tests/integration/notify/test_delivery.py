"""Every email right, threaded and sent once: against the real database and a real SMTP server."""

from datetime import date, timedelta
from email.message import EmailMessage

import pytest

from services.notify.composer import message_id_for
from services.notify.delivery import Notifier
from services.notify.samples import sample_events
from services.notify.smtp import RetryPolicy, TransientDeliveryError
from shared.events import (
    ClarificationNeeded,
    Closed,
    DeadlineExtended,
    Escalated,
)
from shared.signing import ref_from_reply_address
from tests.integration.notify.conftest import NotifyWorld

pytestmark = pytest.mark.integration


def template_of(message: EmailMessage) -> str:
    return str(message["Message-ID"]).strip("<>").split(".")[1]


def parts(message: EmailMessage) -> dict[str, str]:
    return {p.get_content_type(): p.get_content() for p in message.iter_parts()}


@pytest.mark.parametrize("jurisdiction", ["worcester-ma", "cary-nc"])
async def test_every_template_is_delivered_with_the_right_headers_and_both_parts(
    world: NotifyWorld, jurisdiction: str
) -> None:
    policy = world.policies[jurisdiction]
    request = await world.request(jurisdiction, thread=["<first@example.org>"])
    notifier = world.notifier(rate_limit=100)
    envelopes = []
    for event, _ in sample_events(policy):
        envelope = await world.record(request, event)
        envelopes.append(envelope)
        await notifier(envelope)
        world.clock.advance(timedelta(minutes=1))  # so the thread has an order

    templates = {template_of(m) for m in world.sink.messages}
    assert templates == {
        "receipt", "clarification", "cost_estimate", "released", "partially_released",
        "withheld", "deadline_extended", "closed", "api_key_issued", "api_key_suspended",
        "api_key_revoked", "escalation", "reminder_requester", "reminder_staff",
        "attachment_too_large", "attachment_too_large_staff", "appeal_received",
        "appeal_received_staff",
    }  # fmt: skip
    expected_ids = set()
    for envelope in envelopes:
        for m in world.sink.messages:
            if str(envelope.event_id) in m["Message-ID"]:
                expected_ids.add(message_id_for(
                    envelope.event_id, template_of(m), m["To"].addresses[0].addr_spec,
                    policy.mail_domain,
                ))  # fmt: skip
    assert {m["Message-ID"] for m in world.sink.messages} == expected_ids

    earlier_to_requester: list[str] = []
    for message in world.sink.messages:
        assert message["From"].addresses[0].addr_spec == policy.sender_address
        assert message["From"].addresses[0].display_name == policy.sender_name
        assert ref_from_reply_address("test-secret", str(message["Reply-To"])) == request.ref
        assert str(message["Subject"]).startswith(f"[{request.ref}] ")
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Message-ID"].endswith(f"@{policy.mail_domain}>")
        assert message.get_content_type() == "multipart/alternative"
        body = parts(message)
        assert set(body) == {"text/plain", "text/html"}
        assert request.ref in body["text/plain"] and request.ref in body["text/html"]
        recipient = message["To"].addresses[0].addr_spec
        if recipient == request.requester_email:
            references = str(message["References"]).split()
            assert references[0] == "<first@example.org>"
            assert references[1:] == earlier_to_requester[-9:]
            assert message["In-Reply-To"] == (references[-1])
            earlier_to_requester.append(message["Message-ID"])
        else:
            assert "<first@example.org>" not in str(message["References"] or "")
    sent = await world.scalar("SELECT count(*) FROM events WHERE type = 'NotificationSent'")
    assert sent == len(world.sink.messages)


async def test_requester_markup_arrives_escaped_in_the_html_part(world: NotifyWorld) -> None:
    typed = '<script>alert("x")</script> & <b>payroll</b>'
    request = await world.request(subject=typed, name="<i>Ann</i>")
    await world.notifier()(await world.record(request, ClarificationNeeded(questions=[typed])))
    [message] = world.sink.messages
    body = parts(message)
    assert "<script>" not in body["text/html"] and "<b>payroll" not in body["text/html"]
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;payroll&lt;/b&gt;"
        in body["text/html"]
    )
    assert "&lt;i&gt;Ann&lt;/i&gt;" in body["text/html"]
    assert typed in body["text/plain"]


async def test_a_server_answering_451_then_250_gets_exactly_one_message(world: NotifyWorld) -> None:
    world.sink.replies = ["451 4.3.0 try later"]
    request = await world.request()
    await world.notifier()(await world.record(request, Closed(reason="withdrawn")))
    assert len(world.sink.messages) == 1
    assert len(world.sink.offered) == 2 and len(set(world.sink.offered)) == 1  # same Message-ID
    assert world.sink.messages[0]["Message-ID"] == world.sink.offered[0]
    assert await world.scalar("SELECT count(*) FROM events WHERE type = 'NotificationSent'") == 1


async def test_4xx_beyond_the_tries_is_retried_later_with_the_same_message_id(
    world: NotifyWorld,
) -> None:
    world.sink.replies = ["451 4.3.0 try later", "452 4.2.2 mailbox full"]
    request = await world.request()
    envelope = await world.record(request, Closed(reason="withdrawn"))
    notifier = world.notifier(retry=RetryPolicy(attempts=2, initial_seconds=0.01, max_seconds=0.01))
    with pytest.raises(TransientDeliveryError, match="452"):
        await notifier(envelope)  # the inbox sends the event to the retry queue
    assert world.sink.messages == []
    [row] = await world.rows("SELECT status, last_error, next_attempt_at FROM notifications")
    assert row.status == "retry" and "452" in row.last_error
    await notifier(envelope)  # the redelivery
    assert len(world.sink.messages) == 1 and len(set(world.sink.offered)) == 1


async def test_a_550_records_notification_failed_and_blocks_the_address_until_cleared(
    world: NotifyWorld,
) -> None:
    import asyncio
    import os
    import sys
    from pathlib import Path

    world.sink.replies = ["550 5.1.1 no such user"]
    request = await world.request()
    notifier = world.notifier()
    await notifier(await world.record(request, Closed(reason="withdrawn")))
    assert world.sink.messages == []
    [failed] = await world.rows("SELECT data FROM events WHERE type = 'NotificationFailed'")
    assert failed.data["permanent"] is True and "550" in failed.data["reason"]
    assert await world.scalar(
        "SELECT undeliverable FROM address_status WHERE address = 'ann@example.org'"
    )

    second = DeadlineExtended(business_days=3, reason="storage", new_due_on=date(2026, 12, 11))
    await notifier(await world.record(request, second))
    assert world.sink.offered == [world.sink.offered[0]]  # not even offered to the server
    reasons = [r.data["reason"] for r in await world.rows(
        "SELECT data FROM events WHERE type = 'NotificationFailed' ORDER BY sequence"
    )]  # fmt: skip
    assert reasons[1].startswith("address marked undeliverable: 550")

    command = Path(sys.executable).parent / "recordsdesk"
    env = {**os.environ, "RECORDSDESK_DATABASE_URL": world.settings.database_url}
    process = await asyncio.create_subprocess_exec(
        str(command), "address", "clear", "Ann@Example.org",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "cleared" in out.decode()

    await notifier(await world.record(request, Closed(reason="abandoned")))
    assert len(world.sink.messages) == 1


async def test_a_redelivered_event_sends_nothing_new(world: NotifyWorld) -> None:
    request = await world.request()
    envelope = await world.record(request, ClarificationNeeded(questions=["Which years?"]))
    notifier = world.notifier()
    await notifier(envelope)
    await notifier(envelope)
    world.clock.advance(timedelta(days=1))
    await notifier(envelope)
    assert len(world.sink.offered) == 1
    assert await world.scalar("SELECT count(*) FROM events WHERE type = 'NotificationSent'") == 1


class DiesAfterTheServersOk(Notifier):
    """A worker that dies after the server's 250, before it can mark the mail sent."""

    async def _mark_sent(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("process killed")


async def test_a_crash_between_the_250_and_the_mark_sends_again_only_after_the_lease(
    world: NotifyWorld,
) -> None:
    request = await world.request()
    envelope = await world.record(request, Closed(reason="withdrawn"))
    with pytest.raises(RuntimeError, match="process killed"):
        await world.notifier(cls=DiesAfterTheServersOk)(envelope)
    assert len(world.sink.messages) == 1

    survivor = world.notifier()
    world.clock.advance(timedelta(minutes=9))
    await survivor(envelope)  # the redelivered event, while the claim is fresh
    assert await survivor.sweep() == 0
    assert len(world.sink.messages) == 1

    world.clock.advance(timedelta(minutes=1, seconds=1))  # the 10-minute lease ran out
    assert await survivor.sweep() == 1
    assert len(world.sink.messages) == 2
    first, second = world.sink.messages
    assert first["Message-ID"] == second["Message-ID"]
    await survivor(envelope)
    assert len(world.sink.messages) == 2
    assert await world.scalar("SELECT count(*) FROM events WHERE type = 'NotificationSent'") == 1


async def test_a_redelivery_after_the_lease_resends_the_unmarked_mail(world: NotifyWorld) -> None:
    request = await world.request()
    envelope = await world.record(request, Closed(reason="withdrawn"))
    with pytest.raises(RuntimeError):
        await world.notifier(cls=DiesAfterTheServersOk)(envelope)
    world.clock.advance(timedelta(minutes=11))
    await world.notifier()(envelope)
    assert [m["Message-ID"] for m in world.sink.messages] == [world.sink.offered[0]] * 2


async def test_over_the_rate_limit_a_mail_is_deferred_then_sent_when_a_slot_frees(
    world: NotifyWorld,
) -> None:
    request = await world.request()
    notifier = world.notifier(rate_limit=2, rate_window=timedelta(hours=1))
    for n in range(3):
        await notifier(await world.record(request, ClarificationNeeded(questions=[f"Q{n}?"])))
        world.clock.advance(timedelta(minutes=10))
    assert len(world.sink.messages) == 2
    [deferred] = await world.rows(
        "SELECT status, next_attempt_at FROM notifications WHERE status = 'deferred'"
    )
    assert deferred.next_attempt_at == world.clock.now() - timedelta(minutes=30) + timedelta(
        hours=1
    )

    assert await notifier.sweep() == 0  # not due yet
    world.clock.advance(timedelta(minutes=30))
    assert await notifier.sweep() == 1
    assert len(world.sink.messages) == 3
    assert "Q2?" in parts(world.sink.messages[2])["text/plain"]
    assert await world.scalar("SELECT count(*) FROM notifications WHERE status = 'sent'") == 3


async def test_staff_alerts_are_not_held_back_by_the_requester_rate_limit(
    world: NotifyWorld,
) -> None:
    request = await world.request()
    notifier = world.notifier(rate_limit=1)
    for level in (1, 2, 3):
        event = Escalated(
            clock="acknowledgment", level=level, title="Clerk", notify=["clerk@worcester-ma.example"],
            reason="late", business_days_late=level,
        )  # fmt: skip
        await notifier(await world.record(request, event))
    assert len(world.sink.messages) == 3
    # each escalation about the request threads under the previous one
    assert world.sink.messages[2]["In-Reply-To"] == world.sink.messages[1]["Message-ID"]


async def test_our_own_address_is_never_mailed(world: NotifyWorld) -> None:
    request = await world.request(email="records+wor-2026-000009.abc@worcester-ma.example")
    await world.notifier()(await world.record(request, Closed(reason="withdrawn")))
    assert world.sink.offered == []
    [failed] = await world.rows("SELECT data FROM events WHERE type = 'NotificationFailed'")
    assert failed.data["reason"].startswith("loop guard")
    assert await world.scalar("SELECT count(*) FROM address_status") == 0


async def test_a_4xx_for_one_staff_member_does_not_hold_back_the_others(world: NotifyWorld) -> None:
    world.sink.replies = ["451 4.3.0 try later"]
    request = await world.request()
    event = Escalated(
        clock="response", level=1, title="RAO",
        notify=["rao@worcester-ma.example", "amy@worcester-ma.example"],
        reason="late", business_days_late=1,
    )  # fmt: skip
    envelope = await world.record(request, event)
    notifier = world.notifier(retry=RetryPolicy(attempts=1, initial_seconds=0, max_seconds=0))
    with pytest.raises(TransientDeliveryError):
        await notifier(envelope)
    assert [m["To"].addresses[0].addr_spec for m in world.sink.messages] == [
        "amy@worcester-ma.example"
    ]
    await notifier(envelope)
    assert sorted(m["To"].addresses[0].addr_spec for m in world.sink.messages) == [
        "amy@worcester-ma.example",
        "rao@worcester-ma.example",
    ]


async def test_an_address_no_mail_header_can_carry_fails_cleanly_instead_of_retrying(
    world: NotifyWorld,
) -> None:
    request = await world.request(email="ann lee@example.org")
    await world.notifier()(await world.record(request, Closed(reason="withdrawn")))
    assert world.sink.offered == []
    [row] = await world.rows("SELECT status, last_error FROM notifications")
    assert row.status == "failed" and row.last_error.startswith("cannot compose")
