"""Who hears about which event, with which template and which facts. Pure: no I/O.

One plan per event type (looked up by type in PLANS). A plan reads the event, the request
row and the jurisdiction's policy and returns the emails to send; it never sends, and it
reads payload fields a newer producer may add (e.g. release attachments) defensively.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.notify import wording
from services.notify.composer import Outgoing
from shared.db.tables import Request
from shared.events import (
    ApiKeyIssued,
    ApiKeyRevoked,
    ApiKeySuspended,
    Appealed,
    AttachmentTooLarge,
    ClarificationNeeded,
    Closed,
    CostEstimated,
    DeadlineExtended,
    DeadlinesSet,
    Envelope,
    Escalated,
    Event,
    Released,
    ReminderDue,
    Withheld,
)
from shared.policy import Policy


@dataclass(frozen=True)
class Situation:
    """What every plan may read: the event's envelope, its request and the policy."""

    envelope: Envelope
    request: Request
    policy: Policy
    status_url: str
    staff_url: str
    api_key_for: Callable[[str], str]  # key id -> the key, derived; never stored


Plan = Callable[[Situation, Any], list[Outgoing]]


def base_context(s: Situation) -> dict[str, Any]:
    request, policy = s.request, s.policy
    return {
        "policy": policy,
        "ref": request.ref,
        "subject": request.subject,
        "requester_name": request.requester_name,
        "requester_email": request.requester_email,
        "kind": wording.kind(request.kind),
        "received_local": wording.long_time(policy.calendar.local(request.received_at)),
        "status_url": s.status_url,
        "staff_url": s.staff_url,
    }


def _to_requester(s: Situation, template: str, subject: str, **facts: Any) -> list[Outgoing]:
    return [
        Outgoing(
            template=template,
            recipient=s.request.requester_email,
            recipient_name=s.request.requester_name,
            subject=f"{subject}: {s.request.subject}",
            context={**base_context(s), **facts},
            audience="requester",
        )
    ]


def _to_staff(
    s: Situation, template: str, recipients: list[str], subject: str, **facts: Any
) -> list[Outgoing]:
    seen: set[str] = set()
    out = []
    for address in recipients:
        if not address or address.lower() in seen:
            continue
        seen.add(address.lower())
        out.append(
            Outgoing(
                template=template,
                recipient=address,
                recipient_name="",
                subject=subject,
                context={**base_context(s), **facts},
                audience="staff",
            )
        )
    return out


# intake's notes for staff (e.g. why it read the ask as API access), not facts to confirm
NOT_SHOWN = frozenset({"kind"})


def understood(extracted: Mapping[str, Any]) -> list[dict[str, str]]:
    """What intake understood of the ask, as label/value rows (values may be plain strings
    or {value, source_text} records)."""
    rows = []
    for name, found in extracted.items():
        value = found.get("value") if isinstance(found, Mapping) else found
        if name in NOT_SHOWN or value in (None, ""):
            continue
        rows.append(
            {"label": wording.field_label(name), "value": wording.dates_in_words(str(value))}
        )
    return rows


def receipt(s: Situation, event: DeadlinesSet) -> list[Outgoing]:
    if event.reason != "filed":
        return []  # later moves of the clocks are told by their own events
    return _to_requester(
        s,
        "receipt",
        "We received your request",
        understood=understood(s.request.extracted or {}),
        ack_due=wording.long_date(event.acknowledgment.due_on),
        response_due=wording.long_date(event.response.due_on),
        response_explained=event.response.explain(),
    )


def clarification(s: Situation, event: ClarificationNeeded) -> list[Outgoing]:
    return _to_requester(
        s,
        "clarification",
        "A question about your request",
        questions=list(event.questions),
        clock_pauses=s.policy.clarification.clock == "pause",
        abandon_after=wording.business_days(s.policy.clarification.abandon_after_business_days),
    )


def cost_estimate(s: Situation, event: CostEstimated) -> list[Outgoing]:
    lines = [
        {
            "description": line.description,
            "quantity": wording.quantity(line.quantity),
            "unit": line.unit,
            "unit_price": wording.money(line.unit_price),
            "amount": wording.money(line.amount),
        }
        for line in event.lines
    ]
    return _to_requester(
        s,
        "cost_estimate",
        "Cost estimate for your request",
        lines=lines,
        total=wording.money(event.total),
        respond_by=wording.long_date(event.respond_by),
        fee_citation=s.policy.fees.citation,
    )


def _attachments(data: Mapping[str, Any]) -> list[str]:
    """Names of attached files, if the producer lists them (strings or {filename: ...})."""
    names = []
    for item in data.get("attachments") or []:
        name = item.get("filename") or item.get("name") if isinstance(item, Mapping) else item
        if name:
            names.append(str(name))
    return names


def _withheld_part(policy: Policy, part: Mapping[str, Any]) -> dict[str, str]:
    code = str(part.get("exemption_code", ""))
    exemption = policy.exemption(code)
    return {
        "description": str(part.get("description", "")),
        "citation": exemption.citation if exemption else str(part.get("citation", code)),
        "words": exemption.text if exemption else str(part.get("text", "")),
    }


def _appeal(s: Situation) -> dict[str, str]:
    appeal = s.policy.appeal
    by = s.request.appeal_deadline
    return {
        "to": appeal.to,
        "instructions": appeal.instructions,
        "citation": appeal.citation,
        "deadline": wording.long_date(by)
        if by
        else f"within {appeal.within_days} {appeal.day_kind} days of this notice",
    }


def released(s: Situation, event: Released) -> list[Outgoing]:
    facts: dict[str, Any] = {
        "links": list(event.links),
        "attachments": _attachments(s.envelope.data),
        "redactions": list(event.redactions),
    }
    if event.partial or event.withheld_parts:
        return _to_requester(
            s,
            "partially_released",
            "Part of your request is released",
            withheld_parts=[_withheld_part(s.policy, p) for p in event.withheld_parts],
            appeal=_appeal(s),
            **facts,
        )
    return _to_requester(s, "released", "Your request is answered", **facts)


def withheld(s: Situation, event: Withheld) -> list[Outgoing]:
    exemption = s.policy.exemption(event.exemption_code)
    words = exemption.text if exemption else ""
    # review writes "<exemption text>. <staff's reason>"; the text is shown on its own line
    reason = event.explanation.removeprefix(f"{words}. ") if words else event.explanation
    return _to_requester(
        s,
        "withheld",
        "Decision on your request",
        citation=exemption.citation if exemption else event.citation,
        exemption_words=words,
        explanation=reason,
        appeal_route=event.appeal_route,
        appeal_deadline=wording.long_date(event.appeal_deadline),
    )


def deadline_extended(s: Situation, event: DeadlineExtended) -> list[Outgoing]:
    return _to_requester(
        s,
        "deadline_extended",
        "New response date for your request",
        added=wording.business_days(event.business_days),
        new_due=wording.long_date(event.new_due_on),
        reason=event.reason,
        citation=s.policy.extensions.citation,
    )


def closed(s: Situation, event: Closed) -> list[Outgoing]:
    return _to_requester(
        s,
        "closed",
        "Your request is closed",
        reason=wording.close_reason(event.reason),
        note=event.note,
        linked_ref=s.request.linked_ref or "",
        reopen_days=s.policy.reopen_within_days,
    )


def _appeal_subject(late: bool) -> str:
    return (
        "Late appeal filed (after the deadline)"
        if late
        else "Appeal filed: review the decision again"
    )


def appeal_received(s: Situation, event: Appealed) -> list[Outgoing]:
    facts = {"late": event.late, "appeal": _appeal(s), "text": event.text}
    staff = [s.policy.staff_address, s.request.assignee or ""]
    return [
        *_to_requester(s, "appeal_received", "Your appeal", **facts),
        *_to_staff(s, "appeal_received_staff", staff, _appeal_subject(event.late), **facts),
    ]


def api_key_issued(s: Situation, event: ApiKeyIssued) -> list[Outgoing]:
    return _to_requester(
        s,
        "api_key_issued",
        "Your API key",
        key_id=event.key_id,
        api_key=s.api_key_for(event.key_id),
        scopes=list(event.scopes),
        rate_limit=f"{event.rate_limit_per_hour:,}",
        expires=wording.long_date(event.expires_on),
        terms_url=s.policy.api_keys.terms_url,
    )


def api_key_suspended(s: Situation, event: ApiKeySuspended) -> list[Outgoing]:
    return _to_requester(
        s,
        "api_key_suspended",
        "Your API key is suspended",
        key_id=event.key_id,
        reason=event.reason,
        until=wording.long_date(event.until),
    )


def api_key_revoked(s: Situation, event: ApiKeyRevoked) -> list[Outgoing]:
    return _to_requester(
        s, "api_key_revoked", "Your API key is revoked", key_id=event.key_id, reason=event.reason
    )


def escalation(s: Situation, event: Escalated) -> list[Outgoing]:
    request = s.request
    due = request.ack_due_on if event.clock == "acknowledgment" else request.response_due_on
    return _to_staff(
        s,
        "escalation",
        list(event.notify),
        f"Overdue {wording.clock(event.clock)} (level {event.level}, {event.title})"
        f": {request.subject}",
        level=event.level,
        title=event.title,
        clock=wording.clock(event.clock),
        reason=event.reason,
        days_late=wording.business_days(event.business_days_late),
        due=wording.long_date(due) if due else "",
    )


def reminder(s: Situation, event: ReminderDue) -> list[Outgoing]:
    facts = {
        "clock": wording.clock(event.clock),
        "waiting_for": event.clock,
        "due": wording.long_date(event.due_on),
        "note": event.note,
    }
    if event.audience == "requester":
        return [
            Outgoing(
                template="reminder_requester",
                recipient=address,
                recipient_name=s.request.requester_name
                if address.lower() == s.request.requester_email.lower()
                else "",
                subject=f"Reminder: we are waiting for your answer: {s.request.subject}",
                context={**base_context(s), **facts},
                audience="requester",
            )
            for address in dict.fromkeys(event.recipients)
        ]
    return _to_staff(
        s,
        "reminder_staff",
        list(event.recipients),
        f"Reminder: {wording.clock(event.clock)} due {facts['due']}: {s.request.subject}",
        **facts,
    )


def attachment_too_large(s: Situation, event: AttachmentTooLarge) -> list[Outgoing]:
    facts = {
        "filename": event.filename,
        "size": wording.size(event.size_bytes),
        "limit": wording.size(event.limit_bytes),
    }
    return [
        *_to_requester(s, "attachment_too_large", "An attachment was too large", **facts),
        *_to_staff(
            s,
            "attachment_too_large_staff",
            [s.policy.staff_address],
            f"Attachment over the limit on {s.request.subject}",
            **facts,
        ),
    ]


PLANS: dict[type[Event], Plan] = {
    DeadlinesSet: receipt,
    ClarificationNeeded: clarification,
    CostEstimated: cost_estimate,
    Released: released,
    Withheld: withheld,
    DeadlineExtended: deadline_extended,
    Closed: closed,
    Appealed: appeal_received,
    ApiKeyIssued: api_key_issued,
    ApiKeySuspended: api_key_suspended,
    ApiKeyRevoked: api_key_revoked,
    Escalated: escalation,
    ReminderDue: reminder,
    AttachmentTooLarge: attachment_too_large,
}

TEMPLATES = [
    "receipt",
    "clarification",
    "cost_estimate",
    "released",
    "partially_released",
    "withheld",
    "deadline_extended",
    "closed",
    "appeal_received",
    "appeal_received_staff",
    "api_key_issued",
    "api_key_suspended",
    "api_key_revoked",
    "escalation",
    "reminder_requester",
    "reminder_staff",
    "attachment_too_large",
    "attachment_too_large_staff",
]


def plan(s: Situation) -> list[Outgoing]:
    """The emails this event calls for (none for an event nobody hears about)."""
    payload = s.envelope.payload()
    chosen = PLANS.get(type(payload))
    return chosen(s, payload) if chosen else []
