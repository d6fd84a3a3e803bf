"""The broker topology, declared in one place.

One durable topic exchange for all events. Each service owns one quorum queue bound with
the routing keys it consumes; a failed message waits in the service's retry queue (a TTL
queue that dead-letters back) and after the last attempt is parked in its dead-letter queue.
"""

from dataclasses import dataclass

import aio_pika
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
)

from shared.settings import Settings

# Services that consume events (intake only produces them, for now).
SERVICES = ("review", "notify")

# The events each service reacts to (routing keys are `<jurisdiction>.<event name>`).
BINDINGS: dict[str, tuple[str, ...]] = {
    "review": (
        "*.request.filed",
        "*.request.clarification_received",
        "*.request.cost_accepted",
        "*.request.cost_declined",
        "*.request.appealed",
    ),
    "notify": (
        "*.request.deadlines_set",
        "*.request.clarification_needed",
        "*.request.cost_estimated",
        "*.request.released",
        "*.request.withheld",
        "*.request.escalated",
        "*.request.deadline_extended",
        "*.request.closed",
        "*.request.appealed",
        "*.request.reminder_due",
        "*.request.attachment_too_large",
        "*.apikey.*",
    ),
}

# Crash loops (a consumer dying mid-message) never ack or reject; the quorum queue's own
# delivery limit parks such a message instead of handing it out forever.
CRASH_DELIVERY_LIMIT = 10


def _topic_matches(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_topic_matches(rest, words[i:]) for i in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _topic_matches(rest, words[1:])


def is_consumed(routing_key: str) -> bool:
    """Whether any service's queue is bound to this key. Events nobody consumes stay in the
    event log only; publishing them would come back unroutable, which is an error."""
    words = routing_key.split(".")
    return any(
        _topic_matches(pattern.split("."), words)
        for service in SERVICES
        for pattern in BINDINGS[service]
    )


@dataclass(frozen=True)
class Topology:
    namespace: str = ""
    retry_delay_ms: int = 2000

    @property
    def exchange_name(self) -> str:
        return f"{self.namespace}recordsdesk.events"

    @property
    def dead_letter_exchange_name(self) -> str:
        return f"{self.namespace}recordsdesk.dead-letter"

    def queue_name(self, service: str) -> str:
        return f"{self.namespace}recordsdesk.{service}"

    def retry_queue_name(self, service: str) -> str:
        # The delay is in the name: a new delay gets a new queue (queue arguments cannot
        # change in place) and the old one still drains back into the service's queue.
        return f"{self.queue_name(service)}.retry-{self.retry_delay_ms}ms"

    def dead_queue_name(self, service: str) -> str:
        return f"{self.queue_name(service)}.dead"

    @property
    def exchange(self) -> RabbitExchange:
        return RabbitExchange(self.exchange_name, type=ExchangeType.TOPIC, durable=True)

    @property
    def dead_letter_exchange(self) -> RabbitExchange:
        return RabbitExchange(
            self.dead_letter_exchange_name, type=ExchangeType.DIRECT, durable=True
        )

    def queue(self, service: str, declare: bool = True) -> RabbitQueue:
        return RabbitQueue(
            self.queue_name(service),
            queue_type=QueueType.QUORUM,
            durable=True,
            declare=declare,
            arguments={
                "x-dead-letter-exchange": self.dead_letter_exchange_name,
                "x-dead-letter-routing-key": self.queue_name(service),
                "x-delivery-limit": CRASH_DELIVERY_LIMIT,
            },
        )

    def retry_queue(self, service: str) -> RabbitQueue:
        return RabbitQueue(
            self.retry_queue_name(service),
            queue_type=QueueType.QUORUM,
            durable=True,
            arguments={
                "x-message-ttl": self.retry_delay_ms,
                # back through the default exchange to the service's own queue only
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue_name(service),
            },
        )

    def dead_queue(self, service: str) -> RabbitQueue:
        return RabbitQueue(self.dead_queue_name(service), queue_type=QueueType.QUORUM, durable=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Topology":
        return cls(namespace=settings.namespace, retry_delay_ms=settings.retry_delay_ms)


def make_broker(settings: Settings) -> RabbitBroker:
    """A broker whose defaults are safe: confirms on, returned messages raise, bounded prefetch."""
    return RabbitBroker(
        settings.amqp_url,
        default_channel=Channel(
            prefetch_count=settings.prefetch,
            publisher_confirms=True,
            on_return_raises=True,
        ),
        graceful_timeout=settings.shutdown_grace_seconds,
        logger=None,
    )


async def declare(
    broker: RabbitBroker, topology: Topology, services: tuple[str, ...] = SERVICES
) -> None:
    """Declare the exchanges and every service's queues and bindings (idempotent)."""
    events = await broker.declare_exchange(topology.exchange)
    dead = await broker.declare_exchange(topology.dead_letter_exchange)
    for service in services:
        queue = await broker.declare_queue(topology.queue(service))
        for key in BINDINGS[service]:
            await queue.bind(events, routing_key=key)
        await broker.declare_queue(topology.retry_queue(service))
        dead_queue = await broker.declare_queue(topology.dead_queue(service))
        await dead_queue.bind(dead, routing_key=topology.queue_name(service))


async def delete(amqp_url: str, topology: Topology) -> None:
    """Remove every exchange and queue of a namespace (test runs, the demo)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for service in SERVICES:
            for name in (
                topology.queue_name(service),
                topology.retry_queue_name(service),
                topology.dead_queue_name(service),
            ):
                await channel.queue_delete(name)
        for name in (topology.exchange_name, topology.dead_letter_exchange_name):
            await channel.exchange_delete(name)


PERSISTENT = aio_pika.DeliveryMode.PERSISTENT
