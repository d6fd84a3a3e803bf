"""Repeats of a Message-ID: duplicates when the content is the same, held when it is not."""

from services.intake.mail_checks.dedupe import EarlierCopy, judge_repeat

EARLIER = EarlierCopy(inbound_mail_id=7, content_fingerprint="f1", sha256="s1", request_ref="R")


def test_a_first_sighting_is_no_repeat() -> None:
    assert judge_repeat(None, "f1", "s1") is None


def test_the_same_bytes_again_are_a_duplicate_of_the_first_copy() -> None:
    repeat = judge_repeat(EARLIER, "other", "s1")
    assert repeat is not None
    assert (repeat.status, repeat.ref) == ("duplicate", "R")
    assert "inbound mail 7" in repeat.reason


def test_the_same_content_with_other_trace_headers_is_a_duplicate() -> None:
    repeat = judge_repeat(EARLIER, "f1", "s2")
    assert repeat is not None and repeat.status == "duplicate"


def test_the_same_message_id_over_other_content_is_quarantined_with_the_reason() -> None:
    repeat = judge_repeat(EARLIER, "f2", "s2")
    assert repeat is not None
    assert repeat.status == "quarantined"
    assert "different content" in repeat.reason
