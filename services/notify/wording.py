"""How facts are said in a requester's or staff member's email. Pure: no I/O.

Dates read as a person writes them, money as a bill shows it, codes become words. Nothing
here knows about templates or events.
"""

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

CLOSE_REASONS = {
    "withdrawn": "you withdrew the request",
    "duplicate": "it repeats another request, which we are answering instead",
    "already_published": "the information you asked for is already published",
    "abandoned": "we did not receive the answer we needed from you in time",
    "cost_declined": "you declined the cost estimate",
}

KINDS = {
    "open_data": "open data",
    "extract": "a custom data extract",
    "api_access": "API access",
    "public_records": "a public records request",
}

FIELD_LABELS = {
    "dataset": "Data or topic",
    "fields": "Fields",
    "time_range": "Time period",
    "format": "Format",
    "intended_use": "Intended use",
    "deadline": "Needed by",
    "frequency": "How often",
    "contact": "Contact",
}

CLOCKS = {
    "acknowledgment": "acknowledgment",
    "response": "response",
    "clarification": "answer to our questions",
    "cost_acceptance": "answer to the cost estimate",
}


def long_date(day: date) -> str:
    """Tuesday, December 8, 2026"""
    return f"{day:%A, %B} {day.day}, {day.year}"


def plain_date(day: date) -> str:
    """January 1, 2020"""
    return f"{day:%B} {day.day}, {day.year}"


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_ISO_PERIOD = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*/\s*(\d{4}-\d{2}-\d{2})\s*$")


def dates_in_words(value: str) -> str:
    """ISO dates (and a from/to period) as a person writes them; anything else unchanged."""

    def one(match: re.Match[str]) -> str:
        try:
            return plain_date(date(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:
            return match[0]

    if period := _ISO_PERIOD.match(value):
        return f"{_ISO_DATE.sub(one, period[1])} to {_ISO_DATE.sub(one, period[2])}"
    return _ISO_DATE.sub(one, value)


def long_time(instant: datetime) -> str:
    """Sunday, November 22, 2026 at 10:00 EST (in the instant's own zone)."""
    return f"{long_date(instant.date())} at {instant:%H:%M %Z}".rstrip()


def money(amount: Decimal) -> str:
    return f"${amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def quantity(amount: Decimal) -> str:
    """2, 1.5, 0.25: no trailing zeros, no exponent."""
    text = f"{amount.normalize():f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def size(count: int) -> str:
    """25 MB, 1.5 KB: decimal units, as limits are usually written."""
    if count < 1000:
        return f"{count} bytes"
    value = float(count)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def close_reason(reason: str) -> str:
    return CLOSE_REASONS.get(reason, reason.replace("_", " "))


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def kind(name: str) -> str:
    return KINDS.get(name, name.replace("_", " "))


def clock(name: str) -> str:
    return CLOCKS.get(name, name.replace("_", " "))


def business_days(count: int) -> str:
    return f"{count} business day" + ("" if count == 1 else "s")
