"""`recordsdesk mail`: store one raw message from the MTA, durably, and nothing else.

Imports only the standard library and asyncpg so the MTA's per-message pipe starts fast.
Exit 0 once stored; 75 (EX_TEMPFAIL) when it could not be stored, so the MTA retries.
A malformed message is stored like any other: parsing happens later, in the intake service.
"""

import argparse
import asyncio
import hashlib
import os
import sys
from datetime import datetime

import asyncpg

from shared import defaults
from shared.clock import SystemClock

EX_OK = 0
EX_TEMPFAIL = 75
INBOUND_CHANNEL = "recordsdesk_inbound_mail"

_STORE = """
INSERT INTO inbound_mail (sha256, envelope_recipient, source, raw, received_at, status, attempts)
VALUES ($1, $2, $3, $4, $5, 'pending', 0)
ON CONFLICT ON CONSTRAINT uq_inbound_mail_raw DO NOTHING
RETURNING id
"""


async def store(
    dsn: str,
    raw: bytes,
    recipient: str = "",
    source: str = "pipe",
    received_at: datetime | None = None,
) -> int | None:
    """Store the message; returns its id, or None when this exact message was stored before."""
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        async with connection.transaction():
            row_id = await connection.fetchval(
                _STORE,
                hashlib.sha256(raw).hexdigest(),
                recipient.strip().lower(),
                source,
                raw,
                received_at or SystemClock().now(),
            )
            await connection.execute(f"NOTIFY {INBOUND_CHANNEL}")
        return int(row_id) if row_id is not None else None
    finally:
        await connection.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="recordsdesk mail", description=__doc__)
    parser.add_argument("--recipient", default="", help="envelope recipient, as the MTA saw it")
    args = parser.parse_args(argv)
    raw = sys.stdin.buffer.read()
    if not raw:
        print("recordsdesk mail: empty message on stdin; nothing stored", file=sys.stderr)
        return EX_TEMPFAIL
    dsn = defaults.plain_postgres_dsn(
        os.environ.get(f"{defaults.ENV_PREFIX}DATABASE_URL", defaults.DATABASE_URL)
    )
    try:
        row_id = asyncio.run(store(dsn, raw, args.recipient))
    except Exception as exc:  # any failure to store must make the MTA try again later
        print(f"recordsdesk mail: not stored, try again later: {exc!r}", file=sys.stderr)
        return EX_TEMPFAIL
    print(f"stored as inbound mail {row_id}" if row_id else "already stored", file=sys.stderr)
    return EX_OK
