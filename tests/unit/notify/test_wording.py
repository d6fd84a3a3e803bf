"""Dates, money and codes as a person reads them."""

from datetime import date
from decimal import Decimal

import pytest

from services.notify import wording


def test_dates_read_in_full() -> None:
    assert wording.long_date(date(2026, 12, 8)) == "Tuesday, December 8, 2026"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(Decimal("6"), "$6.00"), (Decimal("1234.5"), "$1,234.50"), (Decimal("0.125"), "$0.13")],
)
def test_money_reads_as_a_bill(amount: Decimal, shown: str) -> None:
    assert wording.money(amount) == shown


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(Decimal("120"), "120"), (Decimal("1.50"), "1.5"), (Decimal("1E+2"), "100")],
)
def test_quantities_have_no_trailing_zeros(amount: Decimal, shown: str) -> None:
    assert wording.quantity(amount) == shown


def test_codes_become_words_and_unknown_codes_stay_readable() -> None:
    assert wording.close_reason("already_published").startswith("the information you asked for")
    assert wording.close_reason("merged_elsewhere") == "merged elsewhere"
    assert wording.field_label("time_range") == "Time period"
    assert wording.field_label("budget_code") == "Budget code"
    assert wording.business_days(1) == "1 business day"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2020-01-01/2024-12-31", "January 1, 2020 to December 31, 2024"),
        ("by 2026-12-31", "by December 31, 2026"),
        ("2026-02-30", "2026-02-30"),
        ("last five years", "last five years"),
    ],
)
def test_iso_dates_from_extraction_read_as_dates(value: str, shown: str) -> None:
    assert wording.dates_in_words(value) == shown
