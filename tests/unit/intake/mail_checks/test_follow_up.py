"""What a reply that matched a request becomes."""

from datetime import UTC, datetime, timedelta

import pytest

from services.intake.mail_checks.follow_up import ThreadState, follow_up_for

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
ANN = "ann@example.org"


def thread(
    state: str, question_open: bool = True, closed_days_ago: int | None = None
) -> ThreadState:
    closed = NOW - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    return ThreadState("WOR-2026-000001", state, ANN, closed, question_open)


@pytest.mark.parametrize(
    ("state", "sender", "text", "kind"),
    [
        ("awaiting_clarification", ANN, "Only 2025.", "clarification"),
        ("awaiting_clarification", "ANN@Example.org", "Only 2025.", "clarification"),
        ("awaiting_clarification", "cy@example.org", "Only 2025.", "reply"),
        ("awaiting_cost_acceptance", ANN, "Yes, I accept.", "cost_accepted"),
        ("awaiting_cost_acceptance", ANN, "No thanks, too expensive.", "cost_declined"),
        ("awaiting_cost_acceptance", ANN, "Can it be cheaper?", "reply"),
        ("awaiting_cost_acceptance", "cy@example.org", "I accept.", "reply"),
        ("acknowledged", ANN, "Any news?", "reply"),
        ("released", ANN, "Thanks!", "reply"),
    ],
)
def test_a_reply_becomes_the_step_its_state_and_sender_allow(
    state: str, sender: str, text: str, kind: str
) -> None:
    assert follow_up_for(thread(state), sender, text, NOW, 30).kind == kind


def test_an_already_answered_question_makes_a_further_reply_a_message() -> None:
    answered = thread("awaiting_clarification", question_open=False)
    assert follow_up_for(answered, ANN, "More detail.", NOW, 30).kind == "reply"


def test_a_reply_to_a_request_closed_beyond_the_reopen_window_opens_a_linked_request() -> None:
    decision = follow_up_for(thread("closed", closed_days_ago=31), "cy@example.org", "x", NOW, 30)
    assert decision.kind == "new_linked_request"
    assert "more than 30 days" in decision.note


def test_a_reply_to_a_recently_closed_request_joins_its_timeline() -> None:
    decision = follow_up_for(thread("closed", closed_days_ago=29), ANN, "x", NOW, 30)
    assert decision.kind == "reply"
    assert "closed" in decision.note
