"""The request state machine: which decision or event may move a request from where.

Pure: no I/O. The HTTP API answers 409 with `allowed_decisions(state)` for anything else.
"""

from enum import StrEnum


class State(StrEnum):
    FILED = "filed"
    ACKNOWLEDGED = "acknowledged"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    AWAITING_COST_ACCEPTANCE = "awaiting_cost_acceptance"
    IN_REVIEW = "in_review"
    RELEASED = "released"
    PARTIALLY_RELEASED = "partially_released"
    WITHHELD = "withheld"
    CLOSED = "closed"
    APPEALED = "appealed"


class Decision(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    CLARIFY = "clarify"
    ESTIMATE = "estimate"
    RELEASE = "release"
    WITHHOLD = "withhold"
    EXTEND = "extend"
    CLOSE = "close"


# What the requester (through intake) can do, as transitions too.
class RequesterStep(StrEnum):
    CLARIFY = "clarification_received"
    ACCEPT_COST = "cost_accepted"
    DECLINE_COST = "cost_declined"
    APPEAL = "appealed"


OPEN = {State.FILED, State.ACKNOWLEDGED, State.IN_REVIEW, State.APPEALED}
DECIDED = {State.RELEASED, State.PARTIALLY_RELEASED, State.WITHHELD}

_WORKING = {
    Decision.ACKNOWLEDGE,
    Decision.ASSIGN,
    Decision.CLARIFY,
    Decision.ESTIMATE,
    Decision.RELEASE,
    Decision.WITHHOLD,
    Decision.EXTEND,
    Decision.CLOSE,
}

_DECISIONS: dict[State, set[Decision]] = {
    State.FILED: _WORKING,
    State.ACKNOWLEDGED: _WORKING - {Decision.ACKNOWLEDGE},
    State.IN_REVIEW: _WORKING - {Decision.ACKNOWLEDGE},
    State.AWAITING_CLARIFICATION: {Decision.ASSIGN, Decision.CLOSE},
    State.AWAITING_COST_ACCEPTANCE: {Decision.ASSIGN, Decision.CLOSE, Decision.ESTIMATE},
    State.RELEASED: {Decision.CLOSE},
    State.PARTIALLY_RELEASED: {Decision.CLOSE},
    State.WITHHELD: {Decision.CLOSE},
    State.APPEALED: {Decision.ASSIGN, Decision.RELEASE, Decision.WITHHOLD, Decision.CLOSE},
    State.CLOSED: set(),
}

_REQUESTER: dict[RequesterStep, set[State]] = {
    RequesterStep.CLARIFY: {State.AWAITING_CLARIFICATION},
    RequesterStep.ACCEPT_COST: {State.AWAITING_COST_ACCEPTANCE},
    RequesterStep.DECLINE_COST: {State.AWAITING_COST_ACCEPTANCE},
    RequesterStep.APPEAL: DECIDED,
}


class TransitionForbidden(Exception):
    def __init__(self, state: State, attempted: str) -> None:
        self.state = state
        self.attempted = attempted
        self.allowed = allowed_decisions(state)
        super().__init__(
            f"cannot {attempted} a request that is {state.value};"
            f" allowed: {', '.join(self.allowed) or 'nothing (it is closed)'}"
        )


def allowed_decisions(state: State) -> list[str]:
    return sorted(d.value for d in _DECISIONS[state])


def next_state(state: State, decision: Decision, *, partial: bool = False) -> State:
    """The state after a staff decision, or TransitionForbidden."""
    if decision not in _DECISIONS[state]:
        raise TransitionForbidden(state, decision.value)
    match decision:
        case Decision.ACKNOWLEDGE:
            return State.ACKNOWLEDGED
        case Decision.CLARIFY:
            return State.AWAITING_CLARIFICATION
        case Decision.ESTIMATE:
            return State.AWAITING_COST_ACCEPTANCE
        case Decision.RELEASE:
            return State.PARTIALLY_RELEASED if partial else State.RELEASED
        case Decision.WITHHOLD:
            return State.WITHHELD
        case Decision.CLOSE:
            return State.CLOSED
        case Decision.ASSIGN | Decision.EXTEND:
            return state


def after_requester(state: State, step: RequesterStep) -> State:
    """The state after the requester answers (through intake)."""
    if state not in _REQUESTER[step]:
        raise TransitionForbidden(state, step.value)
    match step:
        case RequesterStep.CLARIFY | RequesterStep.ACCEPT_COST:
            return State.IN_REVIEW
        case RequesterStep.DECLINE_COST:
            return State.CLOSED
        case RequesterStep.APPEAL:
            return State.APPEALED
