"""Mail no person wrote, and our own mail come back, is recognised."""

from uuid import UUID

import pytest

from services.intake.mail_checks.automatic_mail import automatic_reason, own_mail_reason
from services.intake.parsing import parse_mail
from services.notify.composer import message_id_for
from shared.policy import PolicyBook
from shared.settings import DEFAULT_POLICY_DIR

BOOK = PolicyBook.load(DEFAULT_POLICY_DIR)


def mail(headers: str = "", subject: str = "Budget", sender: str = "ann@example.org"):  # type: ignore[no-untyped-def]
    return parse_mail(
        f"From: {sender}\nTo: records@worcester-ma.example\nSubject: {subject}\n"
        f"Message-ID: <m1@example.org>\n{headers}\nhello\n".encode()
    )


@pytest.mark.parametrize(
    ("headers", "subject", "reason"),
    [
        ("Auto-Submitted: auto-replied\n", "Re: x", "Auto-Submitted: auto-replied"),
        ("Auto-Submitted: auto-generated\n", "x", "Auto-Submitted: auto-generated"),
        ("Auto-Submitted: auto-notified\n", "x", "Auto-Submitted"),
        ("Precedence: bulk\n", "x", "Precedence: bulk"),
        ("Precedence: junk\n", "x", "Precedence: junk"),
        ("Precedence: list\n", "x", "Precedence: list"),
        ("List-Id: <civic.lists.example>\n", "x", "list-id"),
        ("List-Unsubscribe: <mailto:x@lists.example>\n", "x", "list-unsubscribe"),
        ("X-Auto-Response-Suppress: OOF\n", "x", "X-Auto-Response-Suppress"),
        ("X-Autoreply: yes\n", "x", "x-autoreply"),
        ("X-Autorespond: yes\n", "x", "x-autorespond"),
        (
            "X-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: ann@example.org\n",
            "Automatic reply: Budget",
            "Exchange out-of-office",
        ),
        ("Auto-Submitted: auto-replied (zimbra; vacation)\n", "Re: x", "Zimbra"),
        ("Auto-Submitted: auto-replied\n", "Vacation reply", "Gmail vacation"),
        ("", "Out of Office: Budget", "out-of-office subject"),
        ("", "Automatische Antwort: Budget", "out-of-office subject"),
        ("", "Réponse automatique : Budget", "out-of-office subject"),
    ],
)
def test_automatic_mail_is_recognised_with_its_reason(
    headers: str, subject: str, reason: str
) -> None:
    found = automatic_reason(mail(headers, subject))
    assert found is not None and reason in found


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ("", "Budget"),
        ("Auto-Submitted: no\n", "Budget"),
        ("Precedence: first-class\n", "Budget"),
        ("", "Out of office hours noise complaints"),
        ("", "Auto insurance claims data"),
        ("", "Re: [WOR-2026-000001] Vacation days for city staff"),
    ],
)
def test_mail_a_person_wrote_is_not_taken_for_automatic(headers: str, subject: str) -> None:
    assert automatic_reason(mail(headers, subject)) is None


def test_our_own_message_id_coming_back_is_recognised_and_matches_what_notify_writes() -> None:
    ours = message_id_for(
        UUID("11111111-1111-4111-8111-111111111111"), "receipt", "ann@example.org",
        "worcester-ma.example",
    )  # fmt: skip
    raw = f"From: fwd@relay.example\nTo: records@worcester-ma.example\nMessage-ID: {ours}\n\nx\n"
    reason = own_mail_reason(parse_mail(raw.encode()), BOOK)
    assert reason is not None and "our own Message-ID" in reason


def test_a_city_colleague_writing_from_the_city_domain_is_not_our_own_mail() -> None:
    raw = (
        b"From: clerk@worcester-ma.example\nTo: records@worcester-ma.example\n"
        b"Message-ID: <CAFx123@worcester-ma.example>\n\nA request from a colleague.\n"
    )
    assert own_mail_reason(parse_mail(raw), BOOK) is None


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ("X-Loop: records@worcester-ma.example\n", "fwd@relay.example", "X-Loop"),
        ("X-Loop: <publicrecords@cary-nc.example>\n", "fwd@relay.example", "X-Loop"),
        ("", "records@worcester-ma.example", "our own address"),
        ("", "records+wor-2026-000001.abc@worcester-ma.example", "our own address"),
        ("X-RecordsDesk-Reference: WOR-2026-000001\n", "fwd@relay.example", "X-RecordsDesk"),
    ],
)
def test_our_own_mail_coming_back_is_recognised(headers: str, sender: str, reason: str) -> None:
    found = own_mail_reason(mail(headers, sender=sender), BOOK)
    assert found is not None and reason in found


def test_an_x_loop_of_somebody_else_is_not_ours() -> None:
    assert own_mail_reason(mail("X-Loop: helpdesk@example.org\n"), BOOK) is None
