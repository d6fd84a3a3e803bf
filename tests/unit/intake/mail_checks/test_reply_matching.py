"""Replies are matched by our Message-IDs, then the signed reply address, then the subject
tag from the requester only."""

from collections.abc import Sequence

from services.intake.mail_checks.reply_matching import ReplyMatcher, subject_refs, thread_ids
from services.intake.parsing import parse_mail
from shared.signing import reply_address

SECRET = "unit-secret"
OURS = "<1.receipt.abc@worcester-ma.example>"


class FakeLookup:
    def __init__(self) -> None:
        self.by_message_id = {OURS: "WOR-2026-000001", "<ann-1@example.org>": "WOR-2026-000002"}
        self.requesters = {
            "WOR-2026-000001": "ann@example.org",
            "WOR-2026-000002": "ann@example.org",
            "CARY-2026-000009": "carol@example.org",
        }

    async def ref_for_message_ids(self, message_ids: Sequence[str]) -> str | None:
        return next((self.by_message_id[m] for m in message_ids if m in self.by_message_id), None)

    async def requester_of(self, ref: str) -> str | None:
        return self.requesters.get(ref)


MATCHER = ReplyMatcher(SECRET, ["WOR", "CARY"])


def mail(
    sender: str, to: str = "records@worcester-ma.example", subject: str = "Hi", extra: str = ""
):  # type: ignore[no-untyped-def]
    return parse_mail(
        f"From: {sender}\nTo: {to}\nSubject: {subject}\nMessage-ID: <x@example.org>\n{extra}\nx\n".encode()
    )


async def test_our_message_id_in_in_reply_to_matches_first() -> None:
    result = await MATCHER.match(
        mail("ann@example.org", subject="[CARY-2026-000009]", extra=f"In-Reply-To: {OURS}\n"),
        "",
        FakeLookup(),
    )
    assert result.match is not None
    assert (result.match.ref, result.match.via) == ("WOR-2026-000001", "message_id")


async def test_in_reply_to_comes_before_references_and_references_go_newest_first() -> None:
    parsed = mail(
        "ann@example.org",
        extra=f"In-Reply-To: <unknown@x>\nReferences: {OURS} <ann-1@example.org>\n",
    )
    assert thread_ids(parsed) == ["<unknown@x>", "<ann-1@example.org>", OURS]
    result = await MATCHER.match(parsed, "", FakeLookup())
    assert result.match is not None and result.match.ref == "WOR-2026-000002"


async def test_the_signed_reply_address_matches_from_anyone() -> None:
    address = reply_address(SECRET, "records@worcester-ma.example", "WOR-2026-000001")
    result = await MATCHER.match(mail("cy@example.org"), address, FakeLookup())
    assert result.match is not None
    assert (result.match.ref, result.match.via) == ("WOR-2026-000001", "reply_address")


async def test_a_tampered_reply_address_does_not_match() -> None:
    good = reply_address(SECRET, "records@worcester-ma.example", "WOR-2026-000001")
    tampered = good.replace("000001", "000002")
    result = await MATCHER.match(mail("mallory@evil.example", to=tampered), "", FakeLookup())
    assert result.match is None
    assert "not validly signed" in result.notes[0]


async def test_a_reply_address_signed_with_another_secret_does_not_match() -> None:
    other = reply_address("other-secret", "records@worcester-ma.example", "WOR-2026-000001")
    result = await MATCHER.match(mail("ann@example.org"), other, FakeLookup())
    assert result.match is None


async def test_the_subject_tag_matches_only_for_the_requester() -> None:
    subject = "Re: [WOR-2026-000001] Budget"
    own = await MATCHER.match(mail("Ann@Example.org", subject=subject), "", FakeLookup())
    assert own.match is not None and own.match.via == "subject_tag"

    stranger = await MATCHER.match(mail("mallory@evil.example", subject=subject), "", FakeLookup())
    assert stranger.match is None
    assert stranger.notes == ["subject names WOR-2026-000001, but the sender is not its requester"]


async def test_a_tag_of_a_request_that_does_not_exist_matches_nothing() -> None:
    result = await MATCHER.match(
        mail("ann@example.org", subject="[WOR-2026-999999]"), "", FakeLookup()
    )
    assert result.match is None


def test_subject_tags_are_read_for_known_prefixes_only() -> None:
    subject = "Re: [WOR-2026-000001] and [ABC-2026-000002] and [cary-2026-000003]"
    assert subject_refs(subject, ["WOR", "CARY"]) == ["WOR-2026-000001", "CARY-2026-000003"]
