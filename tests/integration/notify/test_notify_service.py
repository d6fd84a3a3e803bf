"""The notify service as it runs: events through the real broker, the retry queue and
start-up checks."""

import shutil
from pathlib import Path

import pytest
import yaml
from faststream.rabbit import RabbitBroker
from sqlalchemy import text

from services.notify.composer import TemplateProblem
from shared.clock import FixedClock
from shared.events import Closed, Envelope
from shared.topology import Topology
from tests.conftest import eventually
from tests.harness import running
from tests.integration.notify.conftest import START, NotifyWorld

pytestmark = pytest.mark.integration


async def test_a_4xx_outlasting_the_tries_goes_through_the_retry_queue_and_is_sent_once(
    world: NotifyWorld,
) -> None:
    settings = world.settings
    settings.smtp_port = world.port
    settings.smtp_retry_attempts = 2
    settings.smtp_retry_initial_seconds = 0.01
    settings.smtp_retry_max_seconds = 0.01
    world.sink.replies = ["451 4.3.0 try later", "451 4.3.0 try later"]
    request = await world.request()
    async with running(settings, ["notify"], world.clock) as resources:
        async with resources.new_uow() as uow:
            uow.record(
                Closed(reason="withdrawn"),
                jurisdiction=request.jurisdiction,
                request_ref=request.ref,
            )
            [envelope] = await uow.commit()
        await eventually(lambda: world.sink.messages, what="the mail after the retry queue")
        inbox = resources.inboxes["notify"]
        await eventually(lambda: inbox.outcomes["handled"] >= 1, what="the event handled")
        assert inbox.outcomes["retried"] == 1
        assert len(world.sink.offered) == 3 and len(set(world.sink.offered)) == 1

        # the same event published again (a broker redelivery) sends nothing new
        await publish_again(resources.broker, Topology.from_settings(settings), envelope)
        await eventually(lambda: inbox.outcomes["handled"] >= 2, what="the redelivery handled")
    assert len(world.sink.messages) == 1
    sent = await world.scalar("SELECT count(*) FROM events WHERE type = 'NotificationSent'")
    assert sent == 1


async def publish_again(broker: RabbitBroker, topology: Topology, envelope: Envelope) -> None:
    await broker.publish(
        envelope.to_bytes(),
        exchange=topology.exchange,
        routing_key=envelope.routing_key,
        message_id=str(envelope.event_id),
        persist=True,
    )


async def test_a_broken_jurisdiction_template_stops_start_up(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    policies = tmp_path / "policies"
    shutil.copytree(settings.policy_dir, policies)
    overrides = tmp_path / "worcester-templates"
    overrides.mkdir()
    (overrides / "receipt.txt.j2").write_text("Dear {{ requester_name }\n", encoding="utf-8")
    path = policies / "worcester-ma.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["templates_dir"] = str(overrides)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    broken = settings.model_copy(update={"policy_dir": policies})
    with pytest.raises(
        TemplateProblem,
        match=r"worcester-ma: .*/worcester-templates/receipt.txt.j2: line 1: unexpected",
    ):
        async with running(broken, ["notify"], FixedClock(START)):
            pytest.fail("started with a broken template")


async def test_the_sweeper_runs_inside_the_service(world: NotifyWorld) -> None:
    """A mail left deferred is sent by the running service once its time comes."""
    settings = world.settings
    settings.smtp_port = world.port
    settings.notify_sweep_seconds = 0.1
    request = await world.request()
    async with world.new_uow() as uow:
        uow.record(
            Closed(reason="withdrawn"), jurisdiction=request.jurisdiction, request_ref=request.ref
        )
        [envelope] = await uow.commit()
        await uow.session.execute(text("DELETE FROM outbox"))  # only the sweeper may send it
    async with world.new_uow() as uow:
        await uow.session.execute(
            text(
                "INSERT INTO notifications (id, dedupe_key, about_event_id, request_ref,"
                " jurisdiction, template, recipient, message_id, status, attempts, claimed_at,"
                " next_attempt_at) VALUES (gen_random_uuid(), 'k', :event, :ref, :j, 'closed',"
                " 'ann@example.org', '<m@x>', 'deferred', 0, :now, :now)"
            ),
            {
                "event": envelope.event_id,
                "ref": request.ref,
                "j": request.jurisdiction,
                "now": START,
            },
        )
        await uow.commit()
    async with running(settings, ["notify"], world.clock):
        await eventually(lambda: world.sink.messages, what="the deferred mail")
