"""Pricing a request from the jurisdiction's fee schedule. Pure: no I/O.

The law's own limits live here as rules on the schedule's data: free hours, the hourly
cap, the special service charge threshold, no charge for separating confidential
information where the agency bears it, and no fee at all when the response was late.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shared.events import CostLine
from shared.policy import FeeSchedule

CENT = Decimal("0.01")


@dataclass(frozen=True)
class WorkEstimate:
    pages: int = 0
    search_hours: Decimal = Decimal(0)
    redaction_hours: Decimal = Decimal(0)
    hourly_rate: Decimal | None = None  # the lowest-paid capable employee's rate, if known


@dataclass(frozen=True)
class Quote:
    lines: list[CostLine]
    total: Decimal
    waived_reasons: list[str]

    @property
    def chargeable(self) -> bool:
        return self.total > 0


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def price(schedule: FeeSchedule, work: WorkEstimate, *, response_late: bool = False) -> Quote:
    lines: list[CostLine] = []
    waived: list[str] = []
    if work.pages:
        amount = _money(schedule.per_page * work.pages)
        lines.append(
            CostLine(
                description="copies",
                quantity=Decimal(work.pages),
                unit="page",
                unit_price=schedule.per_page,
                amount=amount,
            )
        )

    rate = work.hourly_rate if work.hourly_rate is not None else schedule.hourly_rate
    if schedule.hourly_rate_cap is not None and rate > schedule.hourly_rate_cap:
        waived.append(f"hourly rate capped at {schedule.hourly_rate_cap}")
        rate = schedule.hourly_rate_cap
    hours = work.search_hours
    if work.redaction_hours:
        if schedule.charge_for_redaction:
            hours += work.redaction_hours
        else:
            waived.append("no charge for separating confidential information")
    if schedule.special_service_charge_after_hours is not None:
        # North Carolina style: labour is charged only as a special service charge for
        # extensive use, i.e. the hours beyond the threshold.
        billable = max(Decimal(0), hours - schedule.special_service_charge_after_hours)
        description = (
            f"special service charge (beyond {schedule.special_service_charge_after_hours} hours)"
        )
    else:
        billable = max(Decimal(0), hours - schedule.free_hours)
        description = "staff time"
        if hours and schedule.free_hours:
            waived.append(f"first {schedule.free_hours} hours free")
    if billable and rate:
        lines.append(
            CostLine(
                description=description,
                quantity=billable,
                unit="hour",
                unit_price=rate,
                amount=_money(billable * rate),
            )
        )

    total = _money(sum((line.amount for line in lines), Decimal(0)))
    if response_late and schedule.no_fee_when_response_late and total:
        waived.append("no fee: the response was late")
        total = Decimal(0)
    elif total and total <= schedule.estimate_threshold:
        waived.append(f"under the {schedule.estimate_threshold} threshold")
        total = Decimal(0)
    return Quote(lines=lines, total=total, waived_reasons=waived)
