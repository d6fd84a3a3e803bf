"""Every staff decision through POST /v1/requests/{ref}/decisions, with its 202, 403, 409
and 422 answers, against the real database and the running review consumer."""

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from shared.events import ClarificationReceived, CostAccepted, CostDeclined
from shared.signing import api_key
from tests.conftest import eventually

pytestmark = pytest.mark.integration


async def test_clerk_acknowledges_and_the_acknowledgment_timer_stops(desk) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()
    answer = await desk.decide(ref, "clerk", decision="acknowledge", note="on it")
    assert answer.status_code == 202, answer.text
    assert answer.json()["event_id"]
    assert (await desk.row(ref)).state == "acknowledged"
    [ack] = await desk.events(ref, "RequestAcknowledged")
    assert ack.actor == {"kind": "staff", "id": "clerk@city.example"}
    async with desk.resources.new_uow() as uow:
        status = (
            await uow.session.execute(
                text("SELECT status FROM timers WHERE kind = 'acknowledgment'")
            )
        ).scalar_one()
    assert status == "cancelled"


async def test_a_transition_the_state_machine_forbids_answers_409_with_state_and_allowed(
    desk,
) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()
    await desk.decide(ref, "clerk", decision="acknowledge")
    again = await desk.decide(ref, "clerk", decision="acknowledge")
    assert again.status_code == 409
    detail = again.json()["detail"]
    assert detail["state"] == "acknowledged"
    assert (
        "release" in detail["allowed_decisions"]
        and "acknowledge" not in detail["allowed_decisions"]
    )
    await desk.decide(ref, "clerk", decision="close", reason="withdrawn")
    closed = await desk.decide(
        ref, "legal", decision="release", links=["https://data.example/x.csv"]
    )
    assert closed.status_code == 409
    assert closed.json()["detail"]["allowed_decisions"] == []


async def test_roles_are_enforced_and_auditors_only_read(desk) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()
    assert (await desk.decide(ref, "auditor", decision="acknowledge")).status_code == 403
    assert (
        await desk.client.get(f"/v1/requests/{ref}", headers=desk.as_("auditor"))
    ).status_code == 200
    assert (
        await desk.decide(
            ref, "clerk", decision="withhold", exemption_code="26c", explanation="privacy"
        )
    ).status_code == 403
    assert (
        await desk.decide(ref, "clerk", decision="release", links=["https://d.example/a"])
    ).status_code == 403
    no_token = await desk.client.post(
        f"/v1/requests/{ref}/decisions", json={"decision": "acknowledge"}
    )
    assert no_token.status_code == 401


async def test_malformed_decisions_answer_422_naming_the_field(desk) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()
    empty = await desk.decide(ref, "clerk", decision="clarify", questions=[])
    assert empty.status_code == 422
    assert any("questions" in e["loc"] for e in empty.json()["detail"])
    unknown = await desk.decide(ref, "clerk", decision="shred")
    assert unknown.status_code == 422
    bad_code = await desk.decide(
        ref, "legal", decision="withhold", exemption_code="99z", explanation="because"
    )
    assert bad_code.status_code == 422
    assert bad_code.json()["detail"][0]["loc"] == ["body", "exemption_code"]
    assert (
        await desk.decide("WOR-2026-999999", "clerk", decision="acknowledge")
    ).status_code == 404


async def test_withholding_cites_the_exemption_and_gives_the_appeal_route_and_deadline(
    desk,
) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()
    answer = await desk.decide(
        ref, "legal", decision="withhold", exemption_code="26c", explanation="Medical files."
    )
    assert answer.status_code == 202, answer.text
    [withheld] = await desk.events(ref, "Withheld")
    assert withheld.data["citation"] == "M.G.L. c.4 §7(26)(c)"
    assert "Supervisor of Records" in withheld.data["appeal_route"]
    assert withheld.data["appeal_deadline"] == str(date(2026, 11, 23) + timedelta(days=90))
    assert (await desk.row(ref)).state == "withheld"


async def test_request_mentioning_sensitive_data_needs_a_legal_decision_to_release(desk) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file(text_="Employee names with date of birth and home address")
    row = await desk.row(ref)
    assert row.legal_review is True
    refused = await desk.decide(
        ref, "reviewer", decision="release", links=["https://d.example/a.csv"]
    )
    assert refused.status_code == 403
    assert "legal" in refused.json()["detail"]
    assert (
        await desk.decide(ref, "legal", decision="release", links=["https://d.example/a.csv"])
    ).status_code == 202


async def test_partial_release_lists_withheld_parts_each_with_its_exemption(desk) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()
    answer = await desk.decide(
        ref,
        "reviewer",
        decision="release",
        links=["https://d.example/trees.csv"],
        redactions=["owner names"],
        withheld_parts=[{"description": "security camera locations", "exemption_code": "26n"}],
    )
    assert answer.status_code == 202, answer.text
    [released] = await desk.events(ref, "Released")
    assert released.data["partial"] is True
    assert released.data["withheld_parts"][0]["citation"] == "M.G.L. c.4 §7(26)(n)"
    row = await desk.row(ref)
    assert row.state == "partially_released"
    assert row.appeal_deadline == date(2026, 11, 23) + timedelta(days=90)


async def test_extension_moves_the_due_date_within_the_policy_limits(desk) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()  # Worcester, Monday 2026-11-23: due Tuesday 2026-12-08
    assert (await desk.row(ref)).response_due_on == date(2026, 12, 8)
    too_long = await desk.decide(
        ref, "clerk", decision="extend", business_days=16, reason="large extract"
    )
    assert too_long.status_code == 422
    ok = await desk.decide(ref, "clerk", decision="extend", business_days=5, reason="large extract")
    assert ok.status_code == 202
    assert (await desk.row(ref)).response_due_on == date(2026, 12, 15)
    [extended] = await desk.events(ref, "DeadlineExtended")
    assert extended.data["new_due_on"] == "2026-12-15"
    second = await desk.decide(ref, "clerk", decision="extend", business_days=1, reason="more")
    assert second.status_code == 422  # Worcester allows one extension
    detail = (await desk.client.get(f"/v1/requests/{ref}", headers=desk.as_("auditor"))).json()
    assert "extended 5 business days" in detail["deadlines"]["response"]["explained"]


async def test_cost_estimate_then_acceptance_moves_on_and_decline_closes(desk) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()
    waived = await desk.decide(ref, "reviewer", decision="estimate", search_hours="2")
    assert waived.status_code == 422  # the first two hours are free in Worcester
    answer = await desk.decide(ref, "reviewer", decision="estimate", pages=100, search_hours="3")
    assert answer.status_code == 202, answer.text
    [estimate] = await desk.events(ref, "CostEstimated")
    assert estimate.data["total"] == "30.00"  # 100 pages at $0.05 + 1 billable hour at $25
    assert (await desk.row(ref)).state == "awaiting_cost_acceptance"
    await _from_requester(desk, ref, CostAccepted(text="yes"))
    await eventually(
        lambda: desk.row(ref, "state = 'in_review'"), what="in review after acceptance"
    )

    other = await desk.file()
    await desk.decide(other, "reviewer", decision="estimate", search_hours="4")
    await _from_requester(desk, other, CostDeclined(text="no thanks"))
    await eventually(lambda: desk.row(other, "state = 'closed'"), what="closed after decline")
    [closed] = await desk.events(other, "Closed")
    assert closed.data["reason"] == "cost_declined"


async def test_clarification_pause_moves_the_response_deadline_by_the_business_days_paused(
    desk,
) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file()  # due Tuesday 2026-12-08
    assert (
        await desk.decide(ref, "clerk", decision="clarify", questions=["Which years?"])
    ).status_code == 202
    assert (await desk.row(ref)).state == "awaiting_clarification"
    desk.clock.advance(timedelta(days=3))  # Thursday 26th (Thanksgiving): answered
    await _from_requester(desk, ref, ClarificationReceived(text="2020 to 2025"))
    row = await eventually(lambda: desk.row(ref, "state = 'in_review'"), what="resumed")
    # paused Mon 23 -> Thu 26: Tue 24 and Wed 25 are business days (Thanksgiving is not)
    assert row.response_due_on == date(2026, 12, 10)
    [_, resumed] = await desk.events(ref, "DeadlinesSet")
    assert resumed.data["reason"] == "clarified"
    assert resumed.data["response"]["pauses"][0]["business_days"] == 2


async def test_missing_required_details_get_specific_questions_and_a_catalog_match_closes_in_cary(
    desk,
) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file("cary-nc", missing_fields=["format"])
    [needed] = await desk.events(ref, "ClarificationNeeded")
    assert any("format" in q for q in needed.data["questions"])
    assert (await desk.row(ref)).state == "awaiting_clarification"

    published = await desk.file(
        "cary-nc",
        catalog_matches=[
            {
                "identifier": "permits",
                "title": "Building Permits",
                "score": 0.92,
                "url": "https://data.cary-nc.example/permits",
                "matched_text": "building permits",
            }
        ],
    )
    [closed] = await desk.events(published, "Closed")
    assert closed.data["reason"] == "already_published"
    assert "https://data.cary-nc.example/permits" in closed.data["note"]


async def test_released_api_access_issues_a_key_a_gateway_can_verify_suspend_and_revoke(
    desk,
) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file("cary-nc", kind="api_access")
    assert (
        await desk.decide(
            ref, "reviewer", decision="release", links=["https://api.cary-nc.example"]
        )
    ).status_code == 202
    [issued] = await desk.events(ref, "ApiKeyIssued")
    key_id = issued.data["key_id"]
    key = api_key("test-secret", key_id)
    async with desk.resources.new_uow() as uow:
        stored = (await uow.session.execute(text("SELECT key_hash FROM api_keys"))).scalar_one()
    assert key not in stored and key_id not in (issued.data.get("key") or "")

    verify = await desk.client.get("/v1/api-keys/verify", headers={"X-API-Key": key})
    assert verify.status_code == 200 and verify.json()["scopes"] == ["read", "bulk"]
    assert (
        await desk.client.get("/v1/api-keys/verify", headers={"X-API-Key": key + "x"})
    ).status_code == 401

    assert (
        await desk.client.post(
            f"/v1/api-keys/{key_id}/suspend",
            json={"reason": "scraping", "until": "2026-12-01"},
            headers=desk.as_("clerk"),
        )
    ).status_code == 403
    suspended = await desk.client.post(
        f"/v1/api-keys/{key_id}/suspend",
        json={"reason": "scraping", "until": "2026-12-01"},
        headers=desk.as_("manager"),
    )
    assert suspended.status_code == 202
    refused = await desk.client.get("/v1/api-keys/verify", headers={"X-API-Key": key})
    assert refused.status_code == 403 and "suspended" in refused.json()["detail"]
    await desk.client.post(
        f"/v1/api-keys/{key_id}/revoke",
        json={"reason": "terms broken"},
        headers=desk.as_("manager"),
    )
    assert (
        "revoked"
        in (await desk.client.get("/v1/api-keys/verify", headers={"X-API-Key": key})).json()[
            "detail"
        ]
    )
    assert [e.type for e in await desk.events(ref) if e.type.startswith("ApiKey")] == [
        "ApiKeyIssued",
        "ApiKeySuspended",
        "ApiKeyRevoked",
    ]


async def _from_requester(desk, ref: str, event) -> None:  # type: ignore[no-untyped-def]
    """What intake records when the requester's reply is matched to the request."""
    async with desk.resources.new_uow() as uow:
        uow.record(event, jurisdiction=(await desk.row(ref)).jurisdiction, request_ref=ref)
        await uow.commit()


async def test_appeal_in_time_reopens_review_and_a_late_one_is_recorded_as_late(desk) -> None:  # type: ignore[no-untyped-def]
    from shared.signing import status_token

    early = await desk.file()
    await desk.decide(
        early, "legal", decision="withhold", exemption_code="26c", explanation="Medical."
    )
    answer = await desk.client.post(
        f"/v1/status/{status_token('test-secret', early)}/appeal",
        json={"text": "26(c) does not apply"},
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["late"] is False
    await eventually(lambda: desk.row(early, "state = 'appealed'"), what="appealed")

    late = await desk.file()
    await desk.decide(
        late, "legal", decision="withhold", exemption_code="26c", explanation="Medical."
    )
    desk.clock.advance(timedelta(days=91))  # Worcester's window is 90 calendar days
    answer = await desk.client.post(
        f"/v1/status/{status_token('test-secret', late)}/appeal", json={"text": "sorry, late"}
    )
    assert answer.json()["late"] is True
    [appealed] = await desk.events(late, "Appealed")
    assert appealed.data["late"] is True
    assert (await desk.row(late)).state == "withheld"

    undecided = await desk.file()
    refused = await desk.client.post(
        f"/v1/status/{status_token('test-secret', undecided)}/appeal", json={"text": "?"}
    )
    assert refused.status_code == 409
