"""The hourly cap on new requests by mail from one sender."""

from datetime import UTC, datetime, timedelta

from services.intake.mail_checks.sender_limit import SenderLimit


def test_the_cap_is_reached_at_the_limit_and_the_window_is_one_hour() -> None:
    limit = SenderLimit(per_hour=3)
    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert limit.window_start(now) == now - timedelta(hours=1)
    assert not limit.reached(2)
    assert limit.reached(3)
    assert "limit 3" in limit.reason(3)
