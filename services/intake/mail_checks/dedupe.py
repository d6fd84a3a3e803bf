"""Is this message one we already handled? Pure: no I/O (the caller looks up the earlier copy).

The mail drop already keeps one row per exact bytes and recipient. Here a second delivery
of the same Message-ID is a duplicate when its content (trace headers aside) is the same;
the same Message-ID over different content is never dropped silently: it is quarantined
with the reason, for staff.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class EarlierCopy:
    inbound_mail_id: int
    content_fingerprint: str | None
    sha256: str
    request_ref: str | None


@dataclass(frozen=True)
class Repeat:
    status: str  # duplicate | quarantined
    reason: str
    ref: str | None


def judge_repeat(earlier: EarlierCopy | None, fingerprint: str, sha256: str) -> Repeat | None:
    if earlier is None:
        return None
    same = earlier.sha256 == sha256 or earlier.content_fingerprint == fingerprint
    if same:
        return Repeat(
            "duplicate",
            f"same message delivered again (first as inbound mail {earlier.inbound_mail_id})",
            earlier.request_ref,
        )
    return Repeat(
        "quarantined",
        f"Message-ID seen before with different content (inbound mail {earlier.inbound_mail_id});"
        " held for staff",
        earlier.request_ref,
    )
