"""Staff bearer tokens: random, shown once, stored as a sha256 hash."""

import secrets

from sqlmodel import select

from shared.db.tables import StaffMember
from shared.signing import token_hash
from shared.unit_of_work import UnitOfWork

ROLES = ("clerk", "reviewer", "legal", "manager", "admin", "auditor")


def new_token() -> str:
    return f"rd_{secrets.token_urlsafe(32)}"


async def add_staff(uow: UnitOfWork, email: str, role: str) -> str:
    """Create a staff member; returns the token (the only time it exists in clear)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = new_token()
    uow.session.add(
        StaffMember(
            email=email.strip().lower(),
            role=role,
            token_hash=token_hash(token),
            created_at=uow.clock.now(),
        )
    )
    return token


async def staff_for_token(uow: UnitOfWork, token: str) -> StaffMember | None:
    query = select(StaffMember).where(
        StaffMember.token_hash == token_hash(token),
        StaffMember.active == True,  # noqa: E712
    )
    return (await uow.session.exec(query)).first()
