"""Dispatching a delivered event to the one handler registered for its payload type.

Each handled event is one unit of work: the inbox row, the effect, the new events and
their outbox rows commit together, so a redelivery finds the inbox row and does nothing.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from shared.events import Envelope, Event
from shared.unit_of_work import UnitOfWork

E = TypeVar("E", bound=Event)
Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]


class EventHandlers:
    def __init__(self, consumer: str, new_uow: Callable[[], UnitOfWork]) -> None:
        self.consumer = consumer
        self._new_uow = new_uow
        self._table: dict[type[Event], Handler] = {}

    def register(
        self, event_type: type[E], handler: Callable[[UnitOfWork, Envelope, E], Awaitable[None]]
    ) -> None:
        self._table[event_type] = handler

    @property
    def handled_types(self) -> list[type[Event]]:
        return list(self._table)

    async def __call__(self, envelope: Envelope) -> None:
        payload = envelope.payload()
        handler = self._table.get(type(payload))
        if handler is None:
            return
        async with self._new_uow() as uow:
            if not await uow.first_delivery(self.consumer, envelope.event_id):
                return
            await handler(uow, envelope, payload)
            await uow.commit()
