"""Automatic triage prices a request from the policy's typical work for its kind."""

import shutil
from pathlib import Path

import pytest

from shared.clock import FixedClock
from tests.harness import running
from tests.integration.review.conftest import MONDAY, Desk

pytestmark = pytest.mark.integration

POLICIES = Path(__file__).parents[3] / "shared" / "policies"


async def test_typical_extract_within_free_hours_is_noted_but_no_estimate_is_sent(desk) -> None:  # type: ignore[no-untyped-def]
    ref = await desk.file(kind="extract", text_="A custom extract of 311 calls joined to parcels")
    assert await desk.events(ref, "CostEstimated") == []
    row = await desk.row(ref)
    assert row.state == "filed"
    assert row.triage["estimate"]["total"] == "0.00"
    assert "first 2 hours free" in row.triage["estimate"]["waived"]


async def test_kind_whose_typical_work_is_over_the_free_hours_gets_an_itemized_estimate(
    settings, clean, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    for path in POLICIES.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    worcester = tmp_path / "worcester-ma.yaml"
    worcester.write_text(worcester.read_text().replace('search_hours: "2"', 'search_hours: "4"'))
    clock = FixedClock(MONDAY)
    async with running(
        settings.model_copy(update={"policy_dir": tmp_path}), ["review"], clock
    ) as resources:
        desk = Desk(resources, clock, None, {})  # type: ignore[arg-type]
        ref = await desk.file(
            kind="extract", text_="A custom extract of 311 calls joined to parcels"
        )
        [estimate] = await desk.events(ref, "CostEstimated")
        assert estimate.data["total"] == "50.00"  # 4 hours, 2 free, $25/hour
        [line] = estimate.data["lines"]
        assert (line["description"], line["quantity"], line["unit_price"]) == (
            "staff time",
            "2",
            "25.00",
        )
        assert estimate.actor["kind"] == "system"
        assert (await desk.row(ref)).state == "awaiting_cost_acceptance"
