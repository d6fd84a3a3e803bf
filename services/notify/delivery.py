"""Sending each planned email once, and recording what happened.

A notification row (one email, one recipient, one event) is claimed in the database before
sending and marked after the server's 250. If the process dies between the 250 and the mark,
the claim's lease runs out and the mail is sent again with the same Message-ID
(at-least-once; a receiving system can drop the copy by its Message-ID). Nothing else ever
sends twice: a redelivered event finds its rows sent, failed, deferred or freshly claimed.

Mail that cannot go now is never dropped: a rate-limited one is `deferred` until a slot
frees, one that hit a 4xx too often is `retry`, and the sweeper (`Notifier.sweep`, run as a
worker) picks both up, and stale claims too, rebuilding each mail from the stored event.
Never publishes: events are recorded with the unit of work and the outbox relay sends them.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import MessageError
from functools import partial
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from services.notify import addresses
from services.notify.composer import (
    Outgoing,
    TemplateBook,
    TemplateProblem,
    compose,
    merge_thread,
    message_id_for,
)
from services.notify.plans import PLANS, TEMPLATES, Situation, plan
from services.notify.recipients import next_free_slot, own_addresses, refusal
from services.notify.samples import sample_renders
from services.notify.smtp import PermanentDeliveryError, SmtpMailer, TransientDeliveryError
from shared.clock import Clock
from shared.db.tables import Notification
from shared.events import Envelope, NotificationFailed, NotificationSent
from shared.logging import get_logger
from shared.policy import PolicyBook
from shared.request_store import find_request
from shared.settings import Settings
from shared.signing import api_key, reply_address, status_token
from shared.unit_of_work import UnitOfWork
from shared.wakeup import wait_any

log = get_logger(__name__)

# advisory-lock namespace for "one sender at a time counts this recipient's mails"
RATE_LOCK_CLASS = 5005


@dataclass(frozen=True)
class DeliveryRules:
    claim_lease: timedelta = timedelta(minutes=10)
    rate_limit: int = 20
    rate_window: timedelta = timedelta(hours=1)
    retry_after: timedelta = timedelta(minutes=15)
    max_rounds: int = (
        8  # claims of one mail (each up to smtp_retry_attempts tries) before giving up
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> "DeliveryRules":
        return cls(
            claim_lease=timedelta(seconds=settings.notify_claim_lease_seconds),
            rate_limit=settings.notify_rate_limit,
            rate_window=timedelta(seconds=settings.notify_rate_window_seconds),
            retry_after=timedelta(seconds=settings.notify_retry_after_seconds),
        )


class Notifier:
    def __init__(
        self,
        new_uow: Callable[[], UnitOfWork],
        policies: PolicyBook,
        mailer: SmtpMailer,
        secret: str,
        public_base_url: str,
        clock: Clock,
        rules: DeliveryRules | None = None,
    ) -> None:
        self._new_uow = new_uow
        self._clock = clock
        self._policies = policies
        self._mailer = mailer
        self._secret = secret
        self._base_url = public_base_url.rstrip("/")
        self.rules = rules or DeliveryRules()
        self._templates = {p.id: TemplateBook(p.templates_dir, p.id) for p in policies}
        self._own = own_addresses(policies)

    def check_templates(self) -> None:
        """Compile and render every template for every jurisdiction; raise TemplateProblem."""
        for policy in self._policies:
            samples = sample_renders(policy)
            if missing := set(TEMPLATES) - {name for name, _ in samples}:
                raise TemplateProblem(f"no sample renders {sorted(missing)}")
            self._templates[policy.id].check(TEMPLATES, samples)

    # --- the event handler -------------------------------------------------------------

    async def __call__(self, envelope: Envelope) -> None:
        if envelope.request_ref is None or type(envelope.payload()) not in PLANS:
            return
        situation = await self._situation(envelope)
        transient: list[TransientDeliveryError] = []
        for outgoing in plan(situation):
            try:
                await self._deliver_once(situation, outgoing)
            except TransientDeliveryError as exc:  # the other recipients still get theirs
                transient.append(exc)
        if transient:
            raise transient[0]

    async def _situation(self, envelope: Envelope) -> Situation:
        async with self._new_uow() as uow:
            request = await find_request(uow, envelope.request_ref or "")
        if request is None:
            raise LookupError(f"request {envelope.request_ref} not found")
        return Situation(
            envelope=envelope,
            request=request,
            policy=self._policies[request.jurisdiction],
            status_url=f"{self._base_url}/v1/status/{status_token(self._secret, request.ref)}",
            staff_url=f"{self._base_url}/v1/requests/{request.ref}",
            api_key_for=partial(api_key, self._secret),
        )

    async def _deliver_once(self, s: Situation, outgoing: Outgoing) -> None:
        policy, request = s.policy, s.request
        message_id = message_id_for(
            s.envelope.event_id, outgoing.template, outgoing.recipient, policy.mail_domain
        )
        text_part, html_part = self._templates[policy.id].render(
            outgoing.template, outgoing.context
        )
        notification_id = await self._claim(s, outgoing, message_id)
        if notification_id is None:
            return
        thread = await self._thread(s, outgoing, message_id)
        try:
            message = compose(
                policy,
                outgoing,
                ref=request.ref,
                message_id=message_id,
                reply_to=reply_address(self._secret, policy.intake_addresses[0], request.ref),
                thread=thread,
                date=self._clock.now(),
                text=text_part,
                html=html_part,
            )
        except (ValueError, TypeError, MessageError) as exc:  # e.g. an address no header takes
            async with self._new_uow() as uow:
                await self._fail(
                    uow, s, outgoing, notification_id, f"cannot compose: {exc}", block=False
                )
                await uow.commit()
            return
        try:
            await self._mailer.send(message)
        except PermanentDeliveryError as exc:
            async with self._new_uow() as uow:
                await self._fail(uow, s, outgoing, notification_id, str(exc), block=True)
                await uow.commit()
            return
        except TransientDeliveryError as exc:
            await self._release(notification_id, str(exc))
            raise
        await self._mark_sent(s, outgoing, notification_id, message_id)

    async def _claim(self, s: Situation, outgoing: Outgoing, message_id: str) -> UUID | None:
        """The notification's id when this worker may send it now; None when it is done,
        refused, deferred, or another worker holds a fresh claim on it."""
        dedupe_key = f"{s.envelope.event_id}:{outgoing.template}:{outgoing.recipient}"
        async with self._new_uow() as uow:
            now = uow.clock.now()
            await uow.session.execute(
                insert(Notification)
                .values(
                    dedupe_key=dedupe_key,
                    about_event_id=s.envelope.event_id,
                    request_ref=s.request.ref,
                    jurisdiction=s.request.jurisdiction,
                    template=outgoing.template,
                    recipient=outgoing.recipient,
                    message_id=message_id,
                    status="new",
                    attempts=0,
                    claimed_at=now,
                )
                .on_conflict_do_nothing()
            )
            row = (
                await uow.session.execute(
                    text(
                        "SELECT id, status, claimed_at, next_attempt_at FROM notifications"
                        " WHERE dedupe_key = :key FOR UPDATE"
                    ),
                    {"key": dedupe_key},
                )
            ).one()
            if row.status in ("sent", "failed"):
                return None
            if row.status == "sending" and row.claimed_at > now - self.rules.claim_lease:
                log.info("notification claimed by another worker", dedupe_key=dedupe_key)
                return None
            if row.status == "deferred" and row.next_attempt_at and row.next_attempt_at > now:
                return None
            reason = refusal(outgoing.recipient, self._own) or await addresses.undeliverable_reason(
                uow, outgoing.recipient
            )
            if reason:
                await self._fail(uow, s, outgoing, row.id, reason, block=False)
                await uow.commit()
                return None
            if outgoing.audience == "requester" and (
                free_at := await self._next_slot(uow, outgoing.recipient, row.id, now)
            ):
                await uow.session.execute(
                    text(
                        "UPDATE notifications SET status = 'deferred', next_attempt_at = :at,"
                        " last_error = :why WHERE id = :id"
                    ),
                    {"at": free_at, "why": "rate limit for this address", "id": row.id},
                )
                await uow.commit()
                log.info(
                    "notification deferred by the rate limit",
                    recipient=outgoing.recipient,
                    until=free_at.isoformat(),
                )
                return None
            await uow.session.execute(
                text(
                    "UPDATE notifications SET status = 'sending', claimed_at = :now,"
                    " attempts = attempts + 1 WHERE id = :id"
                ),
                {"now": now, "id": row.id},
            )
            await uow.commit()
        return UUID(str(row.id))

    async def _next_slot(
        self, uow: UnitOfWork, recipient: str, notification_id: Any, now: datetime
    ) -> datetime | None:
        """When the next mail to this address may go (None: now). Serialized per address, so
        two workers cannot both take the last free slot."""
        await uow.session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, hashtext(lower(:recipient)))"),
            {"cls": RATE_LOCK_CLASS, "recipient": recipient},
        )
        since = now - self.rules.rate_window
        rows = await uow.session.execute(
            text(
                "SELECT sent_at AS at FROM notifications WHERE lower(recipient) = lower(:r)"
                " AND status = 'sent' AND sent_at > :since"
                " UNION ALL SELECT claimed_at FROM notifications WHERE lower(recipient) = lower(:r)"
                " AND status = 'sending' AND claimed_at > :stale AND id <> :id"
            ),
            {
                "r": recipient,
                "since": since,
                "stale": now - self.rules.claim_lease,
                "id": notification_id,
            },
        )
        return next_free_slot(
            [r.at for r in rows], self.rules.rate_limit, self.rules.rate_window, now
        )

    async def _thread(self, s: Situation, outgoing: Outgoing, message_id: str) -> list[str]:
        """The request's thread as this recipient knows it: for the requester, their own
        messages (the first one first) and our earlier mails to them; for staff, our earlier
        mails to them about this request."""
        inbound = list(s.request.thread_message_ids) if outgoing.audience == "requester" else []
        async with self._new_uow() as uow:
            ours = (
                await uow.session.execute(
                    text(
                        "SELECT message_id, sent_at FROM notifications"
                        " WHERE request_ref = :ref AND lower(recipient) = lower(:r)"
                        " AND status = 'sent' AND message_id <> :mid ORDER BY sent_at"
                    ),
                    {"ref": s.request.ref, "r": outgoing.recipient, "mid": message_id},
                )
            ).all()
            inbound_at = {}
            if len(inbound) > 1:
                dated = await uow.session.execute(
                    text(
                        "SELECT message_id, min(received_at) AS at FROM inbound_mail"
                        " WHERE message_id = ANY(:ids) GROUP BY message_id"
                    ),
                    {"ids": inbound},
                )
                inbound_at = {r.message_id: r.at for r in dated}
        return merge_thread(
            inbound, inbound_at, [(r.message_id, r.sent_at) for r in ours], s.request.received_at
        )

    async def _release(self, notification_id: UUID, error: str) -> None:
        """A 4xx outlasted this round: the retry queue brings the event back soon, and the
        sweeper later still (backing off) if the queue gives up first."""
        async with self._new_uow() as uow:
            await uow.session.execute(
                text(
                    "UPDATE notifications SET status = 'retry', last_error = :err,"
                    " next_attempt_at = CAST(:now AS timestamptz) + make_interval(secs => :base"
                    " * power(2, least(greatest(attempts - 1, 0), 6))) WHERE id = :id"
                ),
                {
                    "err": error[:2000],
                    "now": uow.clock.now(),
                    "base": self.rules.retry_after.total_seconds(),
                    "id": notification_id,
                },
            )
            await uow.commit()

    async def _mark_sent(
        self, s: Situation, outgoing: Outgoing, notification_id: UUID, message_id: str
    ) -> None:
        async with self._new_uow() as uow:
            await uow.session.execute(
                text(
                    "UPDATE notifications SET status = 'sent', sent_at = :now,"
                    " next_attempt_at = NULL, last_error = NULL WHERE id = :id"
                ),
                {"now": uow.clock.now(), "id": notification_id},
            )
            self._record(
                uow,
                s,
                NotificationSent(
                    notification_id=str(notification_id),
                    template=outgoing.template,
                    recipient=outgoing.recipient,
                    message_id=message_id,
                    about_event_id=s.envelope.event_id,
                ),
            )
            await uow.commit()
        log.info("notification sent", template=outgoing.template, recipient=outgoing.recipient)

    async def _fail(
        self,
        uow: UnitOfWork,
        s: Situation,
        outgoing: Outgoing,
        notification_id: Any,
        reason: str,
        *,
        block: bool,
        permanent: bool = True,
    ) -> None:
        """Mark the notification failed (and, on a 5xx, the address undeliverable) and record
        NotificationFailed, in the caller's unit of work."""
        now = uow.clock.now()
        await uow.session.execute(
            text(
                "UPDATE notifications SET status = 'failed', last_error = :err,"
                " next_attempt_at = NULL WHERE id = :id"
            ),
            {"err": reason[:2000], "id": notification_id},
        )
        if block:
            await addresses.mark_undeliverable(uow, outgoing.recipient, reason, now)
        self._record(
            uow,
            s,
            NotificationFailed(
                notification_id=str(notification_id),
                template=outgoing.template,
                recipient=outgoing.recipient,
                reason=reason,
                permanent=permanent,
                about_event_id=s.envelope.event_id,
            ),
        )
        log.warning(
            "notification failed",
            template=outgoing.template,
            recipient=outgoing.recipient,
            reason=reason,
        )

    @staticmethod
    def _record(
        uow: UnitOfWork, s: Situation, event: NotificationSent | NotificationFailed
    ) -> None:
        uow.record(
            event, jurisdiction=s.request.jurisdiction, request_ref=s.request.ref, cause=s.envelope
        )

    # --- the sweeper ---------------------------------------------------------------------

    async def sweep(self, batch: int = 100) -> int:
        """Try every deferred or retry mail that is due, and every claim whose lease ran out;
        how many were looked at."""
        async with self._new_uow() as uow:
            now = uow.clock.now()
            rows = (
                await uow.session.execute(
                    text(
                        "SELECT id, about_event_id, template, recipient, status, attempts,"
                        " last_error FROM notifications"
                        " WHERE (status IN ('deferred', 'retry') AND next_attempt_at <= :now)"
                        " OR (status = 'sending' AND claimed_at <= :stale)"
                        " ORDER BY coalesce(next_attempt_at, claimed_at), id LIMIT :batch"
                    ),
                    {"now": now, "stale": now - self.rules.claim_lease, "batch": batch},
                )
            ).all()
        for row in rows:
            try:
                await self._resume(row)
            except TransientDeliveryError:
                pass  # released with a later next_attempt_at
            except Exception as exc:  # one bad row must not stop the others
                log.error(
                    "sweeping a notification failed", notification_id=str(row.id), error=repr(exc)
                )
        return len(rows)

    async def _resume(self, row: Any) -> None:
        envelope = await self._stored_event(row.about_event_id)
        if envelope is None:
            await self._abandon(row.id, "the event it reports is not in the event log")
            return
        s = await self._situation(envelope)
        wanted = [o for o in plan(s) if o.template == row.template and o.recipient == row.recipient]
        if not wanted:
            await self._abandon(row.id, "the event no longer calls for this mail")
            return
        if row.status != "deferred" and row.attempts >= self.rules.max_rounds:
            async with self._new_uow() as uow:
                await self._fail(
                    uow,
                    s,
                    wanted[0],
                    row.id,
                    f"gave up after {row.attempts} rounds: {row.last_error or 'no answer'}",
                    block=False,
                    permanent=False,
                )
                await uow.commit()
            return
        await self._deliver_once(s, wanted[0])

    async def _abandon(self, notification_id: Any, reason: str) -> None:
        async with self._new_uow() as uow:
            await uow.session.execute(
                text(
                    "UPDATE notifications SET status = 'failed', last_error = :err WHERE id = :id"
                ),
                {"err": reason, "id": notification_id},
            )
            await uow.commit()
        log.error("notification abandoned", notification_id=str(notification_id), reason=reason)

    async def _stored_event(self, event_id: UUID) -> Envelope | None:
        async with self._new_uow() as uow:
            row = (
                await uow.session.execute(
                    text(
                        "SELECT event_id, type, schema_version, sequence, occurred_at,"
                        " jurisdiction, request_ref, correlation_id, causation_id, actor, data"
                        " FROM events WHERE event_id = :id"
                    ),
                    {"id": event_id},
                )
            ).first()
        return None if row is None else Envelope.model_validate(dict(row._mapping))

    async def run(self, poll_seconds: float, stop: asyncio.Event) -> None:
        """Sweep until stopped; a due mail waits at most `poll_seconds`."""
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception as exc:  # keep sweeping after a database blip
                log.error("notification sweep failed", error=repr(exc))
            await wait_any(asyncio.Event(), stop, poll_seconds)
