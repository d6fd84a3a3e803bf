"""`recordsdesk catalog import` and what filing does with the imported catalog."""

import asyncio
import functools
import json
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text

from services.intake.filing import NewRequest, file_request
from shared.clock import FixedClock
from shared.runtime import Resources, load_resources, open_database

pytestmark = pytest.mark.integration

RECORDSDESK = Path(sys.executable).with_name("recordsdesk")
CATALOGS = Path(__file__).parents[2] / "fixtures" / "catalog"
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


async def recordsdesk(settings, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    process = await asyncio.create_subprocess_exec(
        str(RECORDSDESK),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            "RECORDSDESK_DATABASE_URL": settings.database_url,
            "RECORDSDESK_LOG_LEVEL": "WARNING",
            "PATH": "/usr/bin:/bin",
        },
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


@pytest.fixture
async def resources(settings, clean) -> AsyncIterator[Resources]:  # type: ignore[no-untyped-def]
    async with open_database(settings) as (engine, _):
        yield load_resources(settings, engine, FixedClock(NOW))


async def titles(resources: Resources, jurisdiction: str) -> list[str]:
    async with resources.new_uow() as uow:
        result = await uow.session.execute(
            text("SELECT title FROM catalog_datasets WHERE jurisdiction = :j ORDER BY title"),
            {"j": jurisdiction},
        )
        return list(result.scalars())


@pytest.fixture
def catalog_site() -> Iterator[str]:
    """The fixture catalogs served over HTTP on loopback, as a portal serves data.json."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(CATALOGS))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_import_loads_a_catalog_file_and_a_reimport_replaces_only_that_jurisdiction(
    settings, resources, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    for jurisdiction in ("worcester-ma", "cary-nc"):
        code, out, err = await recordsdesk(
            settings,
            "catalog",
            "import",
            str(CATALOGS / f"{jurisdiction}.data.json"),
            "--jurisdiction",
            jurisdiction,
        )
        assert code == 0, err
    assert "cary-nc: imported 9 dataset(s), replacing 0; 1 not public, 0 skipped" in out
    assert len(await titles(resources, "worcester-ma")) == 10

    smaller = tmp_path / "data.json"
    smaller.write_text(
        json.dumps({"dataset": [{"identifier": "p", "title": "Parcels"}, {"identifier": "bad"}]})
    )
    code, out, err = await recordsdesk(
        settings, "catalog", "import", str(smaller), "--jurisdiction", "worcester-ma"
    )

    assert code == 0, err
    assert "imported 1 dataset(s), replacing 10" in out
    assert "skipped dataset[1]: title: Field required" in err
    assert await titles(resources, "worcester-ma") == ["Parcels"]
    assert len(await titles(resources, "cary-nc")) == 9


async def test_import_fetches_a_catalog_url(settings, resources, catalog_site) -> None:  # type: ignore[no-untyped-def]
    code, _, err = await recordsdesk(
        settings,
        "catalog",
        "import",
        f"{catalog_site}/cary-nc.data.json",
        "--jurisdiction",
        "cary-nc",
    )
    assert code == 0, err
    assert "Greenways and Trails" in await titles(resources, "cary-nc")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("not-there.json", "cannot read not-there.json"),
        ("{site}/missing.json", "HTTP 404"),
        ("{broken}", "not JSON"),
    ],
)
async def test_a_catalog_that_cannot_be_read_changes_nothing(
    settings, resources, catalog_site, tmp_path, source: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    code, _, err = await recordsdesk(
        settings,
        "catalog",
        "import",
        str(CATALOGS / "worcester-ma.data.json"),
        "--jurisdiction",
        "worcester-ma",
    )
    assert code == 0, err
    broken = tmp_path / "broken.json"
    broken.write_text("<html>Service Unavailable</html>")

    code, _, err = await recordsdesk(
        settings,
        "catalog",
        "import",
        source.format(site=catalog_site, broken=broken),
        "--jurisdiction",
        "worcester-ma",
    )

    assert code == 1
    assert "catalog not imported, nothing changed" in err
    assert message in err
    assert len(await titles(resources, "worcester-ma")) == 10


async def test_an_unknown_jurisdiction_is_refused_by_name(settings, resources) -> None:  # type: ignore[no-untyped-def]
    code, _, err = await recordsdesk(
        settings,
        "catalog",
        "import",
        str(CATALOGS / "cary-nc.data.json"),
        "--jurisdiction",
        "raleigh-nc",
    )
    assert code == 2
    assert "--jurisdiction" in err and "unknown jurisdiction" in err


async def file(resources: Resources, email: str, subject: str, body: str, at: datetime) -> str:
    async with resources.new_uow() as uow:
        filed = await file_request(
            uow,
            resources.policies["cary-nc"],
            NewRequest("mail", email, "", subject, body, at),
            resources.settings.secret_key,
        )
        await uow.commit()
    return filed.ref


async def filed_event(resources: Resources, ref: str) -> dict:  # type: ignore[type-arg]
    async with resources.new_uow() as uow:
        result = await uow.session.execute(
            text("SELECT data FROM events WHERE type = 'RequestFiled' AND request_ref = :ref"),
            {"ref": ref},
        )
        return dict(result.scalar_one())


async def test_request_filed_carries_catalog_matches_and_the_requesters_look_alike_asks(
    settings, resources
) -> None:  # type: ignore[no-untyped-def]
    code, _, err = await recordsdesk(
        settings,
        "catalog",
        "import",
        str(CATALOGS / "cary-nc.data.json"),
        "--jurisdiction",
        "cary-nc",
    )
    assert code == 0, err
    ask = "Please send me all building permits issued in 2025 as CSV."
    first = await file(resources, "bob@example.org", "Building permits 2025", ask, NOW)
    other_year = await file(
        resources, "bob@example.org", "Building permits 2024", ask.replace("2025", "2024"), NOW
    )
    someone_else = await file(resources, "eve@example.org", "Building permits 2025", ask, NOW)
    again = await file(
        resources,
        "bob@example.org",
        "Permits",
        "Hi again, could I get the building permits for 2025? CSV is best.",
        NOW + timedelta(days=1),
    )

    event = await filed_event(resources, again)
    best = event["catalog_matches"][0]
    assert best["title"] == "Building Permit Applications"
    assert best["score"] >= resources.policies["cary-nc"].catalog.match_threshold
    assert best["matched_text"] == "building permits"
    assert best["url"].startswith("https://data.townofcary.org/")
    # the same ask from the same person, still open; not another year's, not someone else's
    assert event["possible_duplicates"] == [first]
    assert other_year not in event["possible_duplicates"]
    assert someone_else not in event["possible_duplicates"]
    assert (await filed_event(resources, first))["possible_duplicates"] == []


async def test_a_finished_request_is_not_a_duplicate(settings, resources) -> None:  # type: ignore[no-untyped-def]
    ask = "Please send me all building permits issued in 2025 as CSV."
    first = await file(resources, "bob@example.org", "Building permits 2025", ask, NOW)
    async with resources.new_uow() as uow:
        await uow.session.execute(
            text("UPDATE requests SET state = 'released' WHERE ref = :ref"), {"ref": first}
        )
        await uow.commit()
    again = await file(resources, "bob@example.org", "Building permits 2025", ask, NOW)
    assert (await filed_event(resources, again))["possible_duplicates"] == []
