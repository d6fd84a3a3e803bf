"""Appeal deadlines, and what a gateway is told about a presented API key."""

from datetime import date
from pathlib import Path

import pytest

from services.review.api_keys import check
from services.review.decisions import appeal_deadline
from shared.db.tables import ApiKey
from shared.policy import Policy, PolicyBook
from shared.signing import api_key, token_hash

POLICIES = PolicyBook.load(Path(__file__).parents[3] / "shared" / "policies")
WORCESTER = POLICIES["worcester-ma"]


def business_days_variant(policy: Policy, within_days: int) -> Policy:
    appeal = policy.appeal.model_copy(update={"day_kind": "business", "within_days": within_days})
    return policy.model_copy(update={"appeal": appeal})


def test_worcester_appeal_is_due_90_calendar_days_after_the_decision() -> None:
    # Wed 2026-03-04: 27 days to 03-31, 30 in April, 31 in May, then 2 more -> Tue 2026-06-02
    assert appeal_deadline(WORCESTER, date(2026, 3, 4)) == date(2026, 6, 2)


def test_a_business_day_appeal_period_of_ten_days_spanning_thanksgiving() -> None:
    policy = business_days_variant(WORCESTER, 10)
    # Fri 2026-11-20: 11-23, 24, 25, (26 Thanksgiving), 27, 30, 12-01, 02, 03, 04, 07
    assert appeal_deadline(policy, date(2026, 11, 20)) == date(2026, 12, 7)


# --- API keys ------------------------------------------------------------------------------

SECRET = "install-secret"
KEY_ID = "0123456789abcdef"
GOOD = api_key(SECRET, KEY_ID)
TODAY = date(2026, 6, 1)


def key(**changes: object) -> ApiKey:
    fields: dict[str, object] = {
        "id": KEY_ID,
        "key_hash": token_hash(GOOD),
        "request_ref": "WOR-2026-000007",
        "jurisdiction": "worcester-ma",
        "holder_email": "dev@example.org",
        "scopes": ["read"],
        "rate_limit_per_hour": 1000,
        "expires_on": date(2027, 6, 1),
        "status": "active",
    }
    fields.update(changes)
    return ApiKey(**fields)


def test_the_right_key_is_accepted_with_its_scopes() -> None:
    result = check(key(), GOOD, TODAY)
    assert (result.ok, result.status_code, result.reason) == (True, 200, "active")
    assert result.key is not None and result.key.scopes == ["read"]


@pytest.mark.parametrize(
    "presented",
    [api_key("another-secret", KEY_ID), api_key(SECRET, "fedcba9876543210"), "rdk_x_y", ""],
)
def test_a_key_not_made_with_our_secret_for_this_id_is_401(presented: str) -> None:
    result = check(key(), presented, TODAY)
    assert (result.ok, result.status_code, result.key) == (False, 401, None)


def test_an_unknown_key_is_401() -> None:
    result = check(None, GOOD, TODAY)
    assert (result.ok, result.status_code, result.reason) == (False, 401, "unknown API key")


def test_a_revoked_key_is_403_with_the_reason() -> None:
    result = check(key(status="revoked", status_reason="terms breached"), GOOD, TODAY)
    assert (result.ok, result.status_code) == (False, 403)
    assert "revoked" in result.reason and "terms breached" in result.reason


@pytest.mark.parametrize(
    ("today", "status_code"),
    [(date(2026, 6, 9), 403), (date(2026, 6, 10), 403), (date(2026, 6, 11), 200)],
    ids=["before", "on the date", "after"],
)
def test_a_suspended_key_is_refused_until_and_on_its_date_then_works(
    today: date, status_code: int
) -> None:
    suspended = key(status="suspended", suspended_until=date(2026, 6, 10), status_reason="abuse")
    result = check(suspended, GOOD, today)
    assert result.status_code == status_code
    assert result.ok is (status_code == 200)
    if status_code == 403:
        assert "suspended until 2026-06-10" in result.reason


def test_an_expired_key_is_403_but_works_on_its_last_day() -> None:
    expiring = key(expires_on=date(2026, 6, 1))
    assert check(expiring, GOOD, date(2026, 6, 1)).status_code == 200
    result = check(expiring, GOOD, date(2026, 6, 2))
    assert (result.ok, result.status_code) == (False, 403)
    assert "expired on 2026-06-01" in result.reason
