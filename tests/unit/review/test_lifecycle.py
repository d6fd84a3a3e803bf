"""The request state machine, checked over every (state, decision) pair."""

from itertools import product

import pytest

from services.review.lifecycle import (
    Decision,
    RequesterStep,
    State,
    TransitionForbidden,
    after_requester,
    allowed_decisions,
    next_state,
)

D = Decision
ALL = set(Decision)

# What a records officer may do in each state (written out, not derived from the code).
ALLOWED: dict[State, set[Decision]] = {  # one entry per State
    State.FILED: ALL,
    State.ACKNOWLEDGED: ALL - {D.ACKNOWLEDGE},
    State.IN_REVIEW: ALL - {D.ACKNOWLEDGE},
    State.AWAITING_CLARIFICATION: {D.ASSIGN, D.CLOSE},
    State.AWAITING_COST_ACCEPTANCE: {D.ASSIGN, D.CLOSE, D.ESTIMATE},
    State.RELEASED: {D.CLOSE},
    State.PARTIALLY_RELEASED: {D.CLOSE},
    State.WITHHELD: {D.CLOSE},
    State.APPEALED: {D.ASSIGN, D.RELEASE, D.WITHHOLD, D.CLOSE},
    State.CLOSED: set(),
}

RESULT: dict[Decision, State | None] = {  # None: the state is kept
    D.ACKNOWLEDGE: State.ACKNOWLEDGED,
    D.ASSIGN: None,
    D.CLARIFY: State.AWAITING_CLARIFICATION,
    D.ESTIMATE: State.AWAITING_COST_ACCEPTANCE,
    D.RELEASE: State.RELEASED,
    D.WITHHOLD: State.WITHHELD,
    D.EXTEND: None,
    D.CLOSE: State.CLOSED,
}

PAIRS = list(product(State, Decision))
ALLOWED_PAIRS = [(s, d) for s, d in PAIRS if d in ALLOWED[s]]
FORBIDDEN_PAIRS = [(s, d) for s, d in PAIRS if d not in ALLOWED[s]]


@pytest.mark.parametrize(("state", "decision"), ALLOWED_PAIRS)
def test_an_allowed_decision_moves_the_request_to_the_right_state(
    state: State, decision: Decision
) -> None:
    expected = RESULT[decision] or state
    assert next_state(state, decision) == expected


@pytest.mark.parametrize(("state", "decision"), FORBIDDEN_PAIRS)
def test_a_forbidden_decision_is_refused_saying_what_is_allowed(
    state: State, decision: Decision
) -> None:
    with pytest.raises(TransitionForbidden) as caught:
        next_state(state, decision)
    assert caught.value.state == state
    assert caught.value.attempted == decision.value
    assert caught.value.allowed == sorted(d.value for d in ALLOWED[state])
    assert state.value in str(caught.value)
    assert decision.value in str(caught.value)


@pytest.mark.parametrize("state", list(State))
def test_allowed_decisions_lists_exactly_the_allowed_ones_sorted(state: State) -> None:
    assert allowed_decisions(state) == sorted(d.value for d in ALLOWED[state])


@pytest.mark.parametrize("state", [s for s in State if D.RELEASE in ALLOWED[s]])
def test_a_release_with_withheld_parts_is_a_partial_release(state: State) -> None:
    assert next_state(state, D.RELEASE, partial=True) == State.PARTIALLY_RELEASED
    assert next_state(state, D.RELEASE, partial=False) == State.RELEASED


@pytest.mark.parametrize("decision", list(Decision))
def test_a_closed_request_allows_no_decision_and_says_it_is_closed(decision: Decision) -> None:
    assert allowed_decisions(State.CLOSED) == []
    with pytest.raises(TransitionForbidden, match="closed") as caught:
        next_state(State.CLOSED, decision)
    assert caught.value.allowed == []
    assert "nothing" in str(caught.value)


# --- what the requester can do ------------------------------------------------------------

REQUESTER_FROM: dict[RequesterStep, tuple[set[State], State]] = {
    RequesterStep.CLARIFY: ({State.AWAITING_CLARIFICATION}, State.IN_REVIEW),
    RequesterStep.ACCEPT_COST: ({State.AWAITING_COST_ACCEPTANCE}, State.IN_REVIEW),
    RequesterStep.DECLINE_COST: ({State.AWAITING_COST_ACCEPTANCE}, State.CLOSED),
    RequesterStep.APPEAL: (
        {State.RELEASED, State.PARTIALLY_RELEASED, State.WITHHELD},
        State.APPEALED,
    ),
}


@pytest.mark.parametrize(("state", "step"), list(product(State, RequesterStep)))
def test_requester_steps_are_accepted_only_where_they_make_sense(
    state: State, step: RequesterStep
) -> None:
    allowed_from, result = REQUESTER_FROM[step]
    if state in allowed_from:
        assert after_requester(state, step) == result
    else:
        with pytest.raises(TransitionForbidden) as caught:
            after_requester(state, step)
        assert state.value in str(caught.value)
        assert caught.value.allowed == allowed_decisions(state)
