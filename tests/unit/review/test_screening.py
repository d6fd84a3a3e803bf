"""Privacy screening of a request's text and the clarification questions it gets."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.review.screening import QUESTIONS, clarification_questions, sensitive_terms_in
from shared.policy import Policy, PolicyBook

POLICIES = PolicyBook.load(Path(__file__).parents[3] / "shared" / "policies")
WORCESTER = POLICIES["worcester-ma"]
CARY = POLICIES["cary-nc"]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Please include each employee's date of birth.", "date of birth"),
        ("Send names and SSN for all vendors", "ssn"),
        ("dob, name, address", "dob"),
        ("Records about a Minor involved in the crash", "minor"),
        ("victim statements (2024)", "victim"),
    ],
)
def test_sensitive_terms_are_found_as_whole_words_in_any_case(text: str, term: str) -> None:
    assert term in sensitive_terms_in(WORCESTER, text)


@pytest.mark.parametrize(
    "text",
    [
        "Minority-owned business contracts for 2025",  # minor
        "Adobe licence invoices",  # dob
        "Coriander imports at the farmers market",  # cori
        "Classnotes from the police academy",  # ssn
        "Victimology course syllabus",  # victim
    ],
)
def test_sensitive_terms_inside_other_words_are_not_flagged(text: str) -> None:
    assert sensitive_terms_in(WORCESTER, text) == []


def test_sensitive_terms_are_searched_in_subject_and_body_together() -> None:
    found = sensitive_terms_in(CARY, "Payroll data", "with home address and bank account")
    assert found == ["home address", "bank account"]


def test_terms_only_in_one_policy_are_flagged_only_there() -> None:
    assert sensitive_terms_in(WORCESTER, "CORI checks") == ["cori"]
    assert sensitive_terms_in(CARY, "CORI checks") == []


def test_a_sensitive_phrase_wrapped_across_lines_is_still_flagged() -> None:
    assert "date of birth" in sensitive_terms_in(WORCESTER, "list every name and date of\nbirth")


# --- clarification -------------------------------------------------------------------------


def test_a_question_is_asked_only_for_missing_required_fields() -> None:
    assert clarification_questions(CARY, ["dataset", "format"]) == [
        QUESTIONS["dataset"],
        QUESTIONS["format"],
    ]
    assert clarification_questions(CARY, ["format"]) == [QUESTIONS["format"]]
    assert clarification_questions(CARY, []) == []


def test_missing_fields_that_are_not_required_get_no_question() -> None:
    assert clarification_questions(WORCESTER, ["format", "time_range", "deadline"]) == []
    assert clarification_questions(WORCESTER, ["dataset", "format"]) == [QUESTIONS["dataset"]]


@pytest.mark.parametrize("policy", [CARY, WORCESTER], ids=lambda p: p.id)
def test_intended_use_is_never_asked_as_required(policy: Policy) -> None:
    assert "intended_use" not in policy.required_fields
    questions = clarification_questions(policy, ["intended_use"])
    assert QUESTIONS["intended_use"] not in questions


def test_cary_policy_cannot_be_made_to_require_intended_use() -> None:
    raw = CARY.model_dump()
    raw["required_fields"] = [*raw["required_fields"], "intended_use"]
    with pytest.raises(ValidationError, match="intended_use"):
        Policy.model_validate(raw)
