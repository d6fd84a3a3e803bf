"""Text likeness used by catalog matching and by the possible-duplicate check."""

import pytest

from services.intake.filing import DUPLICATE_THRESHOLD, ask_summary
from services.intake.similarity import matched_phrases, same_ask, stem, terms


def test_content_words_are_stemmed_and_stopwords_dropped() -> None:
    found = terms("Please send me the Building Permits for the permit office")
    assert found.stems == ("build", "permit", "offic")
    assert found.words_for({"permit", "build"}) == "building permits"


@pytest.mark.parametrize(
    ("first", "second", "alike"),
    [
        ("building permits 2025", "Building permits 2025", True),
        ("building permits", "permits for new buildings", True),
        ("building permits 2025", "building permits 2024", False),  # another year
        ("building permits", "restaurant inspections", False),
        ("emails between the city manager and the police chief", "police incidents", False),
        ("", "anything", False),
    ],
)
def test_same_ask(first: str, second: str, alike: bool) -> None:
    likeness = same_ask(first, second)
    assert 0 <= likeness.score <= 1
    assert (likeness.score >= DUPLICATE_THRESHOLD) is alike


def test_the_summary_compared_for_duplicates_is_topic_and_years() -> None:
    extracted = {
        "dataset": {"value": "building permits", "source_text": "building permits"},
        "time_range": {"value": "2024-07-01/2025-06-30", "source_text": "FY2025"},
    }
    assert ask_summary("Data request", extracted) == "building permits 2024 2025"
    assert ask_summary("Tree inventory", {}) == "Tree inventory"


@pytest.mark.parametrize(
    ("text", "words", "phrase"),
    [
        ("Permits\nHi again, could I get the building permits for 2025?",
         ["building", "permits"], "building permits"),
        ("trees in the street", ["trees", "street"], "trees in the street"),
        ("crime statistics: police incident reports", ["crime", "police", "incident"],
         "crime \u2026 police incident"),
        ("nothing here", ["parcels"], ""),
    ],
)  # fmt: skip
def test_matched_words_are_shown_as_the_phrases_the_request_used(
    text: str, words: list[str], phrase: str
) -> None:
    assert matched_phrases(text, {stem(w) for w in words}) == phrase
