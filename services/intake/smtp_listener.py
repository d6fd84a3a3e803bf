"""The SMTP listener inside `recordsdesk run intake`: mail in over SMTP, stored like the pipe.

Each RCPT TO is one envelope recipient and one stored copy (mail_drop.store, the same
durable path as `recordsdesk mail`). It answers 250 only after every copy is committed,
and 451 when it cannot store, so the sending MTA keeps the message and retries; a
message over the size limit gets 552. It never parses or judges the mail (the mail room
does that later) and never refuses it for being malformed.
"""

import asyncio
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from services.intake.mail_drop import store
from shared.clock import Clock
from shared.logging import get_logger

log = get_logger(__name__)

STORED = "250 2.0.0 Stored for processing"
CANNOT_STORE = "451 4.3.0 Cannot store the message now; please try again later"


class StoringHandler:
    """aiosmtpd handler: store the message once per envelope recipient, then say 250."""

    def __init__(self, dsn: str, clock: Clock) -> None:
        self._dsn = dsn
        self._clock = clock

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        received_at = self._clock.now()
        stored = 0
        try:
            for recipient in envelope.rcpt_tos:
                row_id = await store(self._dsn, raw, recipient, "smtp", received_at)
                stored += row_id is not None
        except Exception as exc:  # any failure: the sender must keep the message and retry
            log.warning(
                "smtp listener could not store a message; answered 451",
                peer=str(session.peer),
                recipients=len(envelope.rcpt_tos),
                error=repr(exc),
            )
            return CANNOT_STORE
        log.info(
            "smtp listener stored a message",
            recipients=len(envelope.rcpt_tos),
            new_copies=stored,
            size=len(raw),
        )
        return STORED


class SmtpListener:
    """An aiosmtpd server on the running event loop (no thread), started and stopped by
    the intake worker."""

    def __init__(
        self,
        dsn: str,
        clock: Clock,
        host: str,
        port: int,
        max_bytes: int,
        hostname: str = "recordsdesk",
    ) -> None:
        self._handler = StoringHandler(dsn, clock)
        self.host = host
        self.port = port
        self._max_bytes = max_bytes
        self._hostname = hostname
        self._server: asyncio.AbstractServer | None = None

    def _protocol(self) -> SMTP:
        return SMTP(
            self._handler,
            data_size_limit=self._max_bytes,
            hostname=self._hostname,
            ident="RecordsDesk intake",
            decode_data=False,
            enable_SMTPUTF8=True,
            loop=asyncio.get_running_loop(),
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        sockets: Any = self._server.sockets
        if self.port == 0 and sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("smtp listener accepting mail", host=self.host, port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set (the intake worker)."""
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
