"""The SMTP session as a production relay wants it: STARTTLS and authentication, and a
refusal of our own session never blamed on the recipient."""

import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from services.notify.smtp import RetryPolicy, SmtpMailer, TransientDeliveryError
from tests.conftest import SmtpSink, free_port

pytestmark = pytest.mark.integration
ONCE = RetryPolicy(attempts=1, initial_seconds=0, max_seconds=0)


def accept_notify(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"notify",
        b"s3cret",
    )
    return AuthResult(success=ok)


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[SmtpSink, int, str]]:
    """A relay that insists on STARTTLS and then AUTH, with a certificate from a private CA."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    sink, port = SmtpSink(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=accept_notify,
    )
    controller.start()
    try:
        yield sink, port, str(bundle)
    finally:
        controller.stop()


def mail() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "records@worcester-ma.example"
    message["To"] = "ann@example.org"
    message["Subject"] = "[WOR-2026-000001] hello"
    message["Message-ID"] = "<one@worcester-ma.example>"
    message.set_content("hello\n")
    return message


async def test_starttls_and_login_deliver_to_a_relay_that_requires_both(relay) -> None:  # type: ignore[no-untyped-def]
    sink, port, bundle = relay
    mailer = SmtpMailer(
        "127.0.0.1", port, starttls=True, username="notify", password="s3cret",
        cert_bundle=bundle, retry=ONCE, timeout=5,
    )  # fmt: skip
    await mailer.send(mail())
    assert [m["Message-ID"] for m in sink.messages] == ["<one@worcester-ma.example>"]


@pytest.mark.parametrize(
    ("starttls", "password"), [(True, "wrong"), (False, "s3cret")], ids=["bad-login", "no-tls"]
)
async def test_a_refused_session_is_transient_and_never_blames_the_recipient(
    relay, starttls: bool, password: str
) -> None:  # type: ignore[no-untyped-def]
    sink, port, bundle = relay
    # (a short timeout: after a refused login this test server may leave the client waiting)
    mailer = SmtpMailer(
        "127.0.0.1", port, starttls=starttls, username="notify", password=password,
        cert_bundle=bundle, retry=ONCE, timeout=1,
    )  # fmt: skip
    with pytest.raises(TransientDeliveryError):
        await mailer.send(mail())
    assert sink.messages == []


async def test_an_unreachable_server_is_transient() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), retry=ONCE, timeout=2)
    with pytest.raises(TransientDeliveryError):
        await mailer.send(mail())
