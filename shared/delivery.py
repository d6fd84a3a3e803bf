"""How a service takes one message off its queue: decode, handle, then ack after commit.

A message that fails is retried through the retry queue (a delay, not a hot loop) up to
the configured attempts, then rejected into the service's dead-letter queue. A message that
is not an envelope at all goes straight to the dead-letter queue.
"""

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage
from pydantic import ValidationError

from shared.events import Envelope
from shared.logging import get_logger
from shared.topology import PERSISTENT, Topology

ATTEMPT_HEADER = "x-recordsdesk-attempt"

EnvelopeHandler = Callable[[Envelope], Awaitable[None]]
log = get_logger(__name__)


class ServiceInbox:
    """The edge between a service's queue and its core."""

    def __init__(
        self,
        service: str,
        broker: RabbitBroker,
        topology: Topology,
        handle: EnvelopeHandler,
        max_attempts: int,
    ) -> None:
        self.service = service
        self._broker = broker
        self._topology = topology
        self._handle = handle
        self._max_attempts = max_attempts
        self.outcomes: Counter[str] = Counter()  # handled / retried / parked, for tests and metrics

    async def deliver(self, message: RabbitMessage) -> None:
        raw = message.raw_message
        try:
            envelope = Envelope.from_bytes(raw.body)
        except (ValidationError, ValueError) as exc:
            log.error("undecodable message parked", service=self.service, error=str(exc))
            await message.reject(requeue=False)
            self.outcomes["parked"] += 1
            return
        attempt = _attempt(raw.headers.get(ATTEMPT_HEADER))
        with structlog.contextvars.bound_contextvars(
            service=self.service,
            event_id=str(envelope.event_id),
            event_type=envelope.type,
            request_ref=envelope.request_ref,
            correlation_id=str(envelope.correlation_id),
            attempt=attempt,
        ):
            try:
                await self._handle(envelope)
            except Exception as exc:
                await self._fail(message, attempt, exc)
                return
            await message.ack()
            self.outcomes["handled"] += 1

    async def _fail(self, message: RabbitMessage, attempt: int, exc: Exception) -> None:
        if attempt >= self._max_attempts:
            log.error("handler failed; parked in dead-letter queue", error=repr(exc))
            await message.reject(requeue=False)
            self.outcomes["parked"] += 1
            return
        log.warning("handler failed; will retry", error=repr(exc))
        raw = message.raw_message
        # Publish the retry copy with confirms before acking the original: a crash between
        # the two leaves a duplicate, which the inbox absorbs, never a loss.
        await self._broker.publish(
            raw.body,
            exchange=None,
            routing_key=self._topology.retry_queue_name(self.service),
            mandatory=True,
            persist=raw.delivery_mode == PERSISTENT,
            message_id=raw.message_id,
            correlation_id=raw.correlation_id,
            content_type=raw.content_type,
            message_type=raw.type,
            headers={**raw.headers, ATTEMPT_HEADER: attempt + 1},
        )
        await message.ack()
        self.outcomes["retried"] += 1


def _attempt(value: object) -> int:
    try:
        return max(1, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 1


def subscribe(
    broker: RabbitBroker,
    topology: Topology,
    service: str,
    handle: EnvelopeHandler,
    max_attempts: int,
) -> ServiceInbox:
    """Attach `handle` to the service's queue. Acks are manual: only after the handler's commit."""
    inbox = ServiceInbox(service, broker, topology, handle, max_attempts)

    @broker.subscriber(
        topology.queue(service, declare=False),
        ack_policy=AckPolicy.MANUAL,
        title=f"{service} events",
    )
    async def on_event(body: Any, message: RabbitMessage) -> None:
        await inbox.deliver(message)

    return inbox
