"""Who hears about each event, and which facts their mail carries."""

from datetime import date
from pathlib import Path

import pytest

from services.notify.composer import Outgoing
from services.notify.plans import TEMPLATES, Situation, plan
from services.notify.samples import envelope_for, sample_events, sample_request
from shared.events import (
    ApiKeyIssued,
    AttachmentTooLarge,
    Closed,
    DeadlinesSet,
    Escalated,
    Event,
    Released,
    ReminderDue,
    Withheld,
)
from shared.policy import Policy, PolicyBook
from shared.signing import api_key

POLICIES = PolicyBook.load(Path(__file__).parents[3] / "shared" / "policies")
WORCESTER: Policy = POLICIES["worcester-ma"]
CARY: Policy = POLICIES["cary-nc"]


def situation(policy: Policy, event: Event, **data: object) -> Situation:
    request = sample_request(policy)
    return Situation(
        envelope=envelope_for(event, policy.id, request.ref, data=dict(data)),
        request=request,
        policy=policy,
        status_url="https://records.example/v1/status/tok",
        staff_url=f"https://records.example/v1/requests/{request.ref}",
        api_key_for=lambda key_id: api_key("secret", key_id),
    )


def planned(policy: Policy, event: Event, **data: object) -> list[Outgoing]:
    return plan(situation(policy, event, **data))


def sample(policy: Policy, kind: type[Event], **where: object) -> Event:
    return next(
        e
        for e, _ in sample_events(policy)
        if isinstance(e, kind) and all(getattr(e, k) == v for k, v in where.items())
    )


@pytest.mark.parametrize("policy", [WORCESTER, CARY], ids=lambda p: p.id)
def test_every_template_is_planned_by_some_event_for_every_jurisdiction(policy: Policy) -> None:
    templates = {
        o.template for e, extra in sample_events(policy) for o in planned(policy, e, **extra)
    }
    assert templates == set(TEMPLATES)


def test_receipt_goes_to_the_requester_only_when_the_request_is_filed() -> None:
    filed = sample(WORCESTER, DeadlinesSet)
    [receipt] = planned(WORCESTER, filed)
    assert (receipt.template, receipt.recipient, receipt.audience) == (
        "receipt",
        "ann@example.org",
        "requester",
    )
    assert receipt.context["response_due"] == "Tuesday, December 8, 2026"
    assert {"label": "Format", "value": "CSV"} in receipt.context["understood"]
    moved = DeadlinesSet.model_validate({**filed.model_dump(), "reason": "clarified"})
    assert planned(WORCESTER, moved) == []


def test_withheld_mail_names_the_exemption_in_the_policys_own_words() -> None:
    event = Withheld(
        exemption_code="26c",
        citation="26c",
        explanation="personnel and medical files or information, and other material whose "
        "disclosure may constitute an unwarranted invasion of personal privacy. Names of minors.",
        appeal_route="Supervisor of Records",
        appeal_deadline=date(2027, 2, 21),
    )
    [mail] = planned(WORCESTER, event)
    assert mail.context["citation"] == "M.G.L. c.4 §7(26)(c)"
    assert mail.context["exemption_words"].startswith("personnel and medical files")
    assert mail.context["explanation"] == "Names of minors."
    assert mail.context["appeal_deadline"] == "Sunday, February 21, 2027"


def test_partial_release_explains_each_withheld_part_and_the_appeal_route() -> None:
    event = Released(
        links=["https://data.example/a.csv"],
        partial=True,
        withheld_parts=[{"description": "Badge numbers", "exemption_code": "132-1.4"}],
    )
    [mail] = planned(CARY, event)
    assert mail.template == "partially_released"
    [part] = mail.context["withheld_parts"]
    assert part["citation"] == "N.C.G.S. 132-1.4"
    assert "criminal investigations" in part["words"]
    assert mail.context["appeal"]["to"] == CARY.appeal.to


def test_release_lists_attachments_a_newer_producer_sends() -> None:
    [mail] = planned(
        WORCESTER, Released(links=[]), attachments=[{"filename": "trees.csv"}, "b.pdf"]
    )
    assert mail.template == "released"
    assert mail.context["attachments"] == ["trees.csv", "b.pdf"]


def test_api_key_mail_carries_the_derived_key_once_with_its_terms() -> None:
    event = sample(CARY, ApiKeyIssued)
    [mail] = planned(CARY, event)
    assert mail.context["api_key"] == api_key("secret", event.key_id)  # type: ignore[attr-defined]
    assert mail.context["scopes"] == ["read", "bulk"]
    assert mail.context["rate_limit"] == "5,000"


def test_escalation_tells_each_person_on_the_list_once_with_a_link_to_the_staff_view() -> None:
    event = Escalated(
        clock="response",
        level=2,
        title="City Clerk",
        notify=[
            "clerk@worcester-ma.example",
            "Clerk@worcester-ma.example",
            "amy@worcester-ma.example",
        ],
        reason="no response",
        business_days_late=3,
    )
    mails = planned(WORCESTER, event)
    assert [m.recipient for m in mails] == [
        "clerk@worcester-ma.example",
        "amy@worcester-ma.example",
    ]
    assert all(m.audience == "staff" and m.template == "escalation" for m in mails)
    assert mails[0].context["days_late"] == "3 business days"
    assert mails[0].context["staff_url"].endswith("/v1/requests/WOR-2026-000001")
    assert mails[0].context["due"] == "Tuesday, December 8, 2026"


@pytest.mark.parametrize(
    ("audience", "template", "kind"),
    [("requester", "reminder_requester", "requester"), ("assignee", "reminder_staff", "staff")],
)
def test_reminders_go_to_their_recipients(audience: str, template: str, kind: str) -> None:
    event = ReminderDue(
        clock="cost_acceptance",
        audience=audience,  # type: ignore[arg-type]
        recipients=["x@example.org"],
        due_on=date(2026, 12, 18),
    )
    [mail] = planned(WORCESTER, event)
    assert (mail.template, mail.recipient, mail.audience) == (template, "x@example.org", kind)


def test_oversized_attachment_tells_the_requester_and_alerts_the_policys_staff() -> None:
    mails = planned(
        CARY, AttachmentTooLarge(filename="a.tif", size_bytes=30_000_000, limit_bytes=25_000_000)
    )
    assert [(m.template, m.recipient) for m in mails] == [
        ("attachment_too_large", "ann@example.org"),
        ("attachment_too_large_staff", "clerk@cary-nc.example"),
    ]
    assert mails[0].context["size"] == "30 MB" and mails[0].context["limit"] == "25 MB"


def test_closure_gives_the_reason_in_words() -> None:
    [mail] = planned(WORCESTER, Closed(reason="cost_declined"))
    assert mail.context["reason"] == "you declined the cost estimate"


def test_subject_names_the_request_and_the_event() -> None:
    [mail] = planned(WORCESTER, Closed(reason="withdrawn"))
    assert mail.subject == "Your request is closed: Street tree inventory"


def test_an_event_nobody_hears_about_plans_nothing() -> None:
    from shared.events import RequestAcknowledged

    assert planned(WORCESTER, RequestAcknowledged()) == []


def test_requester_name_is_used_only_for_the_requesters_own_address() -> None:
    s = situation(
        WORCESTER,
        ReminderDue(
            clock="clarification",
            audience="requester",
            recipients=["ANN@example.org", "other@example.org"],
            due_on=date(2026, 12, 18),
        ),
    )
    names = [m.recipient_name for m in plan(s)]
    assert names == ["Ann Lee", ""]


def test_receipt_shows_what_was_understood_in_words_but_not_intakes_notes_for_staff() -> None:
    s = situation(WORCESTER, sample(WORCESTER, DeadlinesSet))
    s.request.extracted = {
        "kind": {"value": "api_access", "source_text": "API access"},
        "time_range": {"value": "2020-01-01/2024-12-31", "source_text": "2020-2024"},
        "frequency": "daily",
    }
    [receipt] = plan(s)
    assert receipt.context["understood"] == [
        {"label": "Time period", "value": "January 1, 2020 to December 31, 2024"},
        {"label": "How often", "value": "daily"},
    ]
