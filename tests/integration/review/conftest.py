"""Review against the real database and broker: the API in-process over ASGI, the review
consumer running, and a clock the test moves."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.api.app import create_api
from services.api.auth import add_staff
from services.intake.filing import next_reference
from shared.clock import FixedClock
from shared.db.tables import Request
from shared.events import Actor, RequestFiled
from shared.runtime import Resources
from shared.signing import status_token, token_hash
from tests.conftest import eventually
from tests.harness import running

# Monday 23 November 2026, 10:00 in Worcester and Cary
MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@dataclass
class Desk:
    resources: Resources
    clock: FixedClock
    client: httpx.AsyncClient
    tokens: dict[str, str]

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def decide(self, ref: str, role: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/v1/requests/{ref}/decisions", json=body, headers=self.as_(role)
        )

    async def file(
        self,
        jurisdiction: str = "worcester-ma",
        text_: str = "Street tree inventory as CSV",
        **event: Any,
    ) -> str:
        """A request as intake would file it, with the triage inputs the test chooses."""
        policy = self.resources.policies[jurisdiction]
        async with self.resources.new_uow() as uow:
            received = event.pop("received_at", self.clock.now())
            ref = await next_reference(uow, policy, received)
            now = self.clock.now()
            uow.session.add(
                Request(
                    ref=ref,
                    jurisdiction=jurisdiction,
                    state="filed",
                    channel="web",
                    kind=event.pop("kind", "public_records"),
                    requester_email="resident@example.org",
                    subject=text_,
                    body=text_,
                    received_at=received,
                    status_token_hash=token_hash(status_token("test-secret", ref)),
                    created_at=now,
                    updated_at=now,
                )
            )
            uow.record(
                RequestFiled(
                    channel="web",
                    requester_email="resident@example.org",
                    subject=text_,
                    body=text_,
                    received_at=received,
                    **event,
                ),
                jurisdiction=jurisdiction,
                request_ref=ref,
                actor=Actor(kind="requester", id="resident@example.org"),
            )
            await uow.commit()
        await eventually(lambda: self.row(ref, "deadlines <> '{}'::jsonb"), what=f"{ref} triaged")
        return ref

    async def row(self, ref: str, condition: str = "true") -> Any:
        async with self.resources.new_uow() as uow:
            return (
                await uow.session.execute(
                    text(f"SELECT * FROM requests WHERE ref = :ref AND {condition}"), {"ref": ref}
                )
            ).first()

    async def events(self, ref: str, type_: str | None = None) -> list[Any]:
        async with self.resources.new_uow() as uow:
            rows = (
                await uow.session.execute(
                    text(
                        "SELECT type, data, actor FROM events WHERE request_ref = :ref ORDER BY sequence"
                    ),
                    {"ref": ref},
                )
            ).all()
        return [r for r in rows if type_ is None or r.type == type_]


@pytest.fixture
async def desk(settings, clean) -> AsyncIterator[Desk]:  # type: ignore[no-untyped-def]
    clock = FixedClock(MONDAY)
    async with running(settings, ["review"], clock) as resources:
        tokens = {}
        async with resources.new_uow() as uow:
            for role in ("clerk", "reviewer", "legal", "manager", "admin", "auditor"):
                tokens[role] = await add_staff(uow, f"{role}@city.example", role)
            await uow.commit()
        transport = httpx.ASGITransport(app=create_api(resources))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield Desk(resources, clock, client, tokens)
