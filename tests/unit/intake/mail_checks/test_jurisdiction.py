"""Which jurisdiction a message is for."""

from services.intake.mail_checks.jurisdiction import jurisdiction_for
from shared.policy import PolicyBook
from shared.settings import DEFAULT_POLICY_DIR

BOOK = PolicyBook.load(DEFAULT_POLICY_DIR)


def _id(envelope: str, recipients: list[str]) -> str | None:
    policy = jurisdiction_for(BOOK, envelope, recipients)
    return policy.id if policy else None


def test_the_envelope_recipient_wins_over_headers() -> None:
    assert _id("opendata@cary-nc.example", ["records@worcester-ma.example"]) == "cary-nc"


def test_headers_are_used_in_order_when_there_is_no_envelope_recipient() -> None:
    assert _id("", ["friend@example.net", "publicrecords@cary-nc.example"]) == "cary-nc"


def test_a_signed_reply_address_belongs_to_its_intake_address() -> None:
    assert _id("records+wor-2026-000001.abcdefabcdef@worcester-ma.example", []) == "worcester-ma"


def test_no_known_address_means_no_jurisdiction() -> None:
    assert _id("", ["someone@elsewhere.example"]) is None
