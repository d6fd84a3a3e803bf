"""Turns stored inbound mail into requests and replies, one message per transaction.

The order of the checks is written down once, in `MailRoom._route`; each check is a
small pure module in services.intake.mail_checks. Every outcome (a new request, a reply
on a request's timeline, a bounce recorded, automatic mail ignored, a duplicate, a
message held or quarantined with its reason) commits together with the message's status
and its events; nothing is published from here (the outbox relay does that) and no
message is ever dropped: `recordsdesk mail reprocess ID` puts a quarantined or held one
back in line.

Statuses of inbound_mail: pending, processed, ignored (automatic or our own mail),
bounce, duplicate, held (sender over the hourly limit), quarantined.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from services.intake.filing import NewRequest, file_request
from services.intake.mail_checks.attachments import within_limit
from services.intake.mail_checks.automatic_mail import automatic_reason, own_mail_reason
from services.intake.mail_checks.bounce import Bounce, detect_bounce
from services.intake.mail_checks.dedupe import judge_repeat
from services.intake.mail_checks.follow_up import follow_up_for
from services.intake.mail_checks.jurisdiction import jurisdiction_for
from services.intake.mail_checks.reply_matching import ReplyMatcher, ThreadMatch
from services.intake.mail_checks.sender_limit import SenderLimit
from services.intake.mail_drop import INBOUND_CHANNEL
from services.intake.mail_records import MailRecords
from services.intake.parsing import ParsedMail, UnparseableMail, parse_mail
from shared.events import (
    Actor,
    Appealed,
    AttachmentTooLarge,
    ClarificationReceived,
    CostAccepted,
    CostDeclined,
    Event,
    ReplyReceived,
)
from shared.logging import get_logger
from shared.policy import Policy, PolicyBook
from shared.unit_of_work import UnitOfWork
from shared.wakeup import listen, wait_any

log = get_logger(__name__)

_CLAIM_NEXT = text(
    """
    SELECT id, sha256, raw, envelope_recipient, received_at FROM inbound_mail
    WHERE status = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
    """
)
_CLAIM_ONE = text(
    """
    SELECT id, sha256, raw, envelope_recipient, received_at FROM inbound_mail
    WHERE id = :id AND status = 'pending' FOR UPDATE SKIP LOCKED
    """
)
_FINISH = text(
    """
    UPDATE inbound_mail SET status = :status, outcome = :outcome, message_id = :message_id,
        request_ref = :ref, content_sha256 = :fingerprint, processed_at = :now,
        attempts = attempts + 1
    WHERE id = :id
    """
)
_REQUEUE = text(
    """
    UPDATE inbound_mail SET status = 'pending', last_error = outcome
    WHERE id = :id AND status IN ('quarantined', 'held')
    RETURNING id
    """
)
_STATUS = text("SELECT status, outcome FROM inbound_mail WHERE id = :id")
REPROCESSABLE = ("quarantined", "held")


@dataclass(frozen=True)
class Outcome:
    status: str  # processed | ignored | bounce | duplicate | held | quarantined
    reason: str
    message_id: str | None = None
    ref: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True)
class _Stored:
    id: int
    sha256: str
    raw: bytes
    envelope_recipient: str
    received_at: datetime


class MailRoom:
    def __init__(
        self, new_uow: Callable[[], UnitOfWork], policies: PolicyBook, secret: str
    ) -> None:
        self._new_uow = new_uow
        self._policies = policies
        self._secret = secret
        self._matcher = ReplyMatcher(secret, [p.reference_prefix for p in policies])

    async def process_next(self) -> Outcome | None:
        """Handle the oldest pending message; None when there is none."""
        return await self._process(_CLAIM_NEXT, {})

    async def process(self, mail_id: int) -> Outcome | None:
        """Handle this pending message; None when it is not pending (or another worker has it)."""
        return await self._process(_CLAIM_ONE, {"id": mail_id})

    async def reprocess(self, mail_id: int) -> Outcome | str:
        """Put a quarantined or held message back in line and handle it now.

        Returns its outcome, or a sentence saying why it was not reprocessed."""
        async with self._new_uow() as uow:
            requeued = (await uow.session.execute(_REQUEUE, {"id": mail_id})).first()
            current = (await uow.session.execute(_STATUS, {"id": mail_id})).first()
            await uow.commit()
        if current is None:
            return f"no inbound mail {mail_id}"
        if requeued is None:
            return (
                f"inbound mail {mail_id} is {current.status}, not one of"
                f" {', '.join(REPROCESSABLE)}; nothing to do"
            )
        outcome = await self.process(mail_id)
        return outcome or f"inbound mail {mail_id} is queued; a running intake service took it"

    async def _process(self, claim: Any, params: dict[str, Any]) -> Outcome | None:
        async with self._new_uow() as uow:
            row = (await uow.session.execute(claim, params)).first()
            if row is None:
                return None
            stored = _Stored(row.id, row.sha256, row.raw, row.envelope_recipient, row.received_at)
            try:
                outcome = await self._route(uow, stored)
            except Exception as exc:  # a bug must not lose the message or wedge the queue
                log.exception("inbound mail failed; quarantined", inbound_mail_id=stored.id)
                await uow.session.rollback()
                return await self._quarantine_after_crash(stored.id, f"internal error: {exc!r}")
            await uow.session.execute(_FINISH, self._finish_params(uow, stored.id, outcome))
            await uow.commit()
        log.info(
            "inbound mail handled",
            inbound_mail_id=stored.id,
            status=outcome.status,
            reason=outcome.reason,
            request_ref=outcome.ref,
        )
        return outcome

    @staticmethod
    def _finish_params(uow: UnitOfWork, mail_id: int, outcome: Outcome) -> dict[str, Any]:
        return {
            "status": outcome.status,
            "outcome": outcome.reason[:2000],
            "message_id": (outcome.message_id or "")[:998] or None,
            "ref": outcome.ref,
            "fingerprint": outcome.fingerprint,
            "now": uow.clock.now(),
            "id": mail_id,
        }

    async def _quarantine_after_crash(self, mail_id: int, reason: str) -> Outcome:
        outcome = Outcome("quarantined", reason)
        async with self._new_uow() as uow:
            await uow.session.execute(_FINISH, self._finish_params(uow, mail_id, outcome))
            await uow.commit()
        return outcome

    async def _route(self, uow: UnitOfWork, stored: _Stored) -> Outcome:
        """The checks, in order. The first that decides the message's fate ends the route."""
        # 1. Parse. No single unambiguous sender: quarantined, for staff.
        try:
            mail = parse_mail(stored.raw)
        except UnparseableMail as exc:
            return Outcome("quarantined", f"unparseable: {exc}")
        records = MailRecords(uow)

        def outcome(status: str, reason: str, ref: str | None = None) -> Outcome:
            return Outcome(status, reason, mail.message_id, ref, mail.content_fingerprint)

        # 2. Seen before? Same content: duplicate. Different content: quarantined.
        await records.lock_message_id(mail.message_id)
        earlier = await records.earlier_copy(mail.message_id, stored.id)
        if repeat := judge_repeat(earlier, mail.content_fingerprint, stored.sha256):
            return outcome(repeat.status, repeat.reason, repeat.ref)

        # 3. Which jurisdiction: none of our addresses means quarantine.
        policy = jurisdiction_for(self._policies, stored.envelope_recipient, mail.recipients)
        if policy is None:
            return outcome("quarantined", "addressed to no known intake address")

        # 4. Our own mail come back: never answered.
        if reason := own_mail_reason(mail, self._policies):
            return outcome("ignored", reason, await self._own_mail_ref(records, mail))

        # 5. Bounces: record the failed addresses, link to the request, never answer.
        if bounce := detect_bounce(mail):
            return await self._bounce(records, mail, bounce, outcome)

        # 6. Which request it answers (7 only links to it; 8 acts on it).
        matched = await self._matcher.match(mail, stored.envelope_recipient, records)

        # 7. Automatic mail (auto-reply, out of office, lists): never answered or filed.
        if reason := automatic_reason(mail):
            ref = matched.match.ref if matched.match else None
            return outcome("ignored", f"automatic mail ({reason})", ref)

        # 8. A reply: clarification, cost answer or a message on the timeline.
        linked_ref = None
        if matched.match is not None:
            followed = await self._follow_up(uow, records, stored, mail, matched.match)
            if isinstance(followed, Outcome):
                return followed
            linked_ref = followed

        # 9. Too many new requests from this sender this hour: held for staff.
        limit = SenderLimit(policy.max_new_mail_requests_per_sender_per_hour)
        recent = await records.mail_requests_since(mail.sender, limit.window_start(uow.clock.now()))
        if limit.reached(recent):
            return outcome("held", limit.reason(recent))

        # 10. A new request.
        filed = await file_request(
            uow,
            policy,
            NewRequest(
                channel="mail",
                requester_email=mail.sender,
                requester_name=mail.sender_name[:200],  # the column's width
                subject=mail.subject or "(no subject)",
                body=mail.text,
                received_at=stored.received_at,
                inbound_message_id=mail.message_id,
                linked_ref=linked_ref,
            ),
            self._secret,
        )
        await self._attachments(uow, records, stored.id, policy, filed.ref, mail)
        reason = "filed a new request"
        if linked_ref:
            reason += f" linked to {linked_ref}, closed too long ago to reopen"
        if matched.notes:
            reason += f" ({'; '.join(matched.notes)})"
        return outcome("processed", reason, filed.ref)

    @staticmethod
    async def _own_mail_ref(records: MailRecords, mail: ParsedMail) -> str | None:
        named = mail.headers.get("x-recordsdesk-reference", "").strip().upper()
        if named and await records.requester_of(named) is not None:
            return named
        return await records.ref_for_message_ids([mail.message_id])

    async def _bounce(
        self,
        records: MailRecords,
        mail: ParsedMail,
        bounce: Bounce,
        outcome: Callable[[str, str, str | None], Outcome],
    ) -> Outcome:
        ref = await records.ref_for_bounce(bounce)
        recorded = await records.record_bounce(bounce, f"bounced: {mail.subject[:200]}")
        reason = f"bounce: {bounce.summary}"
        unknown = sorted(set(bounce.permanent + bounce.temporary) - set(recorded))
        if unknown:
            reason += f"; not recorded for {', '.join(unknown)} (never mailed by us)"
        return outcome("bounce", reason, ref)

    async def _follow_up(
        self,
        uow: UnitOfWork,
        records: MailRecords,
        stored: _Stored,
        mail: ParsedMail,
        match: ThreadMatch,
    ) -> Outcome | str:
        """Record what the reply means on its request; or the ref a new request links to."""
        thread, jurisdiction = await records.thread_state(match.ref)
        policy = self._policies[jurisdiction]
        decision = follow_up_for(
            thread, mail.sender, mail.reply_text, uow.clock.now(), policy.reopen_within_days
        )
        if decision.kind == "new_linked_request":
            return thread.ref
        said = mail.reply_text
        event: Event
        match decision.kind:
            case "clarification":
                event = ClarificationReceived(text=said, inbound_message_id=mail.message_id)
            case "cost_accepted":
                event = CostAccepted(text=said)
            case "cost_declined":
                event = CostDeclined(text=said)
            case "appeal":
                event = Appealed(text=said, late=decision.late)
            case _:
                note = decision.note
                if mail.attachments:
                    names = ", ".join(a.filename for a in mail.attachments)
                    note = f"{note}; attachments: {names}".lstrip("; ")
                event = ReplyReceived(
                    text=said, sender=mail.sender, inbound_message_id=mail.message_id, note=note
                )
        uow.record(
            event,
            jurisdiction=jurisdiction,
            request_ref=thread.ref,
            actor=Actor(kind="requester", id=mail.sender),
        )
        if not mail.message_id_derived:
            await records.append_thread_id(thread.ref, mail.message_id)
        await self._attachments(uow, records, stored.id, policy, thread.ref, mail)
        reason = f"{type(event).__name__} on {thread.ref} (matched by {match.via})"
        if decision.note:
            reason += f": {decision.note}"
        return Outcome("processed", reason, mail.message_id, thread.ref, mail.content_fingerprint)

    async def _attachments(
        self,
        uow: UnitOfWork,
        records: MailRecords,
        mail_id: int,
        policy: Policy,
        ref: str,
        mail: ParsedMail,
    ) -> None:
        if not mail.attachments:
            return
        verdict = within_limit(mail.attachments, policy.max_attachment_bytes)
        await records.store_attachments(mail_id, ref, mail.attachments, set(verdict.kept))
        for position in verdict.too_large:
            attachment = mail.attachments[position]
            uow.record(
                AttachmentTooLarge(
                    filename=attachment.filename,
                    size_bytes=attachment.size,
                    limit_bytes=policy.max_attachment_bytes,
                ),
                jurisdiction=policy.id,
                request_ref=ref,
                actor=Actor(kind="requester", id=mail.sender),
            )

    async def drain(self) -> int:
        handled = 0
        while await self.process_next() is not None:
            handled += 1
        return handled

    async def run(self, dsn: str, poll_seconds: float, stop: asyncio.Event) -> None:
        wake = asyncio.Event()
        listener = asyncio.create_task(listen(dsn, INBOUND_CHANNEL, wake, stop))
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    await self.drain()
                except Exception as exc:
                    log.error("mail room pass failed", error=repr(exc))
                await wait_any(wake, stop, poll_seconds)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
