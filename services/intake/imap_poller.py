"""IMAP polling inside `recordsdesk run intake`: mail in from a mailbox, stored like the pipe.

Fetches by UID, oldest first, everything above the last UID it stored under the mailbox's
current UIDVALIDITY (kept in `imap_mailboxes`); when UIDVALIDITY changes, the old UIDs mean
nothing and it fetches everything again (the sha256 dedupe in mail_drop absorbs repeats).
A message is flagged \\Seen (or moved) only after mail_drop.store committed it; a failure
ends the pass with nothing flagged past the last stored message, and the next pass goes
on from there. It never parses or judges the mail, and never deletes any.
"""

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import aioimaplib
from sqlalchemy import text

from services.intake.mail_drop import store
from shared.clock import Clock
from shared.logging import get_logger
from shared.unit_of_work import UnitOfWork
from shared.wakeup import wait_any

log = get_logger(__name__)

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_FETCH_UID = re.compile(rb"\bUID (\d+)\b", re.IGNORECASE)
_LITERAL = re.compile(rb"\{(\d+)\}$")

_STATE = text("SELECT uidvalidity, last_uid FROM imap_mailboxes WHERE mailbox_key = :key")
_RESET = text(
    """
    INSERT INTO imap_mailboxes (mailbox_key, uidvalidity, last_uid, updated_at)
    VALUES (:key, :uidvalidity, 0, :now)
    ON CONFLICT (mailbox_key) DO UPDATE
    SET uidvalidity = EXCLUDED.uidvalidity, last_uid = 0, updated_at = EXCLUDED.updated_at
    """
)
_ADVANCE = text(
    """
    UPDATE imap_mailboxes SET last_uid = GREATEST(last_uid, :uid), updated_at = :now
    WHERE mailbox_key = :key AND uidvalidity = :uidvalidity
    """
)


class ImapError(Exception):
    """The server refused a command; the pass ends and the next one starts over."""


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str
    mailbox: str = "INBOX"
    ssl: bool = False
    recipient: str = ""  # the intake address this mailbox receives for, when known
    move_to: str | None = None  # move stored messages here instead of flagging \Seen
    timeout: float = 30.0

    @property
    def key(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.mailbox}"


@dataclass(frozen=True)
class PollResult:
    uidvalidity: int
    fetched: int  # messages read from the server this pass
    stored: int  # of those, new to the database (the rest were stored before)
    refetched_all: bool  # UIDVALIDITY was new, so every message was read again


def uidvalidity_of(lines: list[bytes | bytearray]) -> int:
    """UIDVALIDITY from a SELECT response."""
    for line in lines:
        found = _UIDVALIDITY.search(bytes(line))
        if found:
            return int(found.group(1))
    raise ImapError("SELECT answer has no UIDVALIDITY")


def uids_of(lines: list[bytes | bytearray]) -> list[int]:
    """UIDs from a UID SEARCH response (`* SEARCH 3 4 5` arrives as b'3 4 5')."""
    uids: list[int] = []
    for line in lines:
        words = bytes(line).split()
        if words and all(w.isdigit() for w in words):
            uids.extend(int(w) for w in words)
    return sorted(set(uids))


def message_of(lines: list[bytes | bytearray], uid: int) -> bytes | None:
    """The raw message of `uid` from a UID FETCH (BODY.PEEK[]) response, or None."""
    for position, line in enumerate(lines):
        head = bytes(line)
        if b"FETCH" not in head or not _LITERAL.search(head):
            continue
        literal = lines[position + 1] if position + 1 < len(lines) else None
        tail = bytes(lines[position + 2]) if position + 2 < len(lines) else b""
        found = _FETCH_UID.search(head) or _FETCH_UID.search(tail)
        if literal is not None and found and int(found.group(1)) == uid:
            return bytes(literal)
    return None


def _ok(response: aioimaplib.Response, what: str) -> list[bytes | bytearray]:
    if response.result != "OK":
        said = b" ".join(bytes(x) for x in response.lines[-1:]).decode(errors="replace")
        raise ImapError(f"{what}: {response.result} {said}")
    return list(response.lines)


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapPoller:
    def __init__(
        self, account: ImapAccount, dsn: str, new_uow: Callable[[], UnitOfWork], clock: Clock
    ) -> None:
        self.account = account
        self._dsn = dsn
        self._new_uow = new_uow
        self._clock = clock

    async def _connect(self) -> aioimaplib.IMAP4:
        account = self.account
        client: aioimaplib.IMAP4
        if account.ssl:
            client = aioimaplib.IMAP4_SSL(account.host, account.port, timeout=account.timeout)
        else:
            client = aioimaplib.IMAP4(account.host, account.port, timeout=account.timeout)
        await client.wait_hello_from_server()
        _ok(await client.login(account.user, account.password), "LOGIN")
        return client

    async def _position(self, uidvalidity: int) -> tuple[int, bool]:
        """The last UID already stored, and whether this UIDVALIDITY is new (start over)."""
        async with self._new_uow() as uow:
            row = (await uow.session.execute(_STATE, {"key": self.account.key})).first()
            if row is not None and row.uidvalidity == uidvalidity:
                return int(row.last_uid), False
            await uow.session.execute(
                _RESET,
                {"key": self.account.key, "uidvalidity": uidvalidity, "now": uow.clock.now()},
            )
            await uow.commit()
            if row is not None:
                log.warning(
                    "imap UIDVALIDITY changed; fetching the whole mailbox again",
                    mailbox=self.account.key,
                    was=row.uidvalidity,
                    now=uidvalidity,
                )
            return 0, True

    async def _advance(self, uidvalidity: int, uid: int) -> None:
        async with self._new_uow() as uow:
            await uow.session.execute(
                _ADVANCE,
                {
                    "key": self.account.key,
                    "uidvalidity": uidvalidity,
                    "uid": uid,
                    "now": uow.clock.now(),
                },
            )
            await uow.commit()

    async def _mark_done(self, client: aioimaplib.IMAP4, uid: int) -> None:
        if self.account.move_to:
            _ok(await client.uid("move", str(uid), _quote(self.account.move_to)), "UID MOVE")
        else:
            _ok(await client.uid("store", str(uid), "+FLAGS.SILENT (\\Seen)"), "UID STORE")

    async def poll_once(self) -> PollResult:
        """One pass: store every message above the last stored UID, flag each after it."""
        client = await self._connect()
        try:
            selected = _ok(await client.select(_quote(self.account.mailbox)), "SELECT")
            uidvalidity = uidvalidity_of(selected)
            last_uid, refetch = await self._position(uidvalidity)
            found = _ok(
                await client.uid_search(f"UID {last_uid + 1}:*", charset=None), "UID SEARCH"
            )
            # "N:*" always names the newest message, even when its UID is below N
            uids = [uid for uid in uids_of(found) if uid > last_uid]
            fetched = stored = 0
            for uid in uids:
                answer = _ok(await client.uid("fetch", str(uid), "(UID BODY.PEEK[])"), "UID FETCH")
                raw = message_of(answer, uid)
                if raw is None:  # expunged since the search: nothing to store
                    continue
                fetched += 1
                row_id = await store(
                    self._dsn, raw, self.account.recipient, "imap", self._clock.now()
                )
                stored += row_id is not None
                await self._mark_done(client, uid)
                await self._advance(uidvalidity, uid)
            return PollResult(uidvalidity, fetched, stored, refetch)
        finally:
            with contextlib.suppress(Exception):  # a broken connection needs no goodbye
                await client.logout()

    async def run(self, poll_seconds: float, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; a failed pass is logged and the next one retries."""
        while not stop.is_set():
            try:
                result = await self.poll_once()
                if result.fetched:
                    log.info(
                        "imap poll stored mail",
                        mailbox=self.account.key,
                        fetched=result.fetched,
                        new=result.stored,
                    )
            except Exception as exc:
                log.warning(
                    "imap poll failed; will retry", mailbox=self.account.key, error=repr(exc)
                )
            await wait_any(asyncio.Event(), stop, poll_seconds)
