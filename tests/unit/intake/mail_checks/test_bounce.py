"""Delivery-status notifications: which address failed, for good or for now."""

from services.intake.mail_checks.bounce import detect_bounce, looks_like_bounce
from services.intake.parsing import parse_mail
from tests.conftest import FIXTURES

MAIL = FIXTURES / "mail"


def fixture(name: str):  # type: ignore[no-untyped-def]
    return parse_mail((MAIL / name).read_bytes())


def test_an_rfc3464_failure_names_the_address_and_the_returned_message() -> None:
    bounce = detect_bounce(fixture("bounce_dsn_permanent.eml"))
    assert bounce is not None
    assert bounce.permanent == ["dave@gone.example"]
    assert bounce.temporary == []
    assert bounce.returned_message_ids == [
        "<66666666-6666-4666-8666-666666666666.receipt.9a8b7c6d5e@worcester-ma.example>"
    ]
    assert bounce.refs == ["WOR-2026-000006"]


def test_an_rfc3464_delay_is_a_temporary_failure() -> None:
    bounce = detect_bounce(fixture("bounce_dsn_delayed.eml"))
    assert bounce is not None
    assert (bounce.permanent, bounce.temporary) == ([], ["dave@gone.example"])
    assert "temporary" in bounce.summary


def test_exims_plain_text_bounce_is_read_from_x_failed_recipients_and_the_inline_copy() -> None:
    bounce = detect_bounce(fixture("bounce_exim_plain.eml"))
    assert bounce is not None
    assert bounce.permanent == ["dave@gone.example"]
    assert "WOR-2026-000006" in bounce.refs
    assert bounce.returned_message_ids[0].startswith("<66666666-")


def test_postfix_and_exchange_bounces_are_permanent_failures() -> None:
    for name in ("bounce_postfix.eml", "bounce_exchange_ndr.eml"):
        bounce = detect_bounce(fixture(name))
        assert bounce is not None and bounce.permanent == ["dave@gone.example"], name


def test_a_person_writing_about_undelivered_mail_is_not_a_bounce() -> None:
    mail = parse_mail(
        b"From: ann@example.org\nTo: records@worcester-ma.example\n"
        b"Subject: Undelivered mail returned to sender\n\nWhy did my mail bounce?\n"
    )
    assert not looks_like_bounce(mail)
    assert detect_bounce(mail) is None


def test_a_read_receipt_is_a_report_but_not_a_bounce() -> None:
    assert detect_bounce(fixture("read_receipt_mdn.eml")) is None


def test_a_mailer_daemon_notice_without_parsable_failures_is_still_a_bounce() -> None:
    mail = parse_mail(
        b"From: MAILER-DAEMON@mx.example\nTo: records@worcester-ma.example\n"
        b"Subject: failure notice\n\nSomething went wrong somewhere.\n"
    )
    bounce = detect_bounce(mail)
    assert bounce is not None
    assert bounce.permanent == bounce.temporary == []
    assert bounce.summary == "delivery report naming no failed address"
