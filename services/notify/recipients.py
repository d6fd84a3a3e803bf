"""Who may be mailed now. Pure: no I/O, no wall clock (the caller passes `now`).

- Never one of our own addresses (any policy's intake or sender address, with or without a
  +tag): mailing ourselves is how auto-reply loops start.
- Never an address that exists only to send automatic mail (MAILER-DAEMON, no-reply).
- A requester at most `limit` mails per `window`; over it the mail waits for a free slot.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from shared.policy import PolicyBook

AUTOMATIC_LOCAL_PARTS = frozenset(
    {"mailer-daemon", "no-reply", "noreply", "do-not-reply", "donotreply", "bounce", "bounces"}
)


def _normalized(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().lower().rpartition("@")
    return local.split("+", 1)[0], domain


def own_addresses(policies: PolicyBook) -> frozenset[str]:
    return frozenset(
        address.lower()
        for policy in policies
        for address in (*policy.intake_addresses, policy.sender_address)
    )


def refusal(address: str, own: frozenset[str]) -> str | None:
    """Why this address must never get an automatic mail, or None."""
    local, domain = _normalized(address)
    if not local or not domain:
        return f"not an email address: {address!r}"
    if f"{local}@{domain}" in own:
        return f"loop guard: {address} is one of our own addresses"
    if local in AUTOMATIC_LOCAL_PARTS:
        return f"loop guard: {address} only sends automatic mail"
    return None


def next_free_slot(
    recent: Iterable[datetime], limit: int, window: timedelta, now: datetime
) -> datetime | None:
    """When one more mail may go, given the times of mails already sent (or being sent) to
    the address; None when it may go now."""
    times = sorted(t for t in recent if t > now - window)
    if len(times) < limit:
        return None
    # the slot frees when enough of the oldest have left the window
    return times[len(times) - limit] + window
