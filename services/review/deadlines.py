"""The clocks a new request starts. Pure: policy and instants in, derivations out."""

from datetime import datetime

from shared.calendar import DeadlineDerivation, derive_deadline
from shared.policy import Policy


def initial_deadlines(
    policy: Policy, received_at: datetime
) -> tuple[DeadlineDerivation, DeadlineDerivation]:
    """(acknowledgment, response) for a request received at `received_at`."""
    calendar = policy.calendar
    return (
        derive_deadline(
            calendar, "acknowledgment", received_at, policy.acknowledgment.business_days
        ),
        derive_deadline(calendar, "response", received_at, policy.response.business_days),
    )
