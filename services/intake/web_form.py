"""The web form's rules around filing a request.

An Idempotency-Key makes a double submit file once (the same key and body get the same
answer; the same key with another body is refused), and limits per requester address and
per client keep one sender from flooding the office. Keys and counts live in the database,
so every API instance sees the same ones, and time comes from the unit of work's clock.

Never commits (the caller does) and never files when a limit is reached; a refused
submission leaves no count and no key behind, because the caller's transaction rolls back.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from services.intake.filing import FiledRequest, NewRequest, file_request
from shared.policy import Policy
from shared.request_store import find_request
from shared.signing import status_token
from shared.unit_of_work import UnitOfWork

_CLAIM_KEY = text(
    """
    INSERT INTO idempotency_keys (key, body_sha256, created_at) VALUES (:key, :body, :now)
    ON CONFLICT (key) DO NOTHING RETURNING key
    """
)
_EARLIER_USE = text("SELECT body_sha256, request_ref FROM idempotency_keys WHERE key = :key")
# Expired keys go a few at a time, skipping rows another submit holds, so no one waits.
_FORGET_KEYS = text(
    """
    DELETE FROM idempotency_keys WHERE key IN (
        SELECT key FROM idempotency_keys WHERE created_at < :cutoff
        ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED)
    """
)
_ANSWER_KEY = text("UPDATE idempotency_keys SET request_ref = :ref WHERE key = :key")
_COUNT = text(
    """
    INSERT INTO web_submission_counts (scope, subject, window_start, count)
    VALUES (:scope, :subject, :start, 1)
    ON CONFLICT (scope, subject, window_start)
    DO UPDATE SET count = web_submission_counts.count + 1
    RETURNING count
    """
)
_FORGET_WINDOWS = text(
    """
    DELETE FROM web_submission_counts
    WHERE scope = :scope AND subject = :subject AND window_start < :start
    """
)


@dataclass(frozen=True)
class WebLimits:
    window_seconds: int
    per_email: int
    per_client: int
    key_lifetime: timedelta


@dataclass(frozen=True)
class WebSubmission:
    policy: Policy
    email: str
    name: str
    subject: str
    description: str
    client: str
    idempotency_key: str | None = None
    body_sha256: str = ""


@dataclass(frozen=True)
class WebFiling:
    filed: FiledRequest
    replayed: bool  # True when this is the stored answer to an earlier submit with the key


class RateLimited(Exception):
    def __init__(self, scope: str, limit: int, window_seconds: int, retry_after: int) -> None:
        who = "this email address" if scope == "email" else "this client"
        super().__init__(
            f"too many requests from {who}: at most {limit} per {window_seconds} seconds;"
            f" try again in {retry_after} seconds"
        )
        self.scope = scope
        self.retry_after = retry_after


class IdempotencyKeyReused(Exception):
    """The key was used before for a different submission."""


def body_fingerprint(body: dict[str, Any]) -> str:
    """The same for the same submitted fields, whatever their order."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def window_start(now: datetime, window_seconds: int) -> datetime:
    """The start of the fixed rate-limit window `now` falls in (windows count from the epoch)."""
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % window_seconds, tz=UTC)


def retry_after(now: datetime, window_seconds: int) -> int:
    """Whole seconds until the current window ends (at least 1)."""
    end = window_start(now, window_seconds) + timedelta(seconds=window_seconds)
    return max(1, int((end - now).total_seconds() + 0.999))


async def _earlier_answer(
    uow: UnitOfWork, submission: WebSubmission, secret: str
) -> WebFiling | None:
    """The answer already given for this key, or None when this submit claims the key."""
    key = submission.idempotency_key
    now = uow.clock.now()
    # A concurrent submit with the same key waits here until the first one commits.
    if (
        await uow.session.execute(
            _CLAIM_KEY, {"key": key, "body": submission.body_sha256, "now": now}
        )
    ).first():
        return None
    earlier = (await uow.session.execute(_EARLIER_USE, {"key": key})).first()
    if earlier is None or earlier.request_ref is None:
        raise IdempotencyKeyReused("this Idempotency-Key is in use by a submission in progress")
    if earlier.body_sha256 != submission.body_sha256:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used for a different submission;"
            " use a new key for a new request"
        )
    request = await find_request(uow, earlier.request_ref)
    if request is None:
        raise LookupError(f"request {earlier.request_ref} of an idempotency key is missing")
    filed = FiledRequest(
        ref=request.ref,
        status_token=status_token(secret, request.ref),
        kind=request.kind,
        missing_fields=tuple(request.missing_fields),
    )
    return WebFiling(filed=filed, replayed=True)


async def _count(uow: UnitOfWork, scope: str, subject: str, limit: int, window: int) -> None:
    now = uow.clock.now()
    start = window_start(now, window)
    params = {"scope": scope, "subject": subject, "start": start}
    count = (await uow.session.execute(_COUNT, params)).scalar_one()
    if count > limit:
        raise RateLimited(scope, limit, window, retry_after(now, window))
    await uow.session.execute(_FORGET_WINDOWS, params)


async def submit_web_request(
    uow: UnitOfWork, submission: WebSubmission, limits: WebLimits, secret: str
) -> WebFiling:
    """File a web-form request once per Idempotency-Key, within the rate limits."""
    now = uow.clock.now()
    if submission.idempotency_key:
        await uow.session.execute(_FORGET_KEYS, {"cutoff": now - limits.key_lifetime})
        earlier = await _earlier_answer(uow, submission, secret)
        if earlier is not None:
            return earlier
    await _count(uow, "email", submission.email, limits.per_email, limits.window_seconds)
    await _count(uow, "client", submission.client, limits.per_client, limits.window_seconds)
    filed = await file_request(
        uow,
        submission.policy,
        NewRequest(
            channel="web",
            requester_email=submission.email,
            requester_name=submission.name,
            subject=submission.subject,
            body=submission.description,
            received_at=now,
        ),
        secret,
    )
    if submission.idempotency_key:
        await uow.session.execute(
            _ANSWER_KEY, {"ref": filed.ref, "key": submission.idempotency_key}
        )
    return WebFiling(filed=filed, replayed=False)
