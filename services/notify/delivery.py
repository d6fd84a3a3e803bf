"""Sending each planned email at most once per claim, and recording what happened.

A notification row is claimed in the database before sending and marked after the
server's 250. If the process dies between the 250 and the mark, the claim expires and the
redelivered event sends the message again with the same Message-ID (at-least-once; a
receiving system can drop the copy by its Message-ID). Nothing else ever sends twice.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from services.notify.composer import Outgoing, TemplateBook, compose, message_id_for
from services.notify.plans import PLANS
from services.notify.smtp import PermanentDeliveryError, SmtpMailer, TransientDeliveryError
from shared.clock import Clock
from shared.db.tables import AddressStatus, Notification, Request
from shared.events import Envelope, NotificationFailed, NotificationSent
from shared.logging import get_logger
from shared.policy import Policy, PolicyBook
from shared.request_store import find_request
from shared.signing import reply_address, status_token
from shared.unit_of_work import UnitOfWork

log = get_logger(__name__)
CLAIM_LEASE = timedelta(minutes=10)


class NotificationBusy(Exception):
    """Another worker holds a fresh claim on this notification; try again later."""


class Notifier:
    def __init__(
        self,
        new_uow: Callable[[], UnitOfWork],
        policies: PolicyBook,
        mailer: SmtpMailer,
        secret: str,
        public_base_url: str,
        clock: Clock,
    ) -> None:
        self._new_uow = new_uow
        self._clock = clock
        self._policies = policies
        self._mailer = mailer
        self._secret = secret
        self._base_url = public_base_url.rstrip("/")
        self._templates = {p.id: TemplateBook(p.templates_dir) for p in policies}

    def check_templates(self, names: list[str]) -> None:
        for book in self._templates.values():
            book.check(names)

    async def __call__(self, envelope: Envelope) -> None:
        payload = envelope.payload()
        plan = PLANS.get(type(payload))
        if plan is None or envelope.request_ref is None:
            return
        async with self._new_uow() as uow:
            request = await find_request(uow, envelope.request_ref)
        if request is None:
            raise LookupError(f"request {envelope.request_ref} not found")
        policy = self._policies[request.jurisdiction]
        for outgoing in plan(
            envelope, payload, request, policy, self._base_context(request, policy)
        ):
            await self._deliver_once(envelope, request, policy, outgoing)

    def _base_context(self, request: Request, policy: Policy) -> dict[str, Any]:
        return {
            "policy": policy,
            "ref": request.ref,
            "subject": request.subject,
            "requester_name": request.requester_name,
            "status_url": f"{self._base_url}/v1/status/{status_token(self._secret, request.ref)}",
        }

    async def _deliver_once(
        self, envelope: Envelope, request: Request, policy: Policy, outgoing: Outgoing
    ) -> None:
        message_id = message_id_for(
            envelope.event_id, outgoing.template, outgoing.recipient, policy.mail_domain
        )
        claim = await self._claim(envelope, request, outgoing, message_id)
        if claim is None:
            return
        notification_id, blocked_reason = claim
        if blocked_reason:
            await self._finish(
                envelope, request, outgoing, notification_id, message_id, failure=blocked_reason
            )
            return
        text_part, html_part = self._templates[policy.id].render(
            outgoing.template, outgoing.context
        )
        message = compose(
            policy,
            outgoing,
            ref=request.ref,
            message_id=message_id,
            reply_to=reply_address(self._secret, policy.intake_addresses[0], request.ref),
            thread=list(request.thread_message_ids),
            date=self._clock.now(),
            text=text_part,
            html=html_part,
        )
        try:
            await self._mailer.send(message)
        except PermanentDeliveryError as exc:
            await self._finish(
                envelope,
                request,
                outgoing,
                notification_id,
                message_id,
                failure=str(exc),
                permanent=True,
            )
            return
        except TransientDeliveryError as exc:
            await self._release(notification_id, str(exc))
            raise
        await self._finish(envelope, request, outgoing, notification_id, message_id)

    async def _claim(
        self, envelope: Envelope, request: Request, outgoing: Outgoing, message_id: str
    ) -> tuple[Any, str | None] | None:
        """(notification id, reason it may not be sent) or None when it was dealt with."""
        dedupe_key = f"{envelope.event_id}:{outgoing.template}:{outgoing.recipient}"
        async with self._new_uow() as uow:
            now = uow.clock.now()
            await uow.session.execute(
                insert(Notification)
                .values(
                    dedupe_key=dedupe_key,
                    about_event_id=envelope.event_id,
                    request_ref=request.ref,
                    jurisdiction=request.jurisdiction,
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
                        "SELECT id, status, claimed_at FROM notifications"
                        " WHERE dedupe_key = :key FOR UPDATE"
                    ),
                    {"key": dedupe_key},
                )
            ).one()
            if row.status in ("sent", "failed"):
                return None
            if row.status == "sending" and row.claimed_at > now - CLAIM_LEASE:
                raise NotificationBusy(dedupe_key)
            await uow.session.execute(
                text(
                    "UPDATE notifications SET status = 'sending', claimed_at = :now,"
                    " attempts = attempts + 1 WHERE id = :id"
                ),
                {"now": now, "id": row.id},
            )
            blocked = await uow.session.get(AddressStatus, outgoing.recipient)
            await uow.commit()
        if blocked is not None and blocked.undeliverable:
            return row.id, f"address marked undeliverable: {blocked.reason}"
        return row.id, None

    async def _release(self, notification_id: Any, error: str) -> None:
        async with self._new_uow() as uow:
            await uow.session.execute(
                text("UPDATE notifications SET status = 'retry', last_error = :err WHERE id = :id"),
                {"err": error[:2000], "id": notification_id},
            )
            await uow.commit()

    async def _finish(
        self,
        envelope: Envelope,
        request: Request,
        outgoing: Outgoing,
        notification_id: Any,
        message_id: str,
        failure: str | None = None,
        permanent: bool = False,
    ) -> None:
        async with self._new_uow() as uow:
            now = uow.clock.now()
            if failure is None:
                await uow.session.execute(
                    text("UPDATE notifications SET status = 'sent', sent_at = :now WHERE id = :id"),
                    {"now": now, "id": notification_id},
                )
                event: NotificationSent | NotificationFailed = NotificationSent(
                    notification_id=str(notification_id),
                    template=outgoing.template,
                    recipient=outgoing.recipient,
                    message_id=message_id,
                    about_event_id=envelope.event_id,
                )
            else:
                await uow.session.execute(
                    text(
                        "UPDATE notifications SET status = 'failed', last_error = :err WHERE id = :id"
                    ),
                    {"err": failure[:2000], "id": notification_id},
                )
                if permanent:
                    await uow.session.execute(
                        insert(AddressStatus)
                        .values(
                            address=outgoing.recipient,
                            undeliverable=True,
                            reason=failure[:500],
                            updated_at=now,
                        )
                        .on_conflict_do_update(
                            index_elements=["address"],
                            set_={
                                "undeliverable": True,
                                "reason": failure[:500],
                                "updated_at": now,
                            },
                        )
                    )
                event = NotificationFailed(
                    notification_id=str(notification_id),
                    template=outgoing.template,
                    recipient=outgoing.recipient,
                    reason=failure,
                    permanent=True,
                    about_event_id=envelope.event_id,
                )
            uow.record(
                event, jurisdiction=request.jurisdiction, request_ref=request.ref, cause=envelope
            )
            await uow.commit()
        log.info(
            "notification recorded",
            template=outgoing.template,
            recipient=outgoing.recipient,
            outcome="sent" if failure is None else "failed",
        )
