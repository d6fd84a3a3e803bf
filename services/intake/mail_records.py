"""What the mail room reads and writes in the database, inside the caller's unit of work.

Only queries live here; the decisions are the pure checks in services.intake.mail_checks.
Nothing here commits: the mail room commits the message's outcome, its events and these
writes together.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, TEXT, insert

from services.intake.mail_checks.bounce import Bounce
from services.intake.mail_checks.dedupe import EarlierCopy
from services.intake.mail_checks.follow_up import ThreadState
from services.intake.parsing import Attachment
from shared.db.tables import AddressStatus, AttachmentContent, MailAttachment
from shared.unit_of_work import UnitOfWork

# Copies of one Message-ID are judged one at a time, so two workers never both file it.
_LOCK_MESSAGE_ID = text("SELECT pg_advisory_xact_lock(hashtextextended(:message_id, 3))")
_EARLIER_COPY = text(
    """
    SELECT id, content_sha256, sha256, request_ref FROM inbound_mail
    WHERE message_id = :message_id AND id <> :id
      AND status IN ('processed', 'ignored', 'bounce', 'held')
    ORDER BY id LIMIT 1
    """
)
_OUR_MESSAGE_IDS = text(
    """
    SELECT n.message_id, n.request_ref FROM notifications n
    JOIN requests r ON r.ref = n.request_ref
    WHERE n.message_id = ANY(:ids)
    """
).bindparams(bindparam("ids", type_=ARRAY(TEXT)))
_REQUESTER_MESSAGE_IDS = text(
    "SELECT ref, thread_message_ids FROM requests WHERE thread_message_ids ?| :ids"
).bindparams(bindparam("ids", type_=ARRAY(TEXT)))
_REQUESTER = text("SELECT requester_email FROM requests WHERE ref = :ref")
_THREAD = text(
    """
    SELECT ref, jurisdiction, state, requester_email, closed_at, appeal_deadline FROM requests
    WHERE ref = :ref FOR UPDATE
    """
)
_LAST_QUESTION_OR_ANSWER = text(
    """
    SELECT type FROM events
    WHERE request_ref = :ref AND type IN ('ClarificationNeeded', 'ClarificationReceived',
        'CostEstimated', 'CostAccepted', 'CostDeclined')
    ORDER BY sequence DESC LIMIT 1
    """
)
_QUESTIONS = {"ClarificationNeeded", "CostEstimated"}
_APPEND_THREAD_ID = text(
    """
    UPDATE requests SET thread_message_ids = thread_message_ids || jsonb_build_array(:mid),
        updated_at = :now
    WHERE ref = :ref AND NOT thread_message_ids ? :mid
    """
)
_MAIL_REQUESTS_SINCE = text(
    """
    SELECT count(*) FROM requests
    WHERE lower(requester_email) = :sender AND channel = 'mail' AND created_at > :since
    """
)
_MAILED_ADDRESSES = text(
    "SELECT DISTINCT lower(recipient) FROM notifications WHERE lower(recipient) = ANY(:addresses)"
).bindparams(bindparam("addresses", type_=ARRAY(TEXT)))
_LAST_REF_MAILED_TO = text(
    """
    SELECT request_ref FROM notifications
    WHERE lower(recipient) = ANY(:addresses) AND request_ref IS NOT NULL
    ORDER BY claimed_at DESC LIMIT 1
    """
).bindparams(bindparam("addresses", type_=ARRAY(TEXT)))


class MailRecords:
    """Database look-ups and writes for one message, in one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def lock_message_id(self, message_id: str) -> None:
        await self._uow.session.execute(_LOCK_MESSAGE_ID, {"message_id": message_id})

    async def earlier_copy(self, message_id: str, mail_id: int) -> EarlierCopy | None:
        row = (
            await self._uow.session.execute(
                _EARLIER_COPY, {"message_id": message_id, "id": mail_id}
            )
        ).first()
        if row is None:
            return None
        return EarlierCopy(row.id, row.content_sha256, row.sha256, row.request_ref)

    # --- threading (services.intake.mail_checks.reply_matching.ThreadLookup) -------------

    async def ref_for_message_ids(self, message_ids: Sequence[str]) -> str | None:
        ids = list(message_ids)
        session = self._uow.session
        ours = {
            r.message_id: r.request_ref
            for r in await session.execute(_OUR_MESSAGE_IDS, {"ids": ids})
        }
        for message_id in ids:
            if message_id in ours:
                return str(ours[message_id])
        theirs = (await session.execute(_REQUESTER_MESSAGE_IDS, {"ids": ids})).all()
        for message_id in ids:
            for row in theirs:
                if message_id in row.thread_message_ids:
                    return str(row.ref)
        return None

    async def requester_of(self, ref: str) -> str | None:
        found = (await self._uow.session.execute(_REQUESTER, {"ref": ref})).scalar()
        return str(found) if found is not None else None

    async def thread_state(self, ref: str) -> tuple[ThreadState, str]:
        """The request's state (row locked until commit) and its jurisdiction."""
        session = self._uow.session
        row = (await session.execute(_THREAD, {"ref": ref})).one()
        last = (await session.execute(_LAST_QUESTION_OR_ANSWER, {"ref": ref})).scalar()
        thread = ThreadState(
            ref=row.ref,
            state=row.state,
            requester_email=row.requester_email,
            closed_at=row.closed_at,
            question_open=last is None or last in _QUESTIONS,
            appeal_deadline=row.appeal_deadline,
        )
        return thread, str(row.jurisdiction)

    async def append_thread_id(self, ref: str, message_id: str) -> None:
        """Our next mail about `ref` then threads under the requester's latest message."""
        await self._uow.session.execute(
            _APPEND_THREAD_ID, {"ref": ref, "mid": message_id, "now": self._uow.clock.now()}
        )

    # --- sender limit ---------------------------------------------------------------------

    async def mail_requests_since(self, sender: str, since: datetime) -> int:
        result = await self._uow.session.execute(
            _MAIL_REQUESTS_SINCE, {"sender": sender.lower(), "since": since}
        )
        return int(result.scalar_one())

    # --- bounces --------------------------------------------------------------------------

    async def ref_for_bounce(self, bounce: Bounce) -> str | None:
        if bounce.returned_message_ids:
            ref = await self.ref_for_message_ids(bounce.returned_message_ids)
            if ref is not None:
                return ref
        for ref in bounce.refs:
            if await self.requester_of(ref) is not None:
                return ref
        failed = [*bounce.permanent, *bounce.temporary]
        if not failed:
            return None
        result = await self._uow.session.execute(_LAST_REF_MAILED_TO, {"addresses": failed})
        found = result.scalar()
        return str(found) if found is not None else None

    async def record_bounce(self, bounce: Bounce, reason: str) -> list[str]:
        """Mark permanent failures undeliverable and count temporary ones, for addresses we
        have mailed (a forged bounce cannot silence an address we never wrote to).
        Returns the addresses recorded."""
        failed = [*bounce.permanent, *bounce.temporary]
        if not failed:
            return []
        mailed = set(
            (await self._uow.session.execute(_MAILED_ADDRESSES, {"addresses": failed}))
            .scalars()
            .all()
        )
        now = self._uow.clock.now()
        recorded: list[str] = []
        for address in failed:
            if address not in mailed:
                continue
            permanent = address in bounce.permanent
            statement = insert(AddressStatus).values(
                address=address,
                undeliverable=permanent,
                reason=reason[:2000] if permanent else None,
                updated_at=now,
                temporary_failures=0 if permanent else 1,
            )
            table = AddressStatus.__table__.c  # type: ignore[attr-defined]
            update = (
                {"undeliverable": True, "reason": statement.excluded.reason, "updated_at": now}
                if permanent
                else {"temporary_failures": table.temporary_failures + 1, "updated_at": now}
            )
            await self._uow.session.execute(
                statement.on_conflict_do_update(index_elements=["address"], set_=update)
            )
            recorded.append(address)
        return recorded

    # --- attachments ----------------------------------------------------------------------

    async def store_attachments(
        self,
        mail_id: int,
        ref: str,
        attachments: Sequence[Attachment],
        stored_positions: set[int],
    ) -> None:
        """Each content once by sha256; the link from this mail to each attachment always."""
        session = self._uow.session
        now = self._uow.clock.now()
        for position, attachment in enumerate(attachments):
            stored = position in stored_positions
            if stored:
                await session.execute(
                    insert(AttachmentContent)
                    .values(
                        sha256=attachment.sha256,
                        size_bytes=attachment.size,
                        content=attachment.data,
                        created_at=now,
                    )
                    .on_conflict_do_nothing()
                )
            await session.execute(
                insert(MailAttachment)
                .values(
                    inbound_mail_id=mail_id,
                    position=position,
                    request_ref=ref,
                    filename=attachment.filename[:255],
                    content_type=attachment.content_type[:255],
                    size_bytes=attachment.size,
                    sha256=attachment.sha256,
                    stored=stored,
                )
                .on_conflict_do_nothing()
            )
