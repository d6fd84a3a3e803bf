"""Who may be mailed now: never ourselves, never a robot, a requester at most N per window."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.notify.recipients import next_free_slot, own_addresses, refusal
from shared.policy import PolicyBook

OWN = own_addresses(PolicyBook.load(Path(__file__).parents[3] / "shared" / "policies"))
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    "address",
    [
        "records@worcester-ma.example",
        "Records+wor-2026-000001.abcdefghijkl@Worcester-MA.example",
        "opendata@cary-nc.example",
        "publicrecords@cary-nc.example",
        "MAILER-DAEMON@mx.example.org",
        "no-reply@example.org",
    ],
)
def test_our_own_and_robot_addresses_are_never_mailed(address: str) -> None:
    assert (refusal(address, OWN) or "").startswith("loop guard")


@pytest.mark.parametrize(
    "address", ["ann@example.org", "clerk@cary-nc.example", "records@elsewhere.example"]
)
def test_people_and_staff_may_be_mailed(address: str) -> None:
    assert refusal(address, OWN) is None


def test_an_address_without_a_domain_is_refused() -> None:
    assert refusal("ann", OWN) == "not an email address: 'ann'"


def test_under_the_limit_a_mail_goes_now() -> None:
    assert next_free_slot([NOW - timedelta(minutes=5)], 2, HOUR, NOW) is None


def test_at_the_limit_the_mail_waits_until_the_oldest_leaves_the_window() -> None:
    sent = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    assert next_free_slot(sent, 2, HOUR, NOW) == NOW + timedelta(minutes=10)


def test_over_the_limit_it_waits_for_enough_of_them_to_leave() -> None:
    sent = [NOW - timedelta(minutes=m) for m in (55, 40, 20)]
    assert next_free_slot(sent, 2, HOUR, NOW) == NOW + timedelta(minutes=20)


def test_mail_older_than_the_window_does_not_count() -> None:
    sent = [NOW - timedelta(hours=2), NOW - timedelta(minutes=61), NOW - timedelta(minutes=1)]
    assert next_free_slot(sent, 2, HOUR, NOW) is None
