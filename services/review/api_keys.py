"""API access after release: suspend, revoke, and answer a gateway's "is this key good?".

Keys are derived from the install's secret and a key id (shared.signing.api_key); only
their hash is stored. Each change of a key's status is an event.
"""

from dataclasses import dataclass
from datetime import date

from shared.db.tables import ApiKey, StaffMember
from shared.events import Actor, ApiKeyRevoked, ApiKeySuspended
from shared.policy import PolicyBook
from shared.signing import key_id_of, token_hash
from shared.unit_of_work import UnitOfWork

KEY_ROLES = {"manager", "admin", "legal"}


class KeyNotFound(Exception):
    pass


class KeyRoleForbidden(Exception):
    pass


class KeyStateInvalid(Exception):
    pass


@dataclass(frozen=True)
class KeyCheck:
    ok: bool
    status_code: int  # 200, 401 (not a key of ours) or 403 (ours, but not usable now)
    reason: str
    key: ApiKey | None = None


def check(key: ApiKey | None, presented: str, today: date) -> KeyCheck:
    """Pure: what a gateway should do with this key today."""
    if key is None or key.key_hash != token_hash(presented):
        return KeyCheck(False, 401, "unknown API key")
    if key.status == "revoked":
        return KeyCheck(False, 403, f"revoked: {key.status_reason}", key)
    if key.status == "suspended" and (key.suspended_until is None or today <= key.suspended_until):
        return KeyCheck(
            False, 403, f"suspended until {key.suspended_until}: {key.status_reason}", key
        )
    if today > key.expires_on:
        return KeyCheck(False, 403, f"expired on {key.expires_on}", key)
    return KeyCheck(True, 200, "active", key)


async def verify(uow: UnitOfWork, presented: str, policies: PolicyBook) -> KeyCheck:
    """Check a presented key against its record, on its jurisdiction's calendar date."""
    key_id = key_id_of(presented)
    key = await uow.session.get(ApiKey, key_id) if key_id else None
    if key is None:
        return check(None, presented, date.min)
    today = policies[key.jurisdiction].calendar.local(uow.clock.now()).date()
    return check(key, presented, today)


async def _load(uow: UnitOfWork, key_id: str, staff: StaffMember) -> ApiKey:
    if staff.role not in KEY_ROLES:
        raise KeyRoleForbidden(f"a {staff.role} may not change API keys")
    key = await uow.session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        raise KeyNotFound(key_id)
    if key.status == "revoked":
        raise KeyStateInvalid("the key is revoked; issue a new one through a new request")
    return key


async def suspend(
    uow: UnitOfWork, key_id: str, staff: StaffMember, reason: str, until: date
) -> None:
    key = await _load(uow, key_id, staff)
    key.status, key.status_reason, key.suspended_until = "suspended", reason, until
    key.updated_at = uow.clock.now()
    uow.session.add(key)
    uow.record(
        ApiKeySuspended(key_id=key_id, reason=reason, until=until),
        jurisdiction=key.jurisdiction,
        request_ref=key.request_ref,
        actor=Actor(kind="staff", id=staff.email),
    )
    await uow.commit()


async def revoke(uow: UnitOfWork, key_id: str, staff: StaffMember, reason: str) -> None:
    key = await _load(uow, key_id, staff)
    key.status, key.status_reason = "revoked", reason
    key.updated_at = uow.clock.now()
    uow.session.add(key)
    uow.record(
        ApiKeyRevoked(key_id=key_id, reason=reason),
        jurisdiction=key.jurisdiction,
        request_ref=key.request_ref,
        actor=Actor(kind="staff", id=staff.email),
    )
    await uow.commit()
