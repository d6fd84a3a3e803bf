"""IMAP polling against a real Dovecot the test run starts on a free loopback port.

The server gets a throwaway config under the test's temporary folder: a passwd-file user,
plaintext login on loopback, no TLS. Skipped (saying what to install) without Dovecot.
"""

import asyncio
import contextlib
import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aioimaplib
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.intake.imap_poller import ImapAccount, ImapPoller
from shared.clock import FixedClock
from shared.runtime import load_resources, open_database
from tests.conftest import eventually, free_port
from tests.harness import running
from tests.proxy import OnOffProxy

pytestmark = pytest.mark.integration

USER, PASSWORD = "records", "imap-test-secret"
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DOVECOT_HINT = (
    "Dovecot is needed for the IMAP tests: apt-get install dovecot-imapd"
    " (`make test` runs infra/ensure-test-tools.sh, which installs it as root on Debian)"
)


def mail(n: int, to: str = "records@worcester-ma.example") -> bytes:
    return (
        f"From: Resident {n} <resident{n}@example.org>\r\n"
        f"To: {to}\r\n"
        f"Subject: Street trees, part {n}\r\n"
        f"Message-ID: <imap-{n}-{uuid.uuid4().hex[:8]}@example.org>\r\n"
        "\r\n"
        f"Please send street tree inventory part {n} as CSV.\r\n"
    ).encode()


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)),
        None,
    )


def dovecot_config(root: Path, port: int) -> str:
    """A config that touches nothing outside `root`. As root, mail is read by `nobody`
    inside a chroot at root/mail (Dovecot refuses uid 0 and the temp folder is private);
    as anyone else, every Dovecot process runs as that user."""
    mail_root = root / "mail"
    common = f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = recordsdesk-test-{port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        # the auth process reads the passwd-file, which sits in the private temp folder
        return (
            common
            + f"""
service auth {{
  user = root
}}
valid_chroot_dirs = {mail_root}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={mail_root}/./%u
}}
"""
        )
    me = pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(me.pw_gid).gr_name
    return (
        common
        + f"""
default_login_user = {me.pw_name}
default_internal_user = {me.pw_name}
default_internal_group = {group}
userdb {{
  driver = static
  args = uid={me.pw_uid} gid={me.pw_gid} home={mail_root}/%u
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
    )


@dataclass(frozen=True)
class Dovecot:
    port: int

    def account(self, mailbox: str, **kwargs: object) -> ImapAccount:
        return ImapAccount("127.0.0.1", self.port, USER, PASSWORD, mailbox, **kwargs)  # type: ignore[arg-type]


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = 200  # x 0.05 s = 10 s
    for _ in range(deadline):
        if process.poll() is not None:
            said = log.read_text() if log.exists() else ""
            raise RuntimeError(f"dovecot exited with {process.returncode}: {said}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(0.05)
    raise RuntimeError("dovecot did not listen within 10 s")


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        pytest.skip(DOVECOT_HINT)
    root = tmp_path_factory.mktemp("dovecot")
    port = free_port()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    (root / "mail" / USER).mkdir(parents=True)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for path in (root / "mail", root / "mail" / USER):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
    config = root / "dovecot.conf"
    config.write_text(dovecot_config(root, port))
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for_port(port, process, root / "dovecot.log")
        yield Dovecot(port)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.asynccontextmanager
async def imap(server: Dovecot, mailbox: str) -> AsyncIterator[aioimaplib.IMAP4]:
    """A plain client, as a person's mail program would be."""
    client = aioimaplib.IMAP4("127.0.0.1", server.port, timeout=10)
    await client.wait_hello_from_server()
    assert (await client.login(USER, PASSWORD)).result == "OK"
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            await client.logout()


async def new_mailbox(server: Dovecot, *messages: tuple[bytes, str | None]) -> str:
    mailbox = f"Requests-{uuid.uuid4().hex[:8]}"
    async with imap(server, mailbox) as client:
        assert (await client.create(mailbox)).result == "OK"
        for raw, flags in messages:
            assert (await client.append(raw, mailbox=mailbox, flags=flags)).result == "OK"
    return mailbox


async def append(server: Dovecot, mailbox: str, raw: bytes) -> None:
    async with imap(server, mailbox) as client:
        assert (await client.append(raw, mailbox=mailbox)).result == "OK"


async def flags(server: Dovecot, mailbox: str) -> dict[int, set[str]]:
    async with imap(server, mailbox) as client:
        assert (await client.select(f'"{mailbox}"')).result == "OK"
        answer = await client.uid("fetch", "1:*", "(UID FLAGS)")
    out: dict[int, set[str]] = {}
    for line in answer.lines:
        found = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", bytes(line))
        if found:
            out[int(found.group(1))] = set(found.group(2).decode().split())
    return out


async def stored_rows(resources) -> list:  # type: ignore[no-untyped-def]
    async with resources.new_uow() as uow:
        return list(
            (
                await uow.session.execute(
                    text("SELECT raw, source, envelope_recipient FROM inbound_mail ORDER BY id")
                )
            ).all()
        )


@pytest.fixture
async def resources(settings, clean):  # type: ignore[no-untyped-def]
    async with open_database(settings) as (engine, _):
        yield load_resources(settings, engine, FixedClock(NOW))


async def test_polled_mail_is_stored_then_flagged_seen_and_never_fetched_twice(
    dovecot, settings, resources
) -> None:  # type: ignore[no-untyped-def]
    first, read_by_a_person = mail(1), mail(2)
    mailbox = await new_mailbox(dovecot, (first, None), (read_by_a_person, "\\Seen"))
    poller = ImapPoller(
        dovecot.account(mailbox, recipient="records@worcester-ma.example"),
        settings.postgres_dsn,
        resources.new_uow,
        resources.clock,
    )

    result = await poller.poll_once()

    assert (result.fetched, result.stored, result.refetched_all) == (2, 2, True)
    rows = await stored_rows(resources)
    assert [r.raw for r in rows] == [first, read_by_a_person]  # the bytes, unchanged
    assert {(r.source, r.envelope_recipient) for r in rows} == {
        ("imap", "records@worcester-ma.example")
    }
    assert all("\\Seen" in f for f in (await flags(dovecot, mailbox)).values())

    again = await poller.poll_once()
    assert (again.fetched, again.refetched_all) == (0, False)

    third = mail(3)
    await append(dovecot, mailbox, third)
    later = await poller.poll_once()
    assert (later.fetched, later.stored) == (1, 1)
    assert (await stored_rows(resources))[-1].raw == third


async def test_a_new_uidvalidity_refetches_everything_and_dedupe_absorbs_repeats(
    dovecot, settings, resources
) -> None:  # type: ignore[no-untyped-def]
    a, b, c = mail(1), mail(2), mail(3)
    mailbox = await new_mailbox(dovecot, (a, None), (b, None))
    poller = ImapPoller(
        dovecot.account(mailbox), settings.postgres_dsn, resources.new_uow, resources.clock
    )
    before = await poller.poll_once()
    assert before.stored == 2

    # The mailbox is rebuilt (as after a server migration): UIDs restart under a new
    # UIDVALIDITY, so the new message has UID 2, below the last UID already stored.
    async with imap(dovecot, mailbox) as client:
        assert (await client.delete(mailbox)).result == "OK"
        assert (await client.create(mailbox)).result == "OK"
        assert (await client.append(a, mailbox=mailbox)).result == "OK"
        assert (await client.append(c, mailbox=mailbox)).result == "OK"

    after = await poller.poll_once()

    assert after.uidvalidity != before.uidvalidity
    assert (after.refetched_all, after.fetched, after.stored) == (True, 2, 1)
    assert [r.raw for r in await stored_rows(resources)] == [a, b, c]


async def test_nothing_is_flagged_while_the_database_cannot_store_and_all_is_stored_after(
    dovecot, settings, resources
) -> None:  # type: ignore[no-untyped-def]
    url = make_url(settings.database_url)
    proxy = OnOffProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.up()
    through_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
    dsn = through_proxy.replace("postgresql+asyncpg://", "postgresql://")
    await proxy.down()
    mailbox = await new_mailbox(dovecot, (mail(1), None), (mail(2), None))
    poller = ImapPoller(dovecot.account(mailbox), dsn, resources.new_uow, resources.clock)

    with pytest.raises(OSError):
        await poller.poll_once()
    assert all("\\Seen" not in f for f in (await flags(dovecot, mailbox)).values())
    assert await stored_rows(resources) == []

    await proxy.up()
    try:
        result = await poller.poll_once()
    finally:
        await proxy.down()
    assert (result.fetched, result.stored) == (2, 2)
    assert all("\\Seen" in f for f in (await flags(dovecot, mailbox)).values())


async def test_stored_mail_is_moved_when_a_processed_mailbox_is_set(
    dovecot, settings, resources
) -> None:  # type: ignore[no-untyped-def]
    mailbox = await new_mailbox(dovecot, (mail(1), None))
    done = f"{mailbox}-done"
    async with imap(dovecot, mailbox) as client:
        assert (await client.create(done)).result == "OK"
    poller = ImapPoller(
        dovecot.account(mailbox, move_to=done),
        settings.postgres_dsn,
        resources.new_uow,
        resources.clock,
    )

    assert (await poller.poll_once()).stored == 1
    assert await flags(dovecot, mailbox) == {}
    assert len(await flags(dovecot, done)) == 1


async def test_mail_in_the_polled_mailbox_becomes_a_request(dovecot, settings, clean) -> None:  # type: ignore[no-untyped-def]
    mailbox = await new_mailbox(dovecot, (mail(7), None))
    settings.imap_host = "127.0.0.1"
    settings.imap_port = dovecot.port
    settings.imap_user, settings.imap_password = USER, PASSWORD
    settings.imap_mailbox = mailbox
    settings.imap_poll_seconds = 0.2
    settings.smtp_listen_port = None
    async with running(settings, ["intake"], FixedClock(NOW)) as resources:

        async def filed() -> list[str]:
            async with resources.new_uow() as uow:
                refs = await uow.session.execute(text("SELECT ref FROM requests"))
                return list(refs.scalars())

        assert await eventually(filed, timeout=20, what="a request from the IMAP mailbox") == [
            "WOR-2026-000001"
        ]
    assert all("\\Seen" in f for f in (await flags(dovecot, mailbox)).values())


def test_imap_polling_is_off_unless_a_host_is_set(settings) -> None:  # type: ignore[no-untyped-def]
    from services.intake.service import attach_intake

    async def workers(host: str | None) -> int:
        settings.imap_host = host
        async with open_database(settings) as (engine, _):
            resources = load_resources(settings, engine)
            attach_intake(resources)
            return len(resources.workers)

    assert asyncio.run(workers("127.0.0.1")) == asyncio.run(workers(None)) + 1
