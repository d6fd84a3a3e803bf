"""Looking at and replaying a service's dead-letter queue, after the cause is fixed.

Replaying publishes each parked message back to the service's own queue (through the
default exchange, so no other service sees it again) with confirms, then acks the parked
copy: at-least-once, and the consumer's inbox absorbs a repeat.
"""

from dataclasses import dataclass

import aio_pika

from shared.delivery import ATTEMPT_HEADER
from shared.topology import Topology


@dataclass(frozen=True)
class ParkedMessage:
    message_id: str | None
    type: str | None
    routing_key: str | None
    reason: str


async def peek(
    amqp_url: str, topology: Topology, service: str, limit: int = 20
) -> tuple[int, list[ParkedMessage]]:
    """How many messages are parked, and the first `limit` of them (left where they are)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(topology.dead_queue_name(service), passive=True)
        total = int(queue.declaration_result.message_count or 0)
        seen: list[ParkedMessage] = []
        for _ in range(min(limit, total)):
            message = await queue.get(fail=False)
            if message is None:
                break
            death = _first_death(message.headers.get("x-death"))
            routing_keys = death.get("routing-keys")
            seen.append(
                ParkedMessage(
                    message_id=message.message_id,
                    type=message.type,
                    routing_key=str(routing_keys[0])
                    if isinstance(routing_keys, list) and routing_keys
                    else message.routing_key,
                    reason=str(death.get("reason", "")),
                )
            )
        # closing the channel without acking returns every peeked message to the queue
        await channel.close()
    return total, seen


def _first_death(value: object) -> dict[str, object]:
    """RabbitMQ's x-death header: a list of tables, the latest first."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return dict(value[0])
    return {}


async def replay(amqp_url: str, topology: Topology, service: str, limit: int | None = None) -> int:
    """Move parked messages back to the service's queue with a fresh attempt count."""
    connection = await aio_pika.connect(amqp_url)
    moved = 0
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        dead = await channel.declare_queue(topology.dead_queue_name(service), passive=True)
        while limit is None or moved < limit:
            message = await dead.get(fail=False)
            if message is None:
                break
            headers = {
                k: v for k, v in message.headers.items() if k not in ("x-death", ATTEMPT_HEADER)
            }
            await channel.default_exchange.publish(
                aio_pika.Message(
                    message.body,
                    headers=headers,
                    message_id=message.message_id,
                    correlation_id=message.correlation_id,
                    content_type=message.content_type,
                    type=message.type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=topology.queue_name(service),
                mandatory=True,
            )
            await message.ack()
            moved += 1
    return moved
