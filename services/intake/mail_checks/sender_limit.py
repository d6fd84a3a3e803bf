"""How many new requests by mail one sender may open in an hour. Pure: no I/O.

Receipts are sent by notify for every new request, so capping new requests per sender
caps our automatic replies to any one address: two autoresponders that slip past the
loop checks cannot ping-pong for ever. Mail over the cap is held for staff (never lost;
`recordsdesk mail reprocess ID` files it once the hour has passed).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class SenderLimit:
    per_hour: int

    def window_start(self, now: datetime) -> datetime:
        return now - WINDOW

    def reached(self, filed_in_window: int) -> bool:
        return filed_in_window >= self.per_hour

    def reason(self, filed_in_window: int) -> str:
        return (
            f"held: this sender opened {filed_in_window} requests by mail in the last hour"
            f" (limit {self.per_hour})"
        )
