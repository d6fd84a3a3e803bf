"""Staff decisions and API-key routes. Each route decodes, calls one review core function,
and maps the domain's refusals to HTTP: 404 unknown, 403 role, 409 state, 422 invalid."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Response, status
from pydantic import BaseModel, Field

from services.review import api_keys
from services.review.decisions import (
    DecisionIn,
    DecisionInvalid,
    RequestNotFound,
    RoleForbidden,
    TransitionForbidden,
    decide,
)
from shared.db.tables import StaffMember
from shared.runtime import Resources


class Accepted(BaseModel):
    event_ids: list[str]
    event_id: str | None


class SuspendIn(BaseModel):
    reason: str = Field(min_length=3)
    until: date


class RevokeIn(BaseModel):
    reason: str = Field(min_length=3)


def review_router(resources: Resources, staff: Callable[..., Awaitable[StaffMember]]) -> APIRouter:
    router = APIRouter()
    Staff = Annotated[StaffMember, Depends(staff)]

    @router.post(
        "/v1/requests/{ref}/decisions",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=Accepted,
        responses={403: {}, 404: {}, 409: {}, 422: {}},
    )
    async def post_decision(
        ref: str, member: Staff, body: Annotated[DecisionIn, Body()]
    ) -> Accepted:
        try:
            async with resources.new_uow() as uow:
                envelopes = await decide(
                    uow, resources.policies, resources.settings.secret_key, ref, member, body
                )
        except RequestNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no request {exc}") from exc
        except RoleForbidden as exc:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
        except TransitionForbidden as exc:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                {"message": str(exc), "state": exc.state.value, "allowed_decisions": exc.allowed},
            ) from exc
        except DecisionInvalid as exc:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                [{"loc": ["body", *exc.field.split(".")], "msg": str(exc), "type": "value_error"}],
            ) from exc
        ids = [str(e.event_id) for e in envelopes]
        return Accepted(event_ids=ids, event_id=ids[0] if ids else None)

    @router.post("/v1/api-keys/{key_id}/suspend", status_code=status.HTTP_202_ACCEPTED)
    async def suspend_key(key_id: str, member: Staff, body: SuspendIn) -> dict[str, str]:
        return await _key_change(api_keys.suspend, key_id, member, body.reason, body.until)

    @router.post("/v1/api-keys/{key_id}/revoke", status_code=status.HTTP_202_ACCEPTED)
    async def revoke_key(key_id: str, member: Staff, body: RevokeIn) -> dict[str, str]:
        return await _key_change(api_keys.revoke, key_id, member, body.reason)

    async def _key_change(
        change: Callable[..., Awaitable[None]], key_id: str, member: StaffMember, *args: Any
    ) -> dict[str, str]:
        try:
            async with resources.new_uow() as uow:
                await change(uow, key_id, member, *args)
        except api_keys.KeyRoleForbidden as exc:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
        except api_keys.KeyNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no API key {exc}") from exc
        except api_keys.KeyStateInvalid as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        return {"key_id": key_id, "status": "changed"}

    @router.get("/v1/api-keys/verify")
    async def verify_key(
        response: Response, x_api_key: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """For an API gateway: the key's scopes and limits, or why not (401/403)."""
        if not x_api_key:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "send the key in the X-API-Key header"
            )
        async with resources.new_uow() as uow:
            result = await api_keys.verify(uow, x_api_key, resources.policies)
        if not result.ok or result.key is None:
            raise HTTPException(result.status_code, result.reason)
        key = result.key
        return {
            "key_id": key.id,
            "scopes": key.scopes,
            "rate_limit_per_hour": key.rate_limit_per_hour,
            "expires_on": key.expires_on,
            "jurisdiction": key.jurisdiction,
        }

    return router
