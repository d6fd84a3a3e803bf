"""Privacy screening and clarification questions for a new request. Pure: no I/O."""

import re

from shared.policy import Policy

QUESTIONS = {
    "dataset": "Which dataset, records or topic are you asking for?",
    "fields": "Which fields or columns do you need?",
    "time_range": "What time period should the data cover?",
    "format": "In what format would you like the data (for example CSV, JSON, GeoJSON, spreadsheet, PDF)?",
    "intended_use": "How do you intend to use the data? (You may decline to say.)",
    "deadline": "Is there a date by which you need it?",
    "frequency": "For API access: how often will you call the API?",
    "contact": "How can we reach you besides this address?",
}


def sensitive_terms_in(policy: Policy, *texts: str) -> list[str]:
    """The policy's sensitive-data terms that occur as whole words in the request."""
    haystack = " ".join(texts).lower()
    return [term for term in policy.sensitive_terms if _term_pattern(term).search(haystack)]


def _term_pattern(term: str) -> re.Pattern[str]:
    # words may be split by any white space (wrapped mail lines); a plural still counts
    words = r"\s+".join(re.escape(w) for w in term.lower().split())
    return re.compile(rf"(?<![a-z0-9]){words}(?:s|es)?(?![a-z0-9])")


def clarification_questions(policy: Policy, missing_fields: list[str]) -> list[str]:
    """Questions for what the jurisdiction requires but the request does not say."""
    required = [f for f in policy.required_fields if f in missing_fields]
    return [QUESTIONS[field] for field in required if field in QUESTIONS]
