"""A requester's reply to a decision that says they appeal it becomes an appeal."""

from datetime import UTC, date, datetime

import pytest

from services.intake.mail_checks.appeal_intent import asks_to_appeal
from services.intake.mail_checks.follow_up import ThreadState, follow_up_for

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
ANN = "ann@example.org"


@pytest.mark.parametrize(
    "text",
    [
        "I appeal this decision.",
        "I would like to appeal.",
        "We hereby appeal the withholding of the camera records.",
        "Appealing the decision under 26(c): the files are not medical.",
        "I request reconsideration of the redactions.",
        "Please reconsider.",
    ],
)
def test_explicit_appeal_words_are_read_as_an_appeal(text: str) -> None:
    assert asks_to_appeal(text)


@pytest.mark.parametrize(
    "text",
    ["Thanks for the data!", "Is there an appeal process?", "How do appeals work here?", ""],
)
def test_thanks_and_questions_about_appeals_are_not_appeals(text: str) -> None:
    assert not asks_to_appeal(text)


def decided(state: str = "withheld", deadline: date | None = date(2027, 2, 21)) -> ThreadState:
    return ThreadState("WOR-2026-000001", state, ANN, None, False, appeal_deadline=deadline)


def test_requester_appealing_a_withholding_in_time_is_an_appeal() -> None:
    decision = follow_up_for(decided(), ANN, "I appeal this decision.", NOW, 30)
    assert (decision.kind, decision.late) == ("appeal", False)


def test_appeal_after_the_deadline_is_marked_late() -> None:
    late = datetime(2027, 2, 22, 15, 0, tzinfo=UTC)
    decision = follow_up_for(decided(), ANN, "I appeal this decision.", late, 30)
    assert (decision.kind, decision.late) == ("appeal", True)


def test_only_the_requester_can_appeal_and_only_a_decision() -> None:
    assert follow_up_for(decided(), "cy@example.org", "I appeal.", NOW, 30).kind == "reply"
    assert follow_up_for(decided("acknowledged"), ANN, "I appeal.", NOW, 30).kind == "reply"
    assert follow_up_for(decided("partially_released"), ANN, "I appeal.", NOW, 30).kind == "appeal"
