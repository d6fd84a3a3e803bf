"""Business-day arithmetic for one jurisdiction, and deadlines that explain themselves.

Pure: no I/O and no wall clock; every instant is passed in.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekdays that are not state holidays (nor the policy's extra closures), in a time zone."""

    time_zone: str
    state: str
    cutoff: time = time(17, 0)
    extra_closures: frozenset[date] = field(default_factory=frozenset)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        # years are filled in on demand by the package
        return holidays.country_holidays("US", subdiv=self.state)

    def holiday_name(self, day: date) -> str | None:
        if day in self.extra_closures:
            return "office closed"
        name = self._holidays.get(day)
        return str(name) if name else None

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def deemed_received(self, instant: datetime) -> date:
        """A request in on a closed day or after the cut-off counts as in on the next business day."""
        local = self.local(instant)
        day = local.date()
        if self.is_business_day(day) and local.time() < self.cutoff:
            return day
        return self.next_business_day(day)

    def skipped_between(self, start: date, end: date) -> list["SkippedDay"]:
        """Closed weekdays strictly after `start` up to and including `end`, for the derivation."""
        out: list[SkippedDay] = []
        day = start + timedelta(days=1)
        while day <= end:
            name = self.holiday_name(day)
            if name and day.weekday() < 5:
                out.append(SkippedDay(day=day, reason=name))
            day += timedelta(days=1)
        return out

    def add_business_days(self, start: date, days: int) -> date:
        """`days` business days after `start` (day 1 is the first business day after it)."""
        day = start
        for _ in range(days):
            day = self.next_business_day(day)
        return day

    def business_days_between(self, start: date, end: date) -> int:
        """How many business days lie after `start` up to and including `end` (0 if none)."""
        count, day = 0, start
        while day < end:
            day = self.next_business_day(day)
            if day <= end:
                count += 1
        return count

    def start_of_day(self, day: date) -> datetime:
        return datetime.combine(day, time(0, 0), tzinfo=self.zone)


class SkippedDay(BaseModel):
    day: date
    reason: str


class Pause(BaseModel):
    """Business days the clock stood still (awaiting clarification or cost acceptance)."""

    started_on: date
    ended_on: date
    business_days: int
    reason: str


class DeadlineDerivation(BaseModel):
    """How a due date came out, in words a records officer can check."""

    name: str
    time_zone: str = "UTC"
    received_at: datetime
    received_local: datetime
    deemed_received_on: date
    counted_from: date
    business_days: int
    holidays_skipped: list[SkippedDay]
    pauses: list[Pause] = []
    extension_business_days: int = 0
    due_on: date
    overdue_at: datetime

    def explain(self) -> str:
        local = self.received_local.astimezone(ZoneInfo(self.time_zone))
        parts = [
            f"received {local:%a %Y-%m-%d %H:%M %Z}",
            f"deemed received {self.deemed_received_on:%a %Y-%m-%d}",
            f"day 1 is {self.counted_from:%a %Y-%m-%d}",
            f"{self.business_days} business days",
        ]
        if self.holidays_skipped:
            parts.append(
                "skipping "
                + ", ".join(f"{s.reason} ({s.day:%m-%d})" for s in self.holidays_skipped)
            )
        for pause in self.pauses:
            parts.append(f"paused {pause.business_days} business days ({pause.reason})")
        if self.extension_business_days:
            parts.append(f"extended {self.extension_business_days} business days")
        parts.append(f"due {self.due_on:%a %Y-%m-%d}")
        return "; ".join(parts)


def derive_deadline(
    calendar: BusinessCalendar,
    name: str,
    received_at: datetime,
    business_days: int,
    pauses: list[Pause] | None = None,
    extension_business_days: int = 0,
) -> DeadlineDerivation:
    """Due date = `business_days` business days after the deemed day of receipt, plus pauses
    and extensions. It is overdue from the start of the next business day after the due date."""
    pauses = pauses or []
    deemed = calendar.deemed_received(received_at)
    total = business_days + sum(p.business_days for p in pauses) + extension_business_days
    due = calendar.add_business_days(deemed, total)
    return DeadlineDerivation(
        name=name,
        time_zone=calendar.time_zone,
        received_at=received_at,
        received_local=calendar.local(received_at),
        deemed_received_on=deemed,
        counted_from=calendar.next_business_day(deemed),
        business_days=business_days,
        holidays_skipped=calendar.skipped_between(deemed, due),
        pauses=pauses,
        extension_business_days=extension_business_days,
        due_on=due,
        overdue_at=calendar.start_of_day(calendar.next_business_day(due)),
    )


def previous_business_day(calendar: BusinessCalendar, day: date) -> date:
    """The last business day strictly before `day`."""
    day -= timedelta(days=1)
    while not calendar.is_business_day(day):
        day -= timedelta(days=1)
    return day
