"""Staff decisions on a request: who may make which, what each does, what it records.

`decide` is the one core function the HTTP route calls. It raises domain errors the
route turns into 404 / 403 / 409 / 422; everything else commits in one unit of work.
"""

import secrets
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, HttpUrl

from services.review import clocks, timers
from services.review.fees import WorkEstimate, price
from services.review.handlers import (
    ask_for_clarification,
    ask_to_accept_cost,
    close,
    record,
    touch,
)
from services.review.lifecycle import Decision, State, TransitionForbidden, next_state
from shared.db.tables import ApiKey, Request, StaffMember
from shared.events import (
    Actor,
    ApiKeyIssued,
    DeadlineExtended,
    DeadlinesSet,
    Envelope,
    Released,
    RequestAcknowledged,
    Withheld,
)
from shared.policy import Policy, PolicyBook
from shared.request_store import find_request
from shared.signing import api_key, token_hash
from shared.unit_of_work import UnitOfWork

# --- what staff send ---------------------------------------------------------------------


class Acknowledge(BaseModel):
    decision: Literal["acknowledge"]
    note: str = ""


class Assign(BaseModel):
    decision: Literal["assign"]
    assignee: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class Clarify(BaseModel):
    decision: Literal["clarify"]
    questions: list[Annotated[str, Field(min_length=3, max_length=2000)]] = Field(min_length=1)


class Estimate(BaseModel):
    decision: Literal["estimate"]
    pages: int = Field(default=0, ge=0, le=10_000_000)
    search_hours: Decimal = Field(default=Decimal(0), ge=0, le=100_000)
    redaction_hours: Decimal = Field(default=Decimal(0), ge=0, le=100_000)
    hourly_rate: Decimal | None = Field(
        default=None, ge=0, description="lowest capable employee's rate"
    )


class WithheldPart(BaseModel):
    description: str = Field(min_length=1)
    exemption_code: str


class Release(BaseModel):
    decision: Literal["release"]
    links: list[HttpUrl] = []
    redactions: list[str] = []
    withheld_parts: list[WithheldPart] = []


class Withhold(BaseModel):
    decision: Literal["withhold"]
    exemption_code: str
    explanation: str = Field(min_length=3)


class Extend(BaseModel):
    decision: Literal["extend"]
    business_days: int = Field(ge=1, le=365)
    reason: str = Field(min_length=3)


class Close(BaseModel):
    decision: Literal["close"]
    reason: Literal["withdrawn", "duplicate", "already_published", "abandoned"]
    note: str = ""


DecisionIn = Annotated[
    Acknowledge | Assign | Clarify | Estimate | Release | Withhold | Extend | Close,
    Field(discriminator="decision"),
]

# --- who may decide what -------------------------------------------------------------------

_EVERYDAY = {Decision.ACKNOWLEDGE, Decision.ASSIGN, Decision.CLARIFY, Decision.CLOSE}
ROLE_DECISIONS: dict[str, set[Decision]] = {
    "auditor": set(),
    "clerk": _EVERYDAY | {Decision.EXTEND},
    "reviewer": _EVERYDAY | {Decision.EXTEND, Decision.ESTIMATE, Decision.RELEASE},
    "manager": _EVERYDAY | {Decision.EXTEND, Decision.ESTIMATE, Decision.RELEASE},
    "admin": _EVERYDAY | {Decision.EXTEND, Decision.ESTIMATE, Decision.RELEASE},
    "legal": set(Decision),
}


class RequestNotFound(Exception):
    pass


class RoleForbidden(Exception):
    pass


class DecisionInvalid(Exception):
    """A well-formed decision that this request or policy does not allow (422)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def check_role(staff: StaffMember, decision: Decision, request: Request) -> None:
    if decision not in ROLE_DECISIONS.get(staff.role, set()):
        raise RoleForbidden(f"a {staff.role} may not {decision.value}")
    if decision == Decision.RELEASE and request.legal_review and staff.role != "legal":
        reasons = "; ".join(request.legal_review_reasons) or "marked for legal review"
        raise RoleForbidden(f"only legal may release this request ({reasons})")


# --- the decisions ---------------------------------------------------------------------------


async def decide(
    uow: UnitOfWork,
    policies: PolicyBook,
    secret: str,
    ref: str,
    staff: StaffMember,
    body: DecisionIn,
) -> list[Envelope]:
    request = await find_request(uow, ref, for_update=True)
    if request is None:
        raise RequestNotFound(ref)
    policy = policies[request.jurisdiction]
    decision = Decision(body.decision)
    check_role(staff, decision, request)
    partial = isinstance(body, Release) and bool(body.withheld_parts)
    state = State(request.state)
    new_state = next_state(state, decision, partial=partial)
    actor = Actor(kind="staff", id=staff.email)
    step = _STEPS[type(body)]
    await step(uow, policy, request, body, actor, secret)  # type: ignore[operator]
    if decision not in (Decision.CLARIFY, Decision.CLOSE):
        request.state = new_state
    touch(uow, request)
    return await uow.commit()


async def _acknowledge(
    uow: UnitOfWork, policy: Policy, request: Request, body: Acknowledge, actor: Actor, secret: str
) -> None:
    await timers.cancel(uow, request.ref, ["acknowledgment"])
    record(uow, request, RequestAcknowledged(note=body.note), actor=actor)


async def _assign(
    uow: UnitOfWork, policy: Policy, request: Request, body: Assign, actor: Actor, secret: str
) -> None:
    request.assignee = body.assignee.lower()


async def _clarify(
    uow: UnitOfWork, policy: Policy, request: Request, body: Clarify, actor: Actor, secret: str
) -> None:
    await timers.cancel(uow, request.ref, ["acknowledgment"])
    await ask_for_clarification(uow, policy, request, body.questions, None, actor)


async def _estimate(
    uow: UnitOfWork, policy: Policy, request: Request, body: Estimate, actor: Actor, secret: str
) -> None:
    late = (
        request.response_due_on is not None
        and policy.calendar.local(uow.clock.now()).date() > request.response_due_on
    )
    quote = price(
        policy.fees,
        WorkEstimate(
            pages=body.pages,
            search_hours=body.search_hours,
            redaction_hours=body.redaction_hours,
            hourly_rate=body.hourly_rate,
        ),
        response_late=late,
    )
    if not quote.chargeable:
        why = "; ".join(quote.waived_reasons) or "nothing to charge"
        raise DecisionInvalid(
            "body", f"no fee may be charged here ({why}); proceed without an estimate"
        )
    await timers.cancel(uow, request.ref, ["acknowledgment"])
    await ask_to_accept_cost(uow, policy, request, quote, None, actor)


def _exemption(policy: Policy, code: str, field: str) -> tuple[str, str]:
    exemption = policy.exemption(code)
    if exemption is None:
        known = ", ".join(e.code for e in policy.exemptions)
        raise DecisionInvalid(field, f"unknown exemption code {code!r}; this policy cites: {known}")
    return exemption.citation, exemption.text


async def _release(
    uow: UnitOfWork, policy: Policy, request: Request, body: Release, actor: Actor, secret: str
) -> None:
    withheld = []
    for n, part in enumerate(body.withheld_parts):
        citation, text = _exemption(
            policy, part.exemption_code, f"withheld_parts.{n}.exemption_code"
        )
        withheld.append(
            {
                "description": part.description,
                "exemption_code": part.exemption_code,
                "citation": citation,
                "text": text,
            }
        )
    await _decided(uow, policy, request)
    if withheld:  # the withheld parts can be appealed like a withholding
        _open_appeal_window(uow, policy, request)
    record(
        uow,
        request,
        Released(
            links=[str(u) for u in body.links],
            redactions=body.redactions,
            partial=bool(withheld),
            withheld_parts=withheld,
        ),
        actor=actor,
    )
    if request.kind == "api_access":
        _issue_api_key(uow, policy, request, actor, secret)


async def _withhold(
    uow: UnitOfWork, policy: Policy, request: Request, body: Withhold, actor: Actor, secret: str
) -> None:
    citation, text = _exemption(policy, body.exemption_code, "exemption_code")
    await _decided(uow, policy, request)
    appeal_by = _open_appeal_window(uow, policy, request)
    record(
        uow,
        request,
        Withheld(
            exemption_code=body.exemption_code,
            citation=citation,
            explanation=f"{text}. {body.explanation}",
            appeal_route=f"{policy.appeal.to}. {policy.appeal.instructions} ({policy.appeal.citation})",
            appeal_deadline=appeal_by,
        ),
        actor=actor,
    )


def _open_appeal_window(uow: UnitOfWork, policy: Policy, request: Request) -> date:
    appeal_by = appeal_deadline(policy, policy.calendar.local(uow.clock.now()).date())
    request.appeal_deadline = appeal_by
    closes_at = policy.calendar.start_of_day(appeal_by + timedelta(days=1))
    timers.schedule(uow, request, "appeal_window", closes_at)
    return appeal_by


def appeal_deadline(policy: Policy, decided_on: date) -> date:
    if policy.appeal.day_kind == "business":
        return policy.calendar.add_business_days(decided_on, policy.appeal.within_days)
    return decided_on + timedelta(days=policy.appeal.within_days)


async def _decided(uow: UnitOfWork, policy: Policy, request: Request) -> None:
    request.decided_at = uow.clock.now()
    await timers.cancel(uow, request.ref)


async def _extend(
    uow: UnitOfWork, policy: Policy, request: Request, body: Extend, actor: Actor, secret: str
) -> None:
    rule = policy.extensions
    if request.extensions_used >= rule.max_count:
        raise DecisionInvalid(
            "decision",
            f"this policy allows {rule.max_count} extension(s); already used {request.extensions_used} ({rule.citation})",
        )
    if request.extension_business_days + body.business_days > rule.max_business_days:
        left = rule.max_business_days - request.extension_business_days
        raise DecisionInvalid(
            "business_days", f"at most {left} more business day(s) may be added ({rule.citation})"
        )
    request.extensions_used += 1
    request.extension_business_days += body.business_days
    ack = clocks.acknowledgment_deadline(policy, request)
    response = clocks.response_deadline(policy, request)
    clocks.apply_deadlines(request, ack, response)
    if request.paused_since is None:
        await clocks.schedule_response_timers(uow, policy, request, response)
    record(
        uow,
        request,
        DeadlineExtended(
            business_days=body.business_days, reason=body.reason, new_due_on=response.due_on
        ),
        actor=actor,
    )
    record(
        uow,
        request,
        DeadlinesSet(reason="extended", acknowledgment=ack, response=response),
        actor=actor,
    )


async def _close(
    uow: UnitOfWork, policy: Policy, request: Request, body: Close, actor: Actor, secret: str
) -> None:
    await close(uow, request, body.reason, body.note, None, actor)


def _issue_api_key(
    uow: UnitOfWork, policy: Policy, request: Request, actor: Actor, secret: str
) -> None:
    terms = policy.api_keys
    key_id = secrets.token_hex(8)
    expires = policy.calendar.local(uow.clock.now()).date() + timedelta(days=terms.valid_days)
    now = uow.clock.now()
    uow.session.add(
        ApiKey(
            id=key_id,
            key_hash=token_hash(api_key(secret, key_id)),
            request_ref=request.ref,
            jurisdiction=request.jurisdiction,
            holder_email=request.requester_email,
            scopes=list(terms.scopes),
            rate_limit_per_hour=terms.rate_limit_per_hour,
            expires_on=expires,
            status="active",
            created_at=now,
            updated_at=now,
        )
    )
    record(
        uow,
        request,
        ApiKeyIssued(
            key_id=key_id,
            scopes=list(terms.scopes),
            rate_limit_per_hour=terms.rate_limit_per_hour,
            expires_on=expires,
        ),
        actor=actor,
    )


_STEPS = {
    Acknowledge: _acknowledge,
    Assign: _assign,
    Clarify: _clarify,
    Estimate: _estimate,
    Release: _release,
    Withhold: _withhold,
    Extend: _extend,
    Close: _close,
}

__all__ = [
    "DecisionIn",
    "DecisionInvalid",
    "RequestNotFound",
    "RoleForbidden",
    "TransitionForbidden",
    "decide",
]
