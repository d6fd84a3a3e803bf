"""Jurisdiction policies: one YAML file each, validated before anything starts.

Every rule that differs between jurisdictions lives here as data, never in code.
"""

import re
from datetime import date, time
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.calendar import BusinessCalendar

_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value.lower()


EmailAddress = Annotated[str, AfterValidator(_address)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(Strict):
    business_days: int = Field(ge=1, le=365)
    citation: str


class ClarificationRule(Strict):
    clock: Literal["pause", "restart"]
    abandon_after_business_days: int = Field(ge=1)
    reminder_after_business_days: int = Field(ge=1)
    citation: str = ""


class ExtensionRule(Strict):
    max_business_days: int = Field(ge=0)
    max_count: int = Field(ge=0)
    requires_reason: bool = True
    citation: str = ""


class FeeSchedule(Strict):
    currency: Literal["USD"] = "USD"
    per_page: Decimal = Field(ge=0)
    hourly_rate: Decimal = Field(ge=0)
    hourly_rate_cap: Decimal | None = Field(default=None, ge=0)
    free_hours: Decimal = Field(default=Decimal(0), ge=0)
    estimate_threshold: Decimal = Field(
        default=Decimal(0), ge=0, description="Estimates at or below this are waived."
    )
    special_service_charge_after_hours: Decimal | None = Field(default=None, ge=0)
    no_fee_when_response_late: bool = False
    charge_for_redaction: bool = True
    citation: str


class TriageEstimate(Strict):
    """The work a typical request of one kind takes, priced at filing for an early estimate."""

    pages: int = Field(default=0, ge=0)
    search_hours: Decimal = Field(default=Decimal(0), ge=0)


class Exemption(Strict):
    code: str
    citation: str
    text: str


class EscalationLevel(Strict):
    level: int = Field(ge=1)
    title: str
    notify: list[EmailAddress] = Field(min_length=1)
    after_business_days: int = Field(ge=0)


class Appeal(Strict):
    to: str
    instructions: str
    within_days: int = Field(ge=1)
    day_kind: Literal["calendar", "business"] = "calendar"
    citation: str


class ApiKeyTerms(Strict):
    scopes: list[str] = Field(min_length=1)
    rate_limit_per_hour: int = Field(ge=1)
    valid_days: int = Field(ge=1)
    terms_url: str = ""


class CatalogRule(Strict):
    match_threshold: float = Field(ge=0, le=1)
    on_match: Literal["close_as_published", "suggest_to_staff"]
    citation: str = ""


RequestField = Literal[
    "dataset", "fields", "time_range", "format", "intended_use", "deadline", "frequency", "contact"
]


class Policy(Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str
    statute: str
    reference_prefix: str = Field(pattern=r"^[A-Z]{2,6}$")
    time_zone: str
    holiday_state: str = Field(pattern=r"^[A-Z]{2}$")
    cutoff: time = time(17, 0)
    extra_closures: list[date] = []
    intake_addresses: list[EmailAddress] = Field(min_length=1)
    sender_address: EmailAddress
    sender_name: str
    staff_address: EmailAddress
    acknowledgment: Period
    response: Period
    clarification: ClarificationRule
    extensions: ExtensionRule
    fees: FeeSchedule
    triage_estimates: dict[
        Literal["open_data", "extract", "api_access", "public_records"], TriageEstimate
    ] = {}
    required_fields: list[RequestField] = []
    purpose_may_be_required: bool = True
    sensitive_terms: list[str] = []
    exemptions: list[Exemption] = []
    escalation: list[EscalationLevel] = Field(min_length=1)
    appeal: Appeal
    api_keys: ApiKeyTerms
    catalog: CatalogRule
    reopen_within_days: int = Field(default=30, ge=0)
    response_reminder_business_days: int = Field(
        default=2,
        ge=0,
        description="Remind the assignee this many business days before the response is due.",
    )
    templates_dir: Path | None = None
    max_attachment_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        description="Larger attachments are not stored (the mail is kept); requester and staff are told.",
    )
    max_new_mail_requests_per_sender_per_hour: int = Field(
        default=5,
        ge=1,
        description="More new requests by mail from one sender in an hour are held for staff, "
        "so a mail loop cannot make us send receipt after receipt.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Policy":
        if not self.purpose_may_be_required and "intended_use" in self.required_fields:
            raise ValueError("required_fields: intended_use may not be required here")
        levels = [lvl.level for lvl in self.escalation]
        if levels != list(range(1, len(levels) + 1)):
            raise ValueError("escalation: levels must be numbered 1, 2, 3, ... in order")
        codes = [e.code for e in self.exemptions]
        if len(codes) != len(set(codes)):
            raise ValueError("exemptions: codes must be unique")
        return self

    @cached_property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(
            time_zone=self.time_zone,
            state=self.holiday_state,
            cutoff=self.cutoff,
            extra_closures=frozenset(self.extra_closures),
        )

    @property
    def mail_domain(self) -> str:
        return self.sender_address.split("@", 1)[1]

    def triage_estimate(self, kind: str) -> TriageEstimate | None:
        return next((e for k, e in self.triage_estimates.items() if k == kind), None)

    def exemption(self, code: str) -> Exemption | None:
        return next((e for e in self.exemptions if e.code == code), None)


class PolicyError(Exception):
    """A policy file is wrong; the message names the file, the field and the problem."""


def _problem_lines(path: Path, error: ValidationError) -> list[str]:
    lines = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        lines.append(f"{path}: {where}: {err['msg']}")
    return lines


def load_policy(path: Path) -> Policy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}: (file): cannot read: {exc}") from exc
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: (file): expected a mapping of fields")
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError("\n".join(_problem_lines(path, exc))) from exc
    if policy.id != path.stem:
        raise PolicyError(f"{path}: id: {policy.id!r} must match the file name {path.stem!r}")
    try:
        policy.calendar.zone  # noqa: B018 - an unknown zone fails here, at start-up
    except Exception as exc:
        raise PolicyError(f"{path}: time_zone: unknown time zone {policy.time_zone!r}") from exc
    if policy.templates_dir is not None and not policy.templates_dir.is_absolute():
        policy = policy.model_copy(update={"templates_dir": path.parent / policy.templates_dir})
    return policy


class PolicyBook:
    """All jurisdictions' policies, looked up by id or by intake address."""

    def __init__(self, policies: list[Policy]) -> None:
        self._by_id = {p.id: p for p in policies}
        self._by_address: dict[str, Policy] = {}
        for policy in policies:
            for address in policy.intake_addresses:
                if address in self._by_address:
                    raise PolicyError(
                        f"intake_addresses: {address} is claimed by both "
                        f"{self._by_address[address].id} and {policy.id}"
                    )
                self._by_address[address] = policy
        prefixes = [p.reference_prefix for p in policies]
        if len(prefixes) != len(set(prefixes)):
            raise PolicyError("reference_prefix: two policies share a prefix")

    def __getitem__(self, jurisdiction: str) -> Policy:
        return self._by_id[jurisdiction]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_id.values())

    def get(self, jurisdiction: str) -> Policy | None:
        return self._by_id.get(jurisdiction)

    def for_address(self, address: str) -> Policy | None:
        """The policy whose intake address this is, ignoring a +tag in the local part."""
        local, _, domain = address.lower().partition("@")
        return self._by_address.get(f"{local.split('+', 1)[0]}@{domain}")

    @property
    def ids(self) -> list[str]:
        return sorted(self._by_id)

    @classmethod
    def load(cls, directory: Path) -> "PolicyBook":
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise PolicyError(f"{directory}: (folder): no policy files (*.yaml)")
        problems: list[str] = []
        policies: list[Policy] = []
        for path in files:
            try:
                policies.append(load_policy(path))
            except PolicyError as exc:
                problems.append(str(exc))
        if problems:
            raise PolicyError("\n".join(problems))
        return cls(policies)
