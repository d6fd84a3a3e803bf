"""Turns stored inbound mail into requests, one message per transaction.

The order of the checks is written down once, in `MailRoom._route`. A message that cannot
be handled is quarantined with its reason, never dropped; `recordsdesk mail reprocess ID`
puts it back in line.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from services.intake.filing import NewRequest, file_request
from services.intake.mail_drop import INBOUND_CHANNEL
from services.intake.parsing import ParsedMail, UnparseableMail, parse_mail
from shared.logging import get_logger
from shared.policy import PolicyBook
from shared.unit_of_work import UnitOfWork
from shared.wakeup import listen, wait_any

log = get_logger(__name__)

_CLAIM = text(
    """
    SELECT id, raw, envelope_recipient, received_at FROM inbound_mail
    WHERE status = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
    """
)
_FINISH = text(
    """
    UPDATE inbound_mail SET status = :status, outcome = :outcome, message_id = :message_id,
        request_ref = :ref, processed_at = :now, attempts = attempts + 1
    WHERE id = :id
    """
)
_SEEN = text(
    """
    SELECT sha256 = (SELECT sha256 FROM inbound_mail WHERE id = :id) AS same_bytes
    FROM inbound_mail
    WHERE message_id = :message_id AND id <> :id AND status IN ('processed', 'ignored')
    LIMIT 1
    """
)


def _is_automatic(mail: ParsedMail) -> str | None:
    auto = mail.headers.get("auto-submitted", "no").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = mail.headers.get("precedence", "").strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    return None


@dataclass(frozen=True)
class Outcome:
    status: str  # processed | ignored | quarantined | duplicate
    reason: str
    message_id: str | None = None
    ref: str | None = None


class MailRoom:
    def __init__(
        self, new_uow: Callable[[], UnitOfWork], policies: PolicyBook, secret: str
    ) -> None:
        self._new_uow = new_uow
        self._policies = policies
        self._secret = secret

    async def process_next(self) -> Outcome | None:
        """Handle the oldest pending message; None when there is none."""
        async with self._new_uow() as uow:
            row = (await uow.session.execute(_CLAIM)).first()
            if row is None:
                return None
            try:
                outcome = await self._route(
                    uow, row.id, row.raw, row.envelope_recipient, row.received_at
                )
            except Exception as exc:  # a bug must not lose the message or wedge the queue
                log.exception("inbound mail failed; quarantined", inbound_mail_id=row.id)
                await uow.session.rollback()
                return await self._quarantine_after_crash(row.id, f"internal error: {exc!r}")
            await uow.session.execute(
                _FINISH,
                {
                    "status": outcome.status,
                    "outcome": outcome.reason,
                    "message_id": outcome.message_id,
                    "ref": outcome.ref,
                    "now": uow.clock.now(),
                    "id": row.id,
                },
            )
            await uow.commit()
        log.info(
            "inbound mail handled",
            inbound_mail_id=row.id,
            status=outcome.status,
            reason=outcome.reason,
            request_ref=outcome.ref,
        )
        return outcome

    async def _quarantine_after_crash(self, mail_id: int, reason: str) -> Outcome:
        async with self._new_uow() as uow:
            await uow.session.execute(
                _FINISH,
                {
                    "status": "quarantined",
                    "outcome": reason[:2000],
                    "message_id": None,
                    "ref": None,
                    "now": uow.clock.now(),
                    "id": mail_id,
                },
            )
            await uow.commit()
        return Outcome("quarantined", reason)

    async def _route(
        self,
        uow: UnitOfWork,
        mail_id: int,
        raw: bytes,
        envelope_recipient: str,
        received_at: datetime,
    ) -> Outcome:
        try:
            mail = parse_mail(raw)
        except UnparseableMail as exc:
            return Outcome("quarantined", f"unparseable: {exc}")
        seen = (
            await uow.session.execute(_SEEN, {"message_id": mail.message_id, "id": mail_id})
        ).first()
        if seen is not None:
            if seen.same_bytes:
                return Outcome("duplicate", "same message delivered again", mail.message_id)
            return Outcome(
                "quarantined", "Message-ID seen before with different content", mail.message_id
            )
        candidates = [envelope_recipient] if envelope_recipient else []
        candidates += mail.recipients
        policy = next((p for a in candidates if (p := self._policies.for_address(a))), None)
        if policy is None:
            return Outcome("quarantined", "addressed to no known intake address", mail.message_id)
        if automatic := _is_automatic(mail):
            return Outcome("ignored", f"automatic mail ({automatic})", mail.message_id)
        filed = await file_request(
            uow,
            policy,
            NewRequest(
                channel="mail",
                requester_email=mail.sender,
                requester_name=mail.sender_name,
                subject=mail.subject or "(no subject)",
                body=mail.text,
                received_at=received_at,
                inbound_message_id=mail.message_id,
            ),
            self._secret,
        )
        return Outcome("processed", "filed a new request", mail.message_id, filed.ref)

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
