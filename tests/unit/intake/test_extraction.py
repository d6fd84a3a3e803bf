"""What the person asked for: table-driven over realistic requests to Worcester and Cary."""

from dataclasses import dataclass, field
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.extraction import extract_ask, prepare

RECEIVED = date(2026, 3, 2)  # a Monday


@dataclass(frozen=True)
class Case:
    name: str
    subject: str
    body: str
    kind: str
    values: dict[str, str] = field(default_factory=dict)  # field -> expected value
    absent: tuple[str, ...] = ()  # fields that must not be read


CASES = [
    Case(
        "extract of permits for one year as CSV, topic from the subject",
        "Building permits 2025",
        "All building permits issued in 2025, as CSV.",
        "extract",
        {"dataset": "Building permits", "time_range": "2025-01-01/2025-12-31", "format": "CSV"},
        ("fields", "deadline", "frequency"),
    ),
    Case(
        "Massachusetts public records request for emails with a date range and deadline",
        "Public records request",
        "Pursuant to the Massachusetts Public Records Law, G.L. c. 66, § 10, I request copies"
        " of all emails between the City Manager and the Police Chief regarding the budget from"
        " January 1, 2025 to March 31, 2025. Please provide them as PDF. I need them by"
        " April 30, 2026.",
        "public_records",
        {
            "dataset": "emails between the City Manager and the Police Chief regarding the budget",
            "time_range": "2025-01-01/2025-03-31",
            "format": "PDF",
            "deadline": "2026-04-30",
        },
        ("fields", "intended_use"),
    ),
    Case(
        "API key with expected call rate and a phone number",
        "API key request",
        "Hi, I'd like an API key for the Cary building permits dataset. We are building a mobile"
        " app for contractors and expect about 500 requests per day.\nThanks, Dana (919) 555-0142",
        "api_access",
        {
            "dataset": "Cary building permits dataset",
            "format": "API",
            "frequency": "500 requests per day",
            "contact": "(919) 555-0142",
        },
    ),
    Case(
        "ask to publish a dataset on the portal, with a use",
        "Tree inventory",
        "Could the town publish its street tree inventory on the open data portal? GeoJSON would"
        " be ideal, so that we can map canopy coverage for our neighborhood association.",
        "open_data",
        {
            "dataset": "street tree inventory",
            "format": "GeoJSON",
            "intended_use": "map canopy coverage for our neighborhood association",
        },
        ("time_range", "frequency"),
    ),
    Case(
        "fields listed after 'the following fields', relative period, Excel, research use",
        "Code enforcement data",
        "Please send me code enforcement violations for the last 3 years with the following"
        " fields: address, violation type, date opened, status. Excel is fine. This is for a"
        " research project at Clark University.",
        "extract",
        {
            "dataset": "code enforcement violations",
            "fields": "address, violation type, date opened, status",
            "time_range": "2023-03-02/2026-03-02",
            "format": "spreadsheet",
            "intended_use": "research project at Clark University",
        },
    ),
    Case(
        "labelled lines as a web form might send, fiscal year, business-day deadline",
        "Data request: 311 service requests",
        "Fields: request type, created date, closed date, ward\nTime period: FY2024\n"
        "Format: CSV\nIntended use: a dashboard for the ward councillors\n"
        "We need it within 10 business days.",
        "extract",
        {
            "dataset": "311 service requests",
            "fields": "request type, created date, closed date, ward",
            "time_range": "2023-07-01/2024-06-30",
            "format": "CSV",
            "intended_use": "a dashboard for the ward councillors",
            "deadline": "within 10 business days",
        },
    ),
    Case(
        "a negated format is not the format asked for",
        "Restaurant inspections",
        "I am looking for restaurant inspection results since 2019 in JSON, not PDF.",
        "extract",
        {
            "dataset": "restaurant inspection results",
            "time_range": "2019-01-01/2026-03-02",
            "format": "JSON",
        },
    ),
    Case(
        "nothing to read: no dataset, kind falls back to public records",
        "hello",
        "please help",
        "public_records",
        {},
        ("dataset", "fields", "time_range", "format", "intended_use", "deadline"),
    ),
    Case(
        "month-year range, with bulleted fields",
        "Police incidents",
        "I would like to get police incident reports from March 2024 through February 2025 with"
        " the following columns:\n- offense type\n- date\n- block address\nas a spreadsheet.",
        "extract",
        {
            "dataset": "police incident reports",
            "time_range": "2024-03-01/2025-02-28",
            "fields": "offense type, date, block address",
            "format": "spreadsheet",
        },
    ),
    Case(
        "API access with a polling interval and a real-time feed",
        "Transit",
        "We want access to the town's GTFS realtime API for a trip-planning app. Our server"
        " would poll every 30 seconds.",
        "api_access",
        {"format": "API", "frequency": "every 30 seconds"},
    ),
    Case(
        "North Carolina public records request citing G.S. 132, deadline without a year",
        "Records request",
        "Under N.C.G.S. 132-1 I am requesting copies of the contracts for the downtown park"
        " construction, and any change orders. I would appreciate them by March 20.",
        "public_records",
        {
            "dataset": "contracts for the downtown park construction",
            "deadline": "2026-03-20",
        },
        ("format",),
    ),
    Case(
        "a deadline date that has passed this year means next year",
        "Minutes",
        "Please send the council meeting minutes no later than January 15.",
        "public_records",
        {"deadline": "2027-01-15"},
    ),
    Case(
        "last calendar year, urgent",
        "Water main breaks",
        "Could you send water main break locations for last year as GeoJSON? It is urgent.",
        "extract",
        {
            "time_range": "2025-01-01/2025-12-31",
            "format": "GeoJSON",
            "deadline": "as soon as possible",
        },
    ),
    Case(
        "open data ask with machine-readable wording",
        "Snow routes",
        "Please make the snow emergency routes available on the city website in a"
        " machine-readable format, kept up to date.",
        "open_data",
        {"dataset": "snow emergency routes"},
    ),
    Case(
        "two formats, in the order they are mentioned",
        "Parcels",
        "I'm seeking parcel boundaries in GeoJSON or a CSV export for a class project.",
        "extract",
        {
            "dataset": "parcel boundaries",
            "format": "GeoJSON, CSV",
            "intended_use": "class project",
        },
    ),
    Case(
        "a field list running into the format and the use stops at them",
        "Building permits 2025",
        "All building permits issued in 2025 with permit number, address and valuation, as CSV,"
        " for a research project.",
        "extract",
        {
            "fields": "permit number, address, valuation",
            "format": "CSV",
            "intended_use": "research project",
        },
    ),
    Case(
        "quoted history and signature are not read",
        "Re: [WOR-2026-000042] Your request",
        "Yes, CSV please.\n\n> On Monday the city wrote:\n> Would you like it as a PDF?\n"
        "-- \nDana Smith\n508-555-0199",
        "extract",
        {"format": "CSV"},
        ("contact",),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reads_what_the_person_asked_for(case: Case) -> None:
    ask = extract_ask(case.subject, case.body, RECEIVED)
    assert ask.kind == case.kind
    read = {name: value.value for name, value in ask.values.items()}
    for name, expected in case.values.items():
        assert read.get(name) == expected, f"{name}: read {read.get(name)!r}"
    for name in case.absent:
        assert name not in read, f"{name} read as {read[name]!r}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_value_keeps_the_text_it_came_from(case: Case) -> None:
    ask = extract_ask(case.subject, case.body, RECEIVED)
    text = " ".join(f"{prepare(case.subject)}\n{prepare(case.body)}".split())
    for name, value in ask.values.items():
        assert value.source_text, name
        assert value.source_text in text, f"{name}: {value.source_text!r} is not in the request"
    if ask.kind_cue.source_text:
        assert ask.kind_cue.source_text in text


def test_reading_is_deterministic() -> None:
    case = CASES[1]
    first = extract_ask(case.subject, case.body, RECEIVED)
    assert all(extract_ask(case.subject, case.body, RECEIVED) == first for _ in range(5))


@pytest.mark.parametrize(
    ("required", "subject", "body", "missing"),
    [
        (["dataset"], "hello", "please help", ["dataset"]),
        (["dataset", "format"], "Building permits", "All of them.", ["format"]),
        (["dataset", "format"], "Building permits", "All of them as CSV.", []),
        # the call frequency is only asked of API access requests
        (["dataset", "frequency"], "Building permits", "All of them.", []),
        (["frequency"], "API key", "I need an API key for permits.", ["frequency"]),
        (["contact"], "Building permits", "All of them.", ["contact"]),
    ],
)
def test_lists_what_the_jurisdiction_requires_but_the_request_lacks(
    required: list[str], subject: str, body: str, missing: list[str]
) -> None:
    assert extract_ask(subject, body, RECEIVED).missing(required) == missing


def test_contact_known_from_the_sender_is_not_missing() -> None:
    ask = extract_ask("Building permits", "All of them.", RECEIVED)
    assert ask.missing(["dataset", "contact"], known=["contact"]) == []


def test_relative_periods_count_back_from_the_day_received() -> None:
    body = "Service requests for the past 6 months please."
    assert extract_ask("", body, date(2026, 3, 2)).values["time_range"].value == (
        "2025-09-02/2026-03-02"
    )
    assert extract_ask("", body, date(2026, 8, 31)).values["time_range"].value == (
        "2026-02-28/2026-08-31"
    )


def test_a_huge_request_is_read_within_its_first_part_only() -> None:
    body = "Please send building permits as CSV. " + "lorem ipsum dolor " * 20_000
    ask = extract_ask("Permits", body, RECEIVED)
    assert ask.values["format"].value == "CSV"


_WORDS = st.sampled_from(
    [
        "please",
        "send",
        "me",
        "all",
        "building",
        "permits",
        "from",
        "January",
        "2020",
        "to",
        "3/15/2024",
        "as",
        "CSV",
        "GeoJSON",
        "not",
        "PDF",
        "with",
        "address,",
        "date",
        "and",
        "status",
        "for",
        "a",
        "research",
        "project",
        "by",
        "April",
        "30",
        "API",
        "key",
        "500",
        "requests",
        "per",
        "day",
        "since",
        "2019",
        "the",
        "last",
        "3",
        "years",
        "FY2024",
        "fields:",
        "columns",
        "-",
        "\n",
        ",",
        ".",
        ";",
        ":",
        "(",
        ")",
        ">",
        "--",
        "é",
        "🙂",
        "within",
        "10",
        "business",
        "days",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    subject=st.text(max_size=80),
    body=st.one_of(st.text(max_size=400), st.lists(_WORDS, max_size=80).map(" ".join)),
)
def test_any_text_is_read_without_error_and_values_point_into_it(subject: str, body: str) -> None:
    ask = extract_ask(subject, body, RECEIVED)
    text = " ".join(f"{prepare(subject)}\n{prepare(body)}".split())
    assert ask.kind in ("open_data", "extract", "api_access", "public_records")
    for value in ask.values.values():
        assert value.value
        assert value.source_text in text
