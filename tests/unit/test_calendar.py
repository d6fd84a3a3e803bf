"""Deadlines a records officer can check against a paper calendar (expected dates by hand)."""

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.calendar import BusinessCalendar, Pause, derive_deadline
from shared.policy import PolicyBook

POLICIES = PolicyBook.load(Path(__file__).parents[2] / "shared" / "policies")
NY = ZoneInfo("America/New_York")
MA, NC = "worcester-ma", "cary-nc"


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=NY)


def due(jurisdiction: str, received: datetime, days: int, **kwargs):  # type: ignore[no-untyped-def]
    return derive_deadline(POLICIES[jurisdiction].calendar, "response", received, days, **kwargs)


# (jurisdiction, received, business days, deemed received on, due on)
DUE_DATES = [
    # DESIGN example: Sunday -> deemed Mon 11-23, day 1 Tue 11-24, Thanksgiving 11-26 skipped.
    pytest.param(MA, at(2026, 11, 22), 10, date(2026, 11, 23), date(2026, 12, 8), id="ma-sunday-before-thanksgiving-due-tue-dec-8"),
    # Cary also closes the day after Thanksgiving, so one day later.
    pytest.param(NC, at(2026, 11, 22), 10, date(2026, 11, 23), date(2026, 12, 9), id="nc-sunday-before-thanksgiving-due-wed-dec-9"),
    pytest.param(MA, at(2026, 3, 10, 16, 59), 10, date(2026, 3, 10), date(2026, 3, 24), id="ma-before-cutoff-counts-today"),
    pytest.param(MA, at(2026, 3, 10, 17, 0), 10, date(2026, 3, 11), date(2026, 3, 25), id="ma-at-5pm-counts-from-next-business-day"),
    # The cut-off is local time: 21:30 UTC is 17:30 EDT in March but 16:30 EST in January.
    pytest.param(MA, datetime(2026, 3, 10, 21, 30, tzinfo=UTC), 1, date(2026, 3, 11), date(2026, 3, 12), id="ma-utc-instant-after-cutoff-in-edt"),
    pytest.param(MA, datetime(2026, 1, 13, 21, 30, tzinfo=UTC), 1, date(2026, 1, 13), date(2026, 1, 14), id="ma-utc-instant-before-cutoff-in-est"),
    # Patriots' Day (third Monday of April) is a Massachusetts holiday only.
    pytest.param(MA, at(2026, 4, 17), 1, date(2026, 4, 17), date(2026, 4, 21), id="ma-skips-patriots-day-2026-04-20"),
    pytest.param(NC, at(2026, 4, 17), 1, date(2026, 4, 17), date(2026, 4, 20), id="nc-open-on-patriots-day-2026"),
    pytest.param(MA, at(2027, 4, 16), 1, date(2027, 4, 16), date(2027, 4, 20), id="ma-skips-patriots-day-2027-04-19"),
    pytest.param(NC, at(2027, 4, 16), 1, date(2027, 4, 16), date(2027, 4, 19), id="nc-open-on-patriots-day-2027"),
    pytest.param(MA, at(2026, 6, 18), 1, date(2026, 6, 18), date(2026, 6, 22), id="ma-skips-juneteenth-friday-2026"),
    pytest.param(NC, at(2026, 6, 18), 1, date(2026, 6, 18), date(2026, 6, 22), id="nc-skips-juneteenth-friday-2026"),
    # June 19 2027 is a Saturday. The holidays package (0.109) moves it to Fri 06-18 for NC
    # ("Juneteenth (observed)") but not for MA, where Saturday holidays are not observed.
    pytest.param(MA, at(2027, 6, 17), 1, date(2027, 6, 17), date(2027, 6, 18), id="ma-open-friday-before-saturday-juneteenth-2027"),
    pytest.param(NC, at(2027, 6, 17), 1, date(2027, 6, 17), date(2027, 6, 21), id="nc-closed-friday-juneteenth-observed-2027"),
    pytest.param(MA, at(2026, 11, 25), 1, date(2026, 11, 25), date(2026, 11, 27), id="ma-open-day-after-thanksgiving"),
    pytest.param(NC, at(2026, 11, 25), 1, date(2026, 11, 25), date(2026, 11, 30), id="nc-closed-thanksgiving-and-day-after"),
    # NC: Christmas Eve, Christmas, and Dec 26 (a Saturday, observed Monday 12-28) are closed.
    pytest.param(NC, at(2026, 12, 23), 1, date(2026, 12, 23), date(2026, 12, 29), id="nc-christmas-closure-through-monday-dec-28"),
    pytest.param(MA, at(2026, 12, 23), 2, date(2026, 12, 23), date(2026, 12, 28), id="ma-open-christmas-eve-and-dec-28"),
    # July 4 2026 is a Saturday: the package observes Fri 07-03 in NC but not in MA.
    pytest.param(MA, at(2026, 7, 2), 1, date(2026, 7, 2), date(2026, 7, 3), id="ma-open-friday-before-saturday-july-4"),
    pytest.param(NC, at(2026, 7, 2), 1, date(2026, 7, 2), date(2026, 7, 6), id="nc-closed-friday-july-3-observed"),
    pytest.param(MA, at(2026, 12, 31), 1, date(2026, 12, 31), date(2027, 1, 4), id="ma-skips-new-year-2027"),
    pytest.param(NC, at(2026, 12, 31), 1, date(2026, 12, 31), date(2027, 1, 4), id="nc-skips-new-year-2027"),
    pytest.param(MA, at(2027, 1, 1), 1, date(2027, 1, 4), date(2027, 1, 5), id="ma-received-new-years-day-deemed-monday"),
]  # fmt: skip


@pytest.mark.parametrize(("jurisdiction", "received", "days", "deemed", "due_on"), DUE_DATES)
def test_request_is_due_on_the_business_day_counted_by_hand(
    jurisdiction: str, received: datetime, days: int, deemed: date, due_on: date
) -> None:
    derivation = due(jurisdiction, received, days)
    assert derivation.deemed_received_on == deemed
    assert derivation.due_on == due_on


def test_request_received_sunday_before_thanksgiving_is_due_tuesday_december_8() -> None:
    d = due(MA, at(2026, 11, 22), 10)
    assert d.received_local == at(2026, 11, 22)
    assert d.deemed_received_on == date(2026, 11, 23)
    assert d.counted_from == date(2026, 11, 24)
    assert [(s.day, s.reason) for s in d.holidays_skipped] == [
        (date(2026, 11, 26), "Thanksgiving Day")
    ]
    assert d.due_on == date(2026, 12, 8)
    text = d.explain()
    assert text.startswith("received Sun 2026-11-22 10:00 EST; deemed received Mon 2026-11-23")
    assert "day 1 is Tue 2026-11-24" in text and "skipping Thanksgiving Day (11-26)" in text
    assert text.endswith("due Tue 2026-12-08")


@pytest.mark.parametrize(
    ("jurisdiction", "pause_days", "extension", "due_on"),
    [
        (MA, 0, 0, date(2026, 3, 24)),
        (MA, 3, 0, date(2026, 3, 27)),
        (MA, 0, 5, date(2026, 3, 31)),
        (MA, 3, 5, date(2026, 4, 3)),
        (NC, 3, 5, date(2026, 4, 6)),  # 8 days after Tue 03-24 is Good Friday, closed in Cary
    ],
)
def test_pause_and_extension_each_move_the_due_date_by_that_many_business_days(
    jurisdiction: str, pause_days: int, extension: int, due_on: date
) -> None:
    pause = Pause(
        started_on=date(2026, 3, 12),
        ended_on=date(2026, 3, 16),
        business_days=pause_days,
        reason="awaiting clarification",
    )
    d = due(jurisdiction, at(2026, 3, 10), 10, pauses=[pause], extension_business_days=extension)
    assert d.due_on == due_on
    calendar = POLICIES[jurisdiction].calendar
    assert calendar.business_days_between(date(2026, 3, 24), d.due_on) == pause_days + extension
    if pause_days and extension:
        assert "paused 3 business days (awaiting clarification)" in d.explain()
        assert "extended 5 business days" in d.explain()


@pytest.mark.parametrize(
    ("jurisdiction", "received", "days", "overdue_at"),
    [
        (MA, at(2026, 11, 22), 10, at(2026, 12, 9, 0, 0)),
        (MA, at(2026, 11, 24), 1, at(2026, 11, 27, 0, 0)),  # due Wed, Thanksgiving skipped
        (NC, at(2026, 11, 24), 1, at(2026, 11, 30, 0, 0)),  # and the day after, in Cary
        (MA, at(2026, 3, 12), 1, at(2026, 3, 16, 0, 0)),  # due Friday, overdue Monday (EDT)
    ],
)
def test_request_becomes_overdue_at_midnight_local_of_next_business_day(
    jurisdiction: str, received: datetime, days: int, overdue_at: datetime
) -> None:
    d = due(jurisdiction, received, days)
    assert d.overdue_at == overdue_at
    assert d.overdue_at.utcoffset() == overdue_at.utcoffset()


def test_nc_explanation_lists_christmas_closures_but_not_the_weekend() -> None:
    d = due(NC, at(2026, 12, 23), 10)
    assert d.due_on == date(2027, 1, 12)  # 12-29,30,31, 01-04..08, 01-11, 01-12
    # Sat 12-26 is not a skipped business day; its observed Monday is.
    assert (
        "skipping Christmas Eve (12-24), Christmas Day (12-25), "
        "Day After Christmas (observed) (12-28), New Year's Day (01-01); due Tue 2027-01-12"
    ) in d.explain()


def test_extra_office_closure_is_skipped_and_explained() -> None:
    storm = BusinessCalendar(
        "America/New_York", "MA", extra_closures=frozenset({date(2026, 3, 11)})
    )
    d = derive_deadline(storm, "response", at(2026, 3, 10), 1)
    assert d.due_on == date(2026, 3, 12)
    assert "office closed (03-11)" in d.explain()
