"""Who may make which decision, and which decision bodies are refused as malformed."""

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from services.review.decisions import (
    ROLE_DECISIONS,
    Acknowledge,
    Assign,
    Clarify,
    Close,
    DecisionIn,
    Estimate,
    Extend,
    Release,
    RoleForbidden,
    Withhold,
    check_role,
)
from services.review.lifecycle import Decision
from shared.db.tables import Request, StaffMember

BODY = TypeAdapter(DecisionIn)


def staff(role: str) -> StaffMember:
    return StaffMember(email=f"{role}@worcester-ma.example", role=role, token_hash="x")


def request(*, legal_review: bool = False, reasons: list[str] | None = None) -> Request:
    return Request(
        ref="WOR-2026-000001",
        jurisdiction="worcester-ma",
        state="in_review",
        channel="email",
        kind="records",
        requester_email="someone@example.org",
        subject="Payroll",
        body="Payroll for 2025",
        status_token_hash="y",
        legal_review=legal_review,
        legal_review_reasons=reasons or [],
    )


@pytest.mark.parametrize("decision", list(Decision))
def test_an_auditor_may_decide_nothing(decision: Decision) -> None:
    with pytest.raises(RoleForbidden, match="auditor may not"):
        check_role(staff("auditor"), decision, request())


@pytest.mark.parametrize("decision", ["acknowledge", "assign", "clarify", "close", "extend"])
def test_a_clerk_may_do_the_everyday_steps(decision: str) -> None:
    check_role(staff("clerk"), Decision(decision), request())


@pytest.mark.parametrize("decision", ["release", "estimate", "withhold"])
def test_a_clerk_may_not_release_estimate_or_withhold(decision: str) -> None:
    with pytest.raises(RoleForbidden, match=f"clerk may not {decision}"):
        check_role(staff("clerk"), Decision(decision), request())


@pytest.mark.parametrize("role", [r for r in ROLE_DECISIONS if r != "legal"])
def test_only_legal_may_withhold(role: str) -> None:
    with pytest.raises(RoleForbidden):
        check_role(staff(role), Decision.WITHHOLD, request())


def test_legal_may_make_every_decision() -> None:
    for decision in Decision:
        check_role(staff("legal"), decision, request(legal_review=True))


@pytest.mark.parametrize("role", ["reviewer", "manager", "admin"])
def test_reviewers_may_release_an_ordinary_request(role: str) -> None:
    check_role(staff(role), Decision.RELEASE, request())


@pytest.mark.parametrize("role", ["reviewer", "manager", "admin"])
def test_only_legal_may_release_a_request_marked_for_legal_review(role: str) -> None:
    flagged = request(legal_review=True, reasons=["mentions a minor"])
    with pytest.raises(RoleForbidden, match=r"only legal may release.*mentions a minor"):
        check_role(staff(role), Decision.RELEASE, flagged)
    check_role(staff("legal"), Decision.RELEASE, flagged)


def test_legal_review_without_reasons_still_says_why() -> None:
    with pytest.raises(RoleForbidden, match="marked for legal review"):
        check_role(staff("manager"), Decision.RELEASE, request(legal_review=True))


# --- decision bodies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "model"),
    [
        ({"decision": "acknowledge"}, Acknowledge),
        ({"decision": "assign", "assignee": "rao@worcester-ma.example"}, Assign),
        ({"decision": "clarify", "questions": ["Which years?"]}, Clarify),
        ({"decision": "estimate", "pages": 100, "search_hours": "3"}, Estimate),
        ({"decision": "release", "links": ["https://data.example/payroll.csv"]}, Release),
        ({"decision": "withhold", "exemption_code": "26c", "explanation": "privacy"}, Withhold),
        ({"decision": "extend", "business_days": 15, "reason": "large volume"}, Extend),
        ({"decision": "close", "reason": "withdrawn"}, Close),
    ],
)
def test_a_well_formed_body_becomes_its_decision(body: dict[str, Any], model: type) -> None:
    assert isinstance(BODY.validate_python(body), model)


def error_fields(body: dict[str, Any]) -> tuple[list[tuple[Any, ...]], str]:
    with pytest.raises(ValidationError) as caught:
        BODY.validate_python(body)
    return [e["loc"] for e in caught.value.errors()], str(caught.value)


def test_an_unknown_decision_is_refused_naming_the_decision_field() -> None:
    _, message = error_fields({"decision": "approve"})
    assert "'decision'" in message and "approve" in message


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"decision": "clarify", "questions": []}, ("clarify", "questions")),
        (
            {"decision": "extend", "business_days": 0, "reason": "volume"},
            ("extend", "business_days"),
        ),
        ({"decision": "withhold", "explanation": "privacy"}, ("withhold", "exemption_code")),
        ({"decision": "release", "links": ["not a url"]}, ("release", "links", 0)),
        ({"decision": "release", "links": ["javascript:alert(1)"]}, ("release", "links", 0)),
        ({"decision": "close", "reason": "bored"}, ("close", "reason")),
        ({"decision": "estimate", "pages": -1}, ("estimate", "pages")),
        ({"decision": "assign", "assignee": "not-an-address"}, ("assign", "assignee")),
    ],
)
def test_a_malformed_body_is_refused_naming_the_field(
    body: dict[str, Any], loc: tuple[Any, ...]
) -> None:
    locs, message = error_fields(body)
    assert locs == [loc]
    assert str(loc[1]) in message
