"""FastAPI application factory. Routes decode, call one core function, and return."""

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import col, select

from services.api.auth import staff_for_token
from services.api.review_routes import review_router
from services.intake.appeals import NoSuchRequest, NothingToAppeal, file_appeal
from services.intake.web_form import (
    IdempotencyKeyReused,
    RateLimited,
    WebLimits,
    WebSubmission,
    body_fingerprint,
    submit_web_request,
)
from shared.db.tables import EventRecord, InboundMail, StaffMember
from shared.db.tables import Request as RequestRow
from shared.policy import _address
from shared.request_store import find_request
from shared.runtime import Resources
from shared.signing import token_hash

bearer = HTTPBearer(auto_error=False)


class WebRequestIn(BaseModel):
    jurisdiction: str = Field(description="Policy id, e.g. worcester-ma")
    email: str
    name: str = Field(default="", max_length=200)
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=50_000)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _address(value.strip())


class AppealIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class FiledOut(BaseModel):
    reference: str
    status_token: str
    status_url: str
    kind: str = Field(description="open_data, extract, api_access or public_records, as read")
    missing_fields: list[str] = Field(
        description="What the jurisdiction asks for that the request does not say yet"
    )


def _client_address(request: Request, trust_forwarded_for: bool) -> str:
    """Who is submitting, for the per-client limit: the peer, or behind a trusted reverse
    proxy the last X-Forwarded-For entry (the one that proxy added)."""
    forwarded = request.headers.get("x-forwarded-for", "")
    if trust_forwarded_for and forwarded.strip():
        return forwarded.split(",")[-1].strip()[:320]
    return request.client.host if request.client else "unknown"


class EventOut(BaseModel):
    sequence: int
    event_id: str
    type: str
    occurred_at: datetime
    jurisdiction: str
    request_ref: str | None
    correlation_id: str
    causation_id: str | None
    actor: dict[str, Any]
    data: dict[str, Any]


class EventPage(BaseModel):
    events: list[EventOut]
    next_after: int


def _event_out(row: EventRecord) -> EventOut:
    return EventOut(
        sequence=row.sequence or 0,
        event_id=str(row.event_id),
        type=row.type,
        occurred_at=row.occurred_at,
        jurisdiction=row.jurisdiction,
        request_ref=row.request_ref,
        correlation_id=str(row.correlation_id),
        causation_id=str(row.causation_id) if row.causation_id else None,
        actor=row.actor,
        data=row.data,
    )


def create_api(resources: Resources) -> FastAPI:
    app = FastAPI(title="RecordsDesk", version="0.1.0")
    settings = resources.settings
    registry = CollectorRegistry()
    filed_counter = Counter(
        "recordsdesk_requests_filed",
        "Requests filed over HTTP",
        ["jurisdiction"],
        registry=registry,
    )

    async def staff(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> StaffMember:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a staff bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        async with resources.new_uow() as uow:
            member = await staff_for_token(uow, credentials.credentials)
        if member is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown or inactive token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return member

    Staff = Annotated[StaffMember, Depends(staff)]
    app.include_router(review_router(resources, staff))

    web_limits = WebLimits(
        window_seconds=settings.web_rate_window_seconds,
        per_email=settings.web_requests_per_email,
        per_client=settings.web_requests_per_client,
        key_lifetime=timedelta(hours=settings.idempotency_key_hours),
    )

    @app.post(
        "/v1/requests",
        status_code=status.HTTP_201_CREATED,
        response_model=FiledOut,
        responses={
            422: {
                "description": "A field is missing or wrong, or the Idempotency-Key was used"
                " for a different submission; the detail names it"
            },
            429: {"description": "Too many requests from this address or client; see Retry-After"},
        },
    )
    async def post_request(
        body: WebRequestIn,
        request: Request,
        response: Response,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                pattern=r"^[\x21-\x7e]{1,255}$",
                description="Any unique value per submission; a repeat files nothing new",
            ),
        ] = None,
    ) -> FiledOut:
        policy = resources.policies.get(body.jurisdiction)
        if policy is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                [
                    {
                        "loc": ["body", "jurisdiction"],
                        "msg": f"unknown jurisdiction; one of {resources.policies.ids}",
                        "type": "value_error",
                    }
                ],
            )
        submission = WebSubmission(
            policy=policy,
            email=body.email,
            name=body.name,
            subject=body.subject,
            description=body.description,
            client=_client_address(request, settings.web_trust_forwarded_for),
            idempotency_key=idempotency_key,
            body_sha256=body_fingerprint(body.model_dump()),
        )
        try:
            async with resources.new_uow() as uow:
                outcome = await submit_web_request(uow, submission, web_limits, settings.secret_key)
                await uow.commit()
        except RateLimited as exc:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                str(exc),
                headers={"Retry-After": str(exc.retry_after)},
            ) from exc
        except IdempotencyKeyReused as exc:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                [{"loc": ["header", "Idempotency-Key"], "msg": str(exc), "type": "value_error"}],
            ) from exc
        filed = outcome.filed
        if outcome.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        else:
            filed_counter.labels(policy.id).inc()
        return FiledOut(
            reference=filed.ref,
            status_token=filed.status_token,
            status_url=f"{settings.public_base_url.rstrip('/')}/v1/status/{filed.status_token}",
            kind=filed.kind,
            missing_fields=list(filed.missing_fields),
        )

    @app.get("/v1/status/{token}")
    async def get_status(token: str) -> dict[str, Any]:
        async with resources.new_uow() as uow:
            row = (
                await uow.session.exec(
                    select(RequestRow).where(RequestRow.status_token_hash == token_hash(token))
                )
            ).first()
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no request for this status link")
        return {
            "reference": row.ref,
            "state": row.state,
            "subject": row.subject,
            "received_at": row.received_at,
            "acknowledgment_due_on": row.ack_due_on,
            "response_due_on": row.response_due_on,
        }

    @app.post("/v1/status/{token}/appeal", status_code=status.HTTP_202_ACCEPTED)
    async def post_appeal(token: str, body: AppealIn) -> dict[str, Any]:
        """The requester appeals a decision; a late appeal is recorded and answered as late."""
        try:
            async with resources.new_uow() as uow:
                filed = await file_appeal(uow, token, body.text)
        except NoSuchRequest as exc:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, "no request for this status link"
            ) from exc
        except NothingToAppeal as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        return {"reference": filed.ref, "late": filed.late, "appeal_deadline": filed.deadline}

    @app.get("/v1/requests")
    async def list_requests(
        member: Staff,
        jurisdiction: str | None = None,
        state: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        query = select(RequestRow).order_by(col(RequestRow.received_at).desc()).limit(limit)
        if jurisdiction:
            query = query.where(RequestRow.jurisdiction == jurisdiction)
        if state:
            query = query.where(RequestRow.state == state)
        async with resources.new_uow() as uow:
            rows = (await uow.session.exec(query)).all()
        return [
            {
                "reference": r.ref,
                "jurisdiction": r.jurisdiction,
                "state": r.state,
                "subject": r.subject,
                "requester_email": r.requester_email,
                "received_at": r.received_at,
                "acknowledgment_due_on": r.ack_due_on,
                "response_due_on": r.response_due_on,
            }
            for r in rows
        ]

    @app.get("/v1/requests/{ref}")
    async def get_request(ref: str, member: Staff) -> dict[str, Any]:
        async with resources.new_uow() as uow:
            row = await find_request(uow, ref)
            if row is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no request {ref}")
            timeline = (
                await uow.session.exec(
                    select(EventRecord)
                    .where(EventRecord.request_ref == ref)
                    .order_by(col(EventRecord.sequence))
                )
            ).all()
        return {
            **row.model_dump(exclude={"status_token_hash", "id"}),
            "deadlines": {
                name: {**derivation, "explained": _explain(derivation)}
                for name, derivation in row.deadlines.items()
            },
            "timeline": [_event_out(e).model_dump() for e in timeline],
        }

    @app.get("/v1/inbound-mail")
    async def inbound_mail(
        member: Staff,
        status_: Annotated[str | None, Query(alias="status")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Mail as it arrived and what became of it: quarantined and held messages wait here
        for staff (`recordsdesk mail reprocess ID` runs one again)."""
        columns = [
            col(c)
            for c in (
                InboundMail.id,
                InboundMail.received_at,
                InboundMail.source,
                InboundMail.envelope_recipient,
                InboundMail.status,
                InboundMail.outcome,
                InboundMail.message_id,
                InboundMail.request_ref,
            )
        ]
        query = sa_select(*columns).order_by(col(InboundMail.id).desc()).limit(limit)
        if status_:
            query = query.where(col(InboundMail.status) == status_)
        async with resources.new_uow() as uow:
            rows = (await uow.session.execute(query)).all()
        return [dict(row._mapping) for row in rows]

    @app.get("/v1/events", response_model=EventPage)
    async def events(
        member: Staff,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        type: str | None = None,
        jurisdiction: str | None = None,
        request: str | None = None,
    ) -> EventPage:
        query = (
            select(EventRecord)
            .where(col(EventRecord.sequence) > after)
            .order_by(col(EventRecord.sequence))
            .limit(limit)
        )
        if type:
            query = query.where(EventRecord.type == type)
        if jurisdiction:
            query = query.where(EventRecord.jurisdiction == jurisdiction)
        if request:
            query = query.where(EventRecord.request_ref == request)
        async with resources.new_uow() as uow:
            rows = (await uow.session.exec(query)).all()
        out = [_event_out(r) for r in rows]
        return EventPage(events=out, next_after=out[-1].sequence if out else after)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(response: Response) -> dict[str, str]:
        checks = {"database": "ok", "broker": "ok"}
        try:
            async with resources.new_uow() as uow:
                await uow.session.execute(text("SELECT 1"))
        except Exception as exc:
            checks["database"] = f"unreachable: {exc.__class__.__name__}"
        if not await resources.broker.ping(timeout=2.0):
            checks["broker"] = "unreachable"
        if any(v != "ok" for v in checks.values()):
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return checks

    backlog = Gauge(
        "recordsdesk_backlog",
        "Rows waiting, read from the database at scrape time (what an on-call person watches)",
        ["what", "status"],
        registry=registry,
    )
    open_requests = Gauge(
        "recordsdesk_requests",
        "Requests by jurisdiction and state",
        ["jurisdiction", "state"],
        registry=registry,
    )

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        async with resources.new_uow() as uow:
            rows = (await uow.session.execute(_BACKLOG, {"now": resources.clock.now()})).all()
            states = (
                await uow.session.execute(
                    text("SELECT jurisdiction, state, count(*) AS n FROM requests GROUP BY 1, 2")
                )
            ).all()
        backlog.clear()
        for row in rows:
            backlog.labels(row.what, row.status).set(row.n)
        open_requests.clear()
        for row in states:
            open_requests.labels(row.jurisdiction, row.state).set(row.n)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


_BACKLOG = text(
    """
    SELECT 'outbox' AS what, 'unpublished' AS status, count(*) AS n FROM outbox
        WHERE published_at IS NULL
    UNION ALL SELECT 'inbound_mail', status, count(*) FROM inbound_mail
        WHERE status IN ('pending', 'quarantined', 'held') GROUP BY status
    UNION ALL SELECT 'timers', 'overdue', count(*) FROM timers
        WHERE status = 'pending' AND due_at <= :now
    UNION ALL SELECT 'notifications', status, count(*) FROM notifications
        WHERE status NOT IN ('sent') GROUP BY status
    """
)


def _explain(derivation: dict[str, Any]) -> str:
    from shared.calendar import DeadlineDerivation

    return DeadlineDerivation.model_validate(derivation).explain()
