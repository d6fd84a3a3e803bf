"""Reading and locking request rows inside a unit of work."""

from sqlmodel import select

from shared.db.tables import Request
from shared.unit_of_work import UnitOfWork


async def find_request(uow: UnitOfWork, ref: str, *, for_update: bool = False) -> Request | None:
    query = select(Request).where(Request.ref == ref)
    if for_update:
        query = query.with_for_update()
    return (await uow.session.exec(query)).first()
