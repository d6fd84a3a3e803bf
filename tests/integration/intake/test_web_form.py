"""POST /v1/requests over real HTTP: validation, idempotency, rate limits, what was read."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.intake.catalog import import_catalog
from shared.clock import FixedClock
from shared.runtime import Resources
from tests.conftest import eventually, free_port
from tests.harness import running

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 14, 20, tzinfo=UTC)  # 40 minutes before the hourly window ends
CATALOGS = Path(__file__).parents[2] / "fixtures" / "catalog"
FORM = {
    "jurisdiction": "worcester-ma",
    "email": "Dana@Example.org",
    "name": "Dana Smith",
    "subject": "Building permits 2025",
    "description": "All building permits issued in 2025 with permit number, address and"
    " valuation, as CSV, for a research project.",
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def api(settings, clean, clock) -> AsyncIterator[tuple[httpx.AsyncClient, Resources]]:  # type: ignore[no-untyped-def]
    async with (
        running(settings, ["api"], clock) as resources,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}", timeout=30) as client,
    ):
        await eventually(lambda: _up(client), what="the HTTP API")
        yield client, resources


async def _up(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/healthz")).status_code == 200
    except httpx.TransportError:
        return False


async def scalar(resources: Resources, sql: str) -> Any:
    async with resources.new_uow() as uow:
        return (await uow.session.execute(text(sql))).scalar_one()


async def test_a_web_request_is_filed_with_what_was_read_from_it(api) -> None:  # type: ignore[no-untyped-def]
    client, resources = api
    await import_catalog(
        resources.new_uow, "worcester-ma", str(CATALOGS / "worcester-ma.data.json")
    )

    answer = await client.post("/v1/requests", json=FORM)

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["reference"] == "WOR-2026-000001"
    assert body["kind"] == "extract"
    assert body["missing_fields"] == []
    assert body["status_url"].endswith(f"/v1/status/{body['status_token']}")
    status = await client.get(f"/v1/status/{body['status_token']}")
    assert status.json()["reference"] == "WOR-2026-000001"

    filed = await scalar(resources, "SELECT data FROM events WHERE type = 'RequestFiled'")
    assert filed["requester_email"] == "dana@example.org"
    assert filed["extracted"]["format"] == {"value": "CSV", "source_text": "as CSV"}
    assert filed["extracted"]["time_range"]["value"] == "2025-01-01/2025-12-31"
    assert filed["extracted"]["fields"]["value"] == "permit number, address, valuation"
    best = filed["catalog_matches"][0]
    assert best["title"] == "Building Permits"
    assert best["score"] >= 0.9
    assert best["matched_text"] == "building permits"


async def test_a_request_missing_what_the_jurisdiction_requires_says_so(api) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    answer = await client.post(
        "/v1/requests",
        json={**FORM, "jurisdiction": "cary-nc", "description": "All of them, please."},
    )
    assert answer.status_code == 201
    assert answer.json()["missing_fields"] == ["format"]  # Cary asks for dataset and format


async def test_a_double_submit_with_one_idempotency_key_files_once(api) -> None:  # type: ignore[no-untyped-def]
    client, resources = api
    headers = {"Idempotency-Key": "form-7f3a9c"}

    first, second = await asyncio.gather(
        client.post("/v1/requests", json=FORM, headers=headers),
        client.post("/v1/requests", json=FORM, headers=headers),
    )
    later = await client.post("/v1/requests", json=FORM, headers=headers)

    assert first.status_code == second.status_code == later.status_code == 201
    assert first.json() == second.json() == later.json()
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in (first, second)) == ["", "true"]
    assert await scalar(resources, "SELECT count(*) FROM requests") == 1
    assert await scalar(resources, "SELECT count(*) FROM events WHERE type = 'RequestFiled'") == 1


async def test_the_same_key_with_a_different_body_is_refused_naming_the_header(api) -> None:  # type: ignore[no-untyped-def]
    client, resources = api
    headers = {"Idempotency-Key": "form-1"}
    assert (await client.post("/v1/requests", json=FORM, headers=headers)).status_code == 201

    answer = await client.post(
        "/v1/requests", json={**FORM, "subject": "Something else"}, headers=headers
    )

    assert answer.status_code == 422
    problem = answer.json()["detail"][0]
    assert problem["loc"] == ["header", "Idempotency-Key"]
    assert "different submission" in problem["msg"]
    assert await scalar(resources, "SELECT count(*) FROM requests") == 1


@pytest.mark.parametrize(
    ("change", "headers", "where"),
    [
        ({"jurisdiction": "springfield-ma"}, {}, ["body", "jurisdiction"]),
        ({"email": "not an address"}, {}, ["body", "email"]),
        ({"email": None}, {}, ["body", "email"]),
        ({"description": ""}, {}, ["body", "description"]),
        ({"subject": "x" * 301}, {}, ["body", "subject"]),
        ({}, {"Idempotency-Key": "k" * 256}, ["header", "Idempotency-Key"]),
    ],
)
async def test_bad_input_gets_422_naming_the_field_and_files_nothing(
    api, change: dict[str, Any], headers: dict[str, str], where: list[str]
) -> None:  # type: ignore[no-untyped-def]
    client, resources = api
    form = {k: v for k, v in {**FORM, **change}.items() if v is not None}
    answer = await client.post("/v1/requests", json=form, headers=headers)
    assert answer.status_code == 422
    assert [p["loc"] for p in answer.json()["detail"]] == [where]
    assert await scalar(resources, "SELECT count(*) FROM requests") == 0


async def test_too_many_requests_from_one_address_get_429_until_the_window_passes(
    settings, api, clock
) -> None:  # type: ignore[no-untyped-def]
    client, resources = api
    limit = settings.web_requests_per_email
    for n in range(limit):
        answer = await client.post("/v1/requests", json={**FORM, "subject": f"Permits {n}"})
        assert answer.status_code == 201

    refused = await client.post("/v1/requests", json={**FORM, "subject": "One more"})

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(40 * 60)
    assert "this email address" in refused.json()["detail"]
    assert await scalar(resources, "SELECT count(*) FROM requests") == limit
    # another requester from the same client is still welcome
    other = await client.post("/v1/requests", json={**FORM, "email": "lee@example.org"})
    assert other.status_code == 201

    clock.advance(timedelta(minutes=40))
    assert (await client.post("/v1/requests", json=FORM)).status_code == 201


async def test_the_per_client_limit_counts_every_address_from_that_client(
    settings, clean, clock
) -> None:  # type: ignore[no-untyped-def]
    settings.web_requests_per_client = 2
    settings.web_trust_forwarded_for = True
    async with (
        running(settings, ["api"], clock),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}") as client,
    ):
        await eventually(lambda: _up(client), what="the HTTP API")

        async def post(n: int, client_ip: str) -> httpx.Response:
            form = {**FORM, "email": f"person{n}@example.org"}
            return await client.post(
                "/v1/requests", json=form, headers={"X-Forwarded-For": f"10.9.9.9, {client_ip}"}
            )

        assert [(await post(n, "192.0.2.10")).status_code for n in range(3)] == [201, 201, 429]
        assert (await post(3, "192.0.2.11")).status_code == 201


async def test_two_api_instances_share_one_count(settings, clean, clock) -> None:  # type: ignore[no-untyped-def]
    settings.web_requests_per_email = 2
    other_settings = settings.model_copy(update={"http_port": free_port()})
    async with (
        running(settings, ["api"], clock),
        running(other_settings, ["api"], clock),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}") as first,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{other_settings.http_port}") as second,
    ):
        await eventually(lambda: _up(first), what="the first API")
        await eventually(lambda: _up(second), what="the second API")
        codes = [
            (await instance.post("/v1/requests", json={**FORM, "subject": f"Ask {n}"})).status_code
            for n, instance in enumerate((first, second, first, second))
        ]
    assert codes == [201, 201, 429, 429]
