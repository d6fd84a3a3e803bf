"""Reading DCAT-US data.json catalogs and matching requests against the datasets in them."""

import json
from pathlib import Path

import pytest

from services.intake.catalog import (
    CatalogEntry,
    CatalogError,
    CatalogIndex,
    DcatDataset,
    read_catalog,
)

CATALOGS = Path(__file__).parents[2] / "fixtures" / "catalog"


def index_of(jurisdiction: str) -> CatalogIndex:
    reading = read_catalog((CATALOGS / f"{jurisdiction}.data.json").read_bytes())
    return CatalogIndex(entry(d) for d in reading.datasets)


def entry(d: DcatDataset) -> CatalogEntry:
    return CatalogEntry(d.identifier, d.title, tuple(d.keyword), d.description, d.landing_page)


def catalog(*datasets: object) -> bytes:
    return json.dumps({"conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
                       "dataset": list(datasets)}).encode()  # fmt: skip


# --- reading ------------------------------------------------------------------------------


def test_reads_both_cities_fixture_catalogs() -> None:
    worcester = read_catalog((CATALOGS / "worcester-ma.data.json").read_bytes())
    cary = read_catalog((CATALOGS / "cary-nc.data.json").read_bytes())
    assert len(worcester.datasets) == 10 and worcester.problems == []
    assert len(cary.datasets) == 9 and cary.not_public == 1  # salaries are non-public
    permits = next(d for d in worcester.datasets if d.title == "Building Permits")
    assert permits.keyword[:2] == ["building", "permits"]
    assert {x.format for x in permits.distribution} >= {"CSV", "GeoJSON"}


def test_a_keyword_string_is_read_as_a_list() -> None:
    reading = read_catalog(
        catalog({"identifier": "trails", "title": "Trails", "keyword": "greenways, trails"})
    )
    assert reading.datasets[0].keyword == ["greenways", "trails"]


def test_a_bad_dataset_is_skipped_with_its_reason_and_the_rest_kept() -> None:
    reading = read_catalog(
        catalog(
            {"identifier": "a", "title": "Parcels"},
            {"identifier": "b"},
            "not a dataset",
            {"identifier": "a", "title": "Parcels again"},
            {"identifier": "c", "title": "Salaries", "accessLevel": "restricted public"},
        )
    )
    assert [d.identifier for d in reading.datasets] == ["a"]
    assert reading.not_public == 1
    assert len(reading.problems) == 3
    assert "dataset[1]: title: Field required" in reading.problems[0]
    assert "dataset[2]: not an object" in reading.problems[1]
    assert "appears twice" in reading.problems[2]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html>portal is down</html>", "not JSON"),
        (b'{"datasets": []}', 'expected an object with a "dataset" array'),
        (b"[1, 2]", 'expected an object with a "dataset" array'),
        (b'{"dataset": [{"identifier": "x"}]}', "no public dataset could be read"),
        (b'{"dataset": []}', "no public dataset could be read"),
    ],
)
def test_a_file_that_is_not_a_catalog_is_refused_with_a_clear_reason(
    raw: bytes, message: str
) -> None:
    with pytest.raises(CatalogError, match=message):
        read_catalog(raw)


# --- matching -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "topic", "text", "best_title", "at_least"),
    [
        ("worcester-ma", "Building permits", "All building permits issued in 2025, as CSV.",
         "Building Permits", 0.9),
        ("worcester-ma", "street tree inventory", "Could you publish the street tree inventory?",
         "Street Trees", 0.8),
        ("worcester-ma", "restaurant inspection results", "restaurant inspection results since 2019",
         "Food Establishment Inspections", 0.4),
        ("worcester-ma", "311 service requests", "Fields: request type, ward. FY2024.",
         "Worcester 311 Service Requests", 0.7),
        ("cary-nc", "building permits", "Building permits issued in 2025 as CSV",
         "Building Permit Applications", 0.6),
        ("cary-nc", "greenway trails", "Where can I get a map of greenway trails?",
         "Greenways and Trails", 0.6),
    ],
)  # fmt: skip
def test_the_published_dataset_a_request_names_ranks_first(
    jurisdiction: str, topic: str, text: str, best_title: str, at_least: float
) -> None:
    matches = index_of(jurisdiction).match(topic, text)
    assert matches, "no match"
    assert matches[0].title == best_title
    assert matches[0].score >= at_least
    assert all(0 <= m.score <= 1 for m in matches)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_a_match_says_which_words_of_the_request_matched() -> None:
    best = index_of("worcester-ma").match("Building permits", "building permits for 2025")[0]
    assert best.matched_text == "building permits"
    data = best.as_event_data()
    assert data["dataset_id"].endswith("/datasets/building-permits")
    assert data["score"] == best.score
    assert data["url"]


@pytest.mark.parametrize(
    ("jurisdiction", "topic", "text"),
    [
        # emails about the police chief are not the police incident dataset
        ("cary-nc", "emails between the Town Manager and the Police Chief regarding the budget",
         "I request copies of all emails between the Town Manager and the Police Chief"),
        ("worcester-ma", "crime", "crime statistics for my street"),
        ("worcester-ma", "hello", "please help"),
    ],
)  # fmt: skip
def test_a_request_for_something_unpublished_gets_no_strong_match(
    jurisdiction: str, topic: str, text: str
) -> None:
    threshold = 0.6  # both policies' catalog.match_threshold
    assert all(m.score < threshold for m in index_of(jurisdiction).match(topic, text))


def test_matching_is_deterministic_and_ties_break_by_title() -> None:
    twins = [
        CatalogEntry("b", "Parking Tickets"),
        CatalogEntry("a", "Parking Tickets"),
        CatalogEntry("c", "Parking Meters"),
    ]
    first = CatalogIndex(twins).match("parking tickets", "parking tickets 2024")
    again = CatalogIndex(reversed(twins)).match("parking tickets", "parking tickets 2024")
    assert first == again
    assert [m.identifier for m in first[:2]] == ["a", "b"]


def test_an_empty_catalog_matches_nothing() -> None:
    assert CatalogIndex([]).match("building permits", "building permits") == []


def test_words_every_title_shares_count_less_than_rare_ones() -> None:
    index = CatalogIndex(
        [
            CatalogEntry("1", "Cary Building Permits"),
            CatalogEntry("2", "Cary Fire Incidents"),
            CatalogEntry("3", "Cary Police Incidents"),
        ]
    )
    matches = {m.identifier: m.score for m in index.match("Cary parks", "Cary parks")}
    # "cary" is in every title, so naming only it is a weak match to any of them
    assert all(score < 0.4 for score in matches.values())
