"""Undeliverable addresses: marked on a 5xx (here or by intake's bounce handling), looked up
before every send, and cleared only by a person (`recordsdesk address clear ADDR`).

Runs inside the caller's unit of work; never commits on its own.
"""

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from shared.db.tables import AddressStatus
from shared.unit_of_work import UnitOfWork


async def undeliverable_reason(uow: UnitOfWork, address: str) -> str | None:
    """Why mail to this address is held back, or None when it may be mailed."""
    row = (
        await uow.session.execute(
            text(
                "SELECT reason FROM address_status"
                " WHERE lower(address) = lower(:address) AND undeliverable"
                " ORDER BY updated_at DESC LIMIT 1"
            ),
            {"address": address.strip()},
        )
    ).first()
    if row is None:
        return None
    return f"address marked undeliverable: {row.reason or 'no reason recorded'}"


async def mark_undeliverable(uow: UnitOfWork, address: str, reason: str, now: datetime) -> None:
    await uow.session.execute(
        insert(AddressStatus)
        .values(
            address=address.strip().lower(), undeliverable=True, reason=reason[:500], updated_at=now
        )
        .on_conflict_do_update(
            index_elements=["address"],
            set_={"undeliverable": True, "reason": reason[:500], "updated_at": now},
        )
    )


async def clear(uow: UnitOfWork, address: str) -> int:
    """Let the address be mailed again; how many records were cleared (0: it was not held)."""
    result = await uow.session.execute(
        text(
            "UPDATE address_status SET undeliverable = false,"
            " reason = 'cleared by staff; was: ' || coalesce(reason, ''), updated_at = :now"
            " WHERE lower(address) = lower(:address) AND undeliverable"
        ),
        {"address": address.strip(), "now": uow.clock.now()},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
