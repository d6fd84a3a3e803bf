"""Fee quotes against the shipped Worcester and Cary fee schedules (expectations by hand)."""

from decimal import Decimal
from pathlib import Path

import pytest

from services.review.fees import WorkEstimate, price
from shared.policy import PolicyBook

POLICIES = PolicyBook.load(Path(__file__).parents[3] / "shared" / "policies")
WORCESTER = POLICIES["worcester-ma"].fees
CARY = POLICIES["cary-nc"].fees


def D(value: str) -> Decimal:
    return Decimal(value)


# --- Worcester, MA: G.L. c.66 §10(d) ------------------------------------------------------


def test_worcester_copies_cost_five_cents_a_page() -> None:
    quote = price(WORCESTER, WorkEstimate(pages=100))
    assert quote.total == D("5.00")
    assert [(line.description, line.amount) for line in quote.lines] == [("copies", D("5.00"))]
    assert quote.chargeable


def test_worcester_first_two_search_hours_are_free() -> None:
    quote = price(WORCESTER, WorkEstimate(search_hours=D(3)))
    (line,) = quote.lines
    assert (line.quantity, line.unit_price, line.amount) == (D(1), D("25.00"), D("25.00"))
    assert quote.total == D("25.00")
    assert any("2 hours free" in reason for reason in quote.waived_reasons)


def test_worcester_hourly_rate_above_25_dollars_is_capped_at_25() -> None:
    quote = price(WORCESTER, WorkEstimate(search_hours=D(3), hourly_rate=D("40.00")))
    assert quote.lines[0].unit_price == D("25.00")
    assert quote.total == D("25.00")
    assert any("capped" in reason for reason in quote.waived_reasons)


def test_worcester_a_lower_employee_rate_is_used_as_given() -> None:
    quote = price(WORCESTER, WorkEstimate(search_hours=D(4), hourly_rate=D("18.50")))
    assert quote.total == D("37.00")  # (4 - 2) h * $18.50
    assert not any("capped" in reason for reason in quote.waived_reasons)


def test_worcester_no_fee_at_all_when_the_response_was_late() -> None:
    work = WorkEstimate(pages=100, search_hours=D(5))
    assert price(WORCESTER, work).total == D("80.00")  # $5.00 + 3 h * $25
    quote = price(WORCESTER, work, response_late=True)
    assert quote.total == 0
    assert not quote.chargeable
    assert any("late" in reason for reason in quote.waived_reasons)


def test_worcester_charges_redaction_time_as_staff_time() -> None:
    quote = price(WORCESTER, WorkEstimate(search_hours=D(1), redaction_hours=D(2)))
    assert quote.total == D("25.00")  # (1 + 2 - 2 free) h * $25
    assert not any("confidential" in reason for reason in quote.waived_reasons)


# --- Cary, NC: G.S. 132-6.2 ---------------------------------------------------------------


def test_cary_copies_cost_ten_cents_a_page() -> None:
    quote = price(CARY, WorkEstimate(pages=100))
    assert quote.lines[0].unit_price == D("0.10")
    assert quote.total == D("10.00")


@pytest.mark.parametrize("hours", ["1", "3", "4"])
def test_cary_staff_hours_up_to_the_special_service_threshold_are_not_billed(hours: str) -> None:
    quote = price(CARY, WorkEstimate(search_hours=D(hours), hourly_rate=D("30.00")))
    assert quote.lines == []
    assert quote.total == 0


def test_cary_special_service_charge_bills_only_hours_beyond_four() -> None:
    quote = price(CARY, WorkEstimate(search_hours=D(6), hourly_rate=D("30.00")))
    (line,) = quote.lines
    assert "special service charge" in line.description
    assert (line.quantity, line.amount) == (D(2), D("60.00"))
    assert quote.total == D("60.00")


def test_cary_never_charges_for_separating_confidential_information() -> None:
    only_redaction = price(CARY, WorkEstimate(redaction_hours=D(20), hourly_rate=D("30.00")))
    assert only_redaction.total == 0
    assert any("confidential" in reason for reason in only_redaction.waived_reasons)
    mixed = price(
        CARY, WorkEstimate(search_hours=D(5), redaction_hours=D(10), hourly_rate=D("30.00"))
    )
    assert mixed.total == D("30.00")  # only (5 - 4) search hours * $30


def test_cary_estimate_at_the_five_dollar_threshold_is_waived() -> None:
    quote = price(CARY, WorkEstimate(pages=50))  # 50 * $0.10 = $5.00
    assert quote.total == 0
    assert not quote.chargeable
    assert any("threshold" in reason for reason in quote.waived_reasons)


def test_cary_estimate_just_over_the_threshold_is_charged() -> None:
    assert price(CARY, WorkEstimate(pages=51)).total == D("5.10")


def test_cary_has_no_late_response_fee_bar() -> None:
    assert price(CARY, WorkEstimate(pages=100), response_late=True).total == D("10.00")


# --- money --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "work", "expected"),
    [
        # 0.5 h * $19.99 = $9.995 -> $10.00 (half up)
        (WORCESTER, WorkEstimate(search_hours=D("2.5"), hourly_rate=D("19.99")), "10.00"),
        # 1 h * $17.333 = $17.333 -> $17.33, plus 1 page $0.05
        (WORCESTER, WorkEstimate(pages=1, search_hours=D(3), hourly_rate=D("17.333")), "17.38"),
        # 1 h * $12.345 -> $12.35
        (CARY, WorkEstimate(search_hours=D(5), hourly_rate=D("12.345")), "12.35"),
    ],
)
def test_totals_and_lines_are_rounded_to_cents(schedule, work, expected) -> None:  # type: ignore[no-untyped-def]
    quote = price(schedule, work)
    assert quote.total == D(expected)
    assert quote.total.as_tuple().exponent == -2
    assert all(line.amount.as_tuple().exponent == -2 for line in quote.lines)
