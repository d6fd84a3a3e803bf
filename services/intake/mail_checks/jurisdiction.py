"""Which jurisdiction a message is for. Pure: no I/O.

The envelope recipient (what the MTA or listener saw) wins; then Delivered-To,
X-Original-To, To and Cc in that order. A +tag (signed reply address) is ignored here.
"""

from collections.abc import Sequence

from shared.policy import Policy, PolicyBook


def jurisdiction_for(
    policies: PolicyBook, envelope_recipient: str, recipients: Sequence[str]
) -> Policy | None:
    candidates = [envelope_recipient] if envelope_recipient else []
    candidates += recipients
    return next((p for a in candidates if (p := policies.for_address(a))), None)
