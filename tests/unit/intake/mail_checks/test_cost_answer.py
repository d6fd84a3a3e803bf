"""Replies to a cost estimate: accept, decline, or unclear (left to staff)."""

import pytest

from services.intake.mail_checks.cost_answer import classify_cost_answer


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Yes, I accept the estimate. Please go ahead.", "accept"),
        ("OK", "accept"),
        ("Sounds good, I'll pay the $50.", "accept"),
        ("I agree to the fee, please proceed", "accept"),
        ("Approved.", "accept"),
        ("No thanks, that is too expensive. Please cancel the request.", "decline"),
        ("I do not accept this estimate.", "decline"),
        ("I don\u2019t want to pay that much", "decline"),
        ("We will not proceed.", "decline"),
        ("I decline.", "decline"),
        ("Please withdraw my request", "decline"),
        ("Could you lower the cost if I only take the 2025 records?", "unclear"),
        ("Yes, but only for the first part.", "unclear"),
        ("I accept if you waive the redaction time", "unclear"),
        ("What does the hourly rate cover?", "unclear"),
        ("Thank you for the information.", "unclear"),
        ("Yes I accept. Actually no, cancel it.", "unclear"),
        ("", "unclear"),
    ],
)
def test_a_cost_answer_is_read_as_accept_decline_or_unclear(reply: str, expected: str) -> None:
    assert classify_cost_answer(reply) == expected
