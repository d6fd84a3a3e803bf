"""What the person asked for, read from the free text of a mail or web request.

Reads the parts that Worcester's and Cary's request guides ask requesters to give: the
dataset or topic, the fields, the time range, the format, the intended use, any deadline
and, for API access, the expected call frequency; and classifies the request's kind.

Pure and deterministic: no I/O and no clock (relative phrases such as "the last 3 years"
count back from the `received_on` date the caller passes). Every value keeps the exact
text it came from, so staff can see why it was read that way. Each rule is a row in one of
the tables below; a new phrasing is a new row, not new code.
"""

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from dateutil import parser as date_parser
from dateutil.relativedelta import relativedelta

from shared.events import ExtractedValue

Kind = Literal["open_data", "extract", "api_access", "public_records"]
KINDS: tuple[Kind, ...] = ("api_access", "open_data", "extract", "public_records")  # tie order

# Longest request text that is read; the rest of a very long mail adds nothing but time.
MAX_TEXT = 20_000

_FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class Ask:
    """The request as understood: its kind (and the cue that decided it) and each value read."""

    kind: Kind
    kind_cue: ExtractedValue
    values: dict[str, ExtractedValue]

    def missing(self, required: Iterable[str], known: Iterable[str] = ()) -> list[str]:
        """Required fields the request does not give. `known` are satisfied some other way
        (e.g. `contact` by the sender's address). The API call frequency only applies to
        API access."""
        have = set(self.values) | set(known)
        out = []
        for name in required:
            if name in have or (name == "frequency" and self.kind != "api_access"):
                continue
            out.append(name)
        return out


# --- text preparation -----------------------------------------------------------------------

_SIGNATURE = re.compile(r"\n-- ?\n.*\Z", re.DOTALL)
_QUOTED = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_BLANKS = re.compile(r"[ \t\u00a0]+")


def prepare(text: str) -> str:
    """The text rules read: no quoted history or signature, runs of blanks made one space.
    Every source_text is a substring of this."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")[:MAX_TEXT]
    text = _SIGNATURE.sub("", text)
    text = _QUOTED.sub("", text)
    return "\n".join(_BLANKS.sub(" ", line).strip() for line in text.split("\n")).strip()


def _collapse(text: str) -> str:
    return " ".join(text.split())


# --- dates ----------------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_YEAR = r"(?:19|20)\d{2}"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_FULL_DATE = (
    rf"(?:{_YEAR}-\d{{1,2}}-\d{{1,2}}"
    rf"|\d{{1,2}}/\d{{1,2}}/(?:{_YEAR}|\d{{2}})"
    rf"|{_MONTH}\s+{_DAY},?\s+{_YEAR}"
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR})"
)
_MONTH_YEAR = rf"(?:{_MONTH},?\s+{_YEAR}|\d{{1,2}}/{_YEAR})"
_ANY_DATE = rf"(?:{_FULL_DATE}|{_MONTH_YEAR}|{_YEAR})"
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_NUMBER = r"(?:\d+|" + "|".join(_NUMBER_WORDS) + r")"


def _number(text: str) -> int:
    return _NUMBER_WORDS.get(text.lower()) or int(text)


def _span(text: str) -> tuple[date, date] | None:
    """First and last day a date expression covers: a year, a month or one day."""
    text = text.strip().rstrip(".,")
    if re.fullmatch(_YEAR, text):
        year = int(text)
        return date(year, 1, 1), date(year, 12, 31)
    try:
        if re.fullmatch(_MONTH_YEAR, text, _FLAGS):
            month_year = text.replace("/", " ") if re.fullmatch(r"\d{1,2}/\d{4}", text) else text
            if re.fullmatch(r"\d{1,2} \d{4}", month_year):
                month, year = (int(p) for p in month_year.split())
            else:
                parsed = date_parser.parse(month_year, default=datetime(2000, 1, 1))
                month, year = parsed.month, parsed.year
            last = calendar.monthrange(year, month)[1]
            return date(year, month, 1), date(year, month, last)
        parsed = date_parser.parse(text, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError):
        return None
    return parsed.date(), parsed.date()


def _interval(start: date, end: date) -> str:
    return f"{start.isoformat()}/{end.isoformat()}"


# --- the rule tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    """A phrase that points to a kind of request, with how strongly."""

    kind: Kind
    weight: int
    pattern: re.Pattern[str]


def _cue(kind: Kind, weight: int, pattern: str) -> Cue:
    return Cue(kind, weight, re.compile(pattern, _FLAGS))


KIND_CUES: tuple[Cue, ...] = (
    _cue("api_access", 4, r"\bapi\s+(?:keys?|access|tokens?|credentials?)\b"),
    _cue("api_access", 4, r"\baccess\s+to\s+(?:the|your)\s+(?:[\w-]+\s+){0,3}api\b"),
    _cue("api_access", 2, r"\b(?:developer|application|app)\s+(?:key|token)\b"),
    _cue(
        "api_access",
        2,
        r"\b(?:calls?|requests?|queries)\s+(?:per|a|an|each|every)\s+(?:second|minute|hour|day)\b",
    ),
    _cue("api_access", 1, r"\b(?:api|endpoint)s?\b"),
    _cue(
        "open_data",
        4,
        r"\b(?:publish|post|add|upload|release|make\s+(?:\w+\s+)?available|put)\b[^.\n]{0,80}?"
        r"\b(?:open\s+data(?:\s+portal)?|data\s+portal|portal|online|website)\b",
    ),
    _cue("open_data", 1, r"\bopen\s+data\b"),
    _cue("open_data", 1, r"\bdata\s?sets?\b"),
    _cue("open_data", 1, r"\bmachine[-\s]readable\b"),
    _cue(
        "open_data",
        1,
        r"\b(?:kept\s+up\s+to\s+date|updated\s+(?:daily|weekly|monthly|regularly))\b",
    ),
    _cue("extract", 3, r"\b(?:extract|export|query|subset|filtered|data\s+pull|custom\s+report)\b"),
    _cue("extract", 1, r"\b(?:records?|rows?|entries)\s+(?:where|with|that\s+(?:have|show))\b"),
    _cue("public_records", 4, r"\bpublic\s+records?\s+(?:request|law|act|statute)\b"),
    _cue(
        "public_records",
        4,
        r"\b(?:c\.\s*66|ch(?:apter|\.)\s*66|g\.\s*l\.|m\.?g\.?l\.?|g\.s\.\s*132|chapter\s+132|132-\d"
        r"|foia|freedom\s+of\s+information)",
    ),
    _cue("public_records", 1, r"\b(?:copies|a\s+copy)\s+of\b"),
    _cue(
        "public_records",
        2,
        r"\b(?:e-?mails?|correspondence|memos?|memoranda|letters|contracts?|meeting\s+minutes"
        r"|invoices?|communications|text\s+messages|body[-\s]cam(?:era)?\s+footage|personnel)\b",
    ),
)

# (canonical value, pattern) in the order they are tried; GeoJSON before JSON.
FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (value, re.compile(pattern, _FLAGS))
    for value, pattern in (
        ("GeoJSON", r"\bgeo[-\s]?json\b"),
        ("CSV", r"\b(?:csv|comma[-\s]separated(?:\s+values?)?)\b"),
        ("JSON", r"(?<!geo)(?<!geo-)(?<!geo )\bjson\b"),
        ("spreadsheet", r"\b(?:spreadsheets?|excel|xlsx?|google\s+sheets?)\b"),
        ("PDF", r"\bpdfs?\b"),
        ("API", r"\b(?:apis?|(?:rest(?:ful)?\s+)?endpoints?)\b"),
    )
)
_FORMAT_CONTEXT = re.compile(
    r"(?:\b(?:in|as)\s+(?:an?\s+|the\s+)?)?{}(?:\s+(?:format|file|files|export|download))?",
    _FLAGS,
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|rather\s+than|instead\s+of|other\s+than)\b[\w\s]{0,14}$", _FLAGS
)

_TIME_STOP = (
    rf"(?:from|between)\s+{_ANY_DATE}|since\b|during\b|through\b|over\s+the\b|for\s+the\s+"
    rf"(?:period|years?|months?|last|past)\b|(?:in|for|of)\s+(?:the\s+)?(?:calendar\s+|fiscal\s+)?"
    rf"(?:year\s+)?{_YEAR}\b|in\s+the\s+(?:last|past)\b|(?:for\s+)?(?:the\s+)?(?:last|past)\s+"
    rf"{_NUMBER}\b"
)
_FORMAT_STOP = (
    r"(?:in|as)\s+(?:an?\s+|the\s+)?(?:csv|json|geo[-\s]?json|pdf|excel|xlsx?|spreadsheet|api)\b"
)
# Where a dataset or topic phrase ends.
_TOPIC_END = re.compile(
    rf"[.;:?!\n(]|,|\s(?:{_TIME_STOP}|{_FORMAT_STOP}|by\s+(?:{_MONTH}|\d)|so\s+(?:that|i|we)\b"
    r"|because\b|which\b|that\s+(?:i|we)\b|to\s+(?:use|help|support|build|create|analy[sz]e|map)"
    r"\b|on\s+(?:the|your|its|their)\s+(?:open\s+data|data\s+portal|portal|web\s?site)\b|online"
    r"\b|for\s+(?:a|an|my|our)\s|including\b|with\s+(?:the\s+)?(?:following|fields?|columns?)\b"
    r"|with\s+\w+,|please\b|if\s+(?:possible|available)\b|and\s+(?:i|we)\b|showing\b)",
    _FLAGS,
)
_TOPIC_LEAD = re.compile(
    r"^(?:(?:all|any|the|a|an|your|its|their|our|of|for|on|about|regarding|concerning|copies|copy"
    r"|list|lists"
    r"|some|every|current|complete|full|entire|most\s+recent|latest|available|information|info"
    r"|data|records?|details|access\s+to)\s+)+",
    _FLAGS,
)
_TOPIC_CUES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, _FLAGS | re.MULTILINE)
    for pattern in (
        r"^\s*(?:dataset|data\s?set|data|records?|topic|subject|request)\s*:\s*(?P<v>.+)$",
        r"\bapi\s+(?:keys?|access|tokens?)\s+(?:for|to)\s+(?:the\s+)?(?P<v>.+)",
        r"\baccess\s+to\s+(?:the|your)\s+(?P<v>(?:[\w-]+\s+){1,4}?)api\b",
        r"\bmake\s+(?P<v>[^.\n]{3,120}?)\s+(?:publicly\s+)?available\b",
        r"\b(?:(?:i|we)\s+(?:hereby\s+)?request|requesting|would\s+like(?:\s+to\s+(?:get|obtain|"
        r"receive|request|have|see))?|i'd\s+like(?:\s+to\s+(?:get|obtain|receive|request|have|see))?"
        r"|looking\s+for|seeking|asking\s+for|hoping\s+to\s+(?:get|obtain)|need|want|obtain"
        r"|please\s+(?:send|provide|share|publish|release)(?:\s+(?:me|us))?(?:\s+with)?"
        r"|(?:publish|release)|copies\s+of|a\s+copy\s+of)\s+(?P<v>.+)",
    )
)
_TRAILING_YEAR = re.compile(rf"(?:\s+(?:for|in|of))?\s+{_YEAR}$", _FLAGS)
_NOT_A_TOPIC = re.compile(
    r"^(?:to\b|it\b|this\b|that\b|these\b|those\b|you\b|help\b|know\b|if\b|whether\b|more\b"
    r"|assistance\b|an?\s+(?:answer|response|update)\b|information\s+(?:on|about)\s+how"
    r"|them\b|me\b|us\b)",
    _FLAGS,
)
_SUBJECT_NOISE = re.compile(
    r"^(?:(?:re|fwd?|aw)\s*:\s*|\[[^\]]*\]\s*|(?:public\s+records?|records?|data|open\s+data"
    r"|foia|api(?:\s+access)?|information)\s+request\s*(?:for|:|-|\u2013)?\s*|request\s+(?:for|:)\s*)+",
    _FLAGS,
)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "or",
        "any",
        "all",
        "some",
        "this",
        "that",
        "these",
        "those",
        "my",
        "our",
        "your",
        "please",
        "request",
        "requests",
        "question",
        "questions",
        "hello",
        "hi",
        "help",
        "inquiry",
        "info",
        "information",
        "data",
        "records",
        "record",
        "thanks",
        "thank",
        "you",
        "re",
        "fwd",
    ]
)

_FIELD_CUES: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern, _FLAGS), minimum)
    for pattern, minimum in (
        (
            r"\b(?:the\s+following\s+(?:fields|columns|attributes|information|data\s+points))"
            r"\s*:?\s*(?P<v>(?:\n?\s*(?:[-*•]|\d+[.)])\s*[^\n]+)+|[^.\n]+)",
            1,
        ),
        (
            r"\b(?:fields?|columns?|attributes|data\s+elements)\s*(?::|such\s+as|like|including"
            r"|needed\s*:|wanted\s*:)\s*(?P<v>[^.\n]+)",
            1,
        ),
        (
            r"\b(?:including|with|showing|that\s+(?:includes?|shows?)|listing|containing)\s+"
            r"(?:the\s+|their\s+|its\s+|each\s+\w+'s\s+)?(?P<v>[^.;\n]*?\b(?:and|&)\b[^.;\n]*)",
            3,
        ),
    )
)
_LIST_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\n\s*(?:[-*•]|\d+[.)])?)\s*", _FLAGS)
_ITEM_LEAD = re.compile(r"^(?:[-*•]|\d+[.)]|the|a|an|their|its|each|and|or)\s+", _FLAGS)
# Where a listed field ends: the period, the format, the use or the deadline that follow it.
_ITEM_TAIL = re.compile(
    rf"(?:^|\s)(?:{_TIME_STOP}|{_FORMAT_STOP}|fields?\b|columns?\b|for\s+(?:a|an|my|our)\s"
    rf"|so\s+that\b|please\b|by\s+(?:{_MONTH}|\d)|if\s+possible\b).*$",
    _FLAGS,
)

_RANGE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, _FLAGS))
    for name, pattern in (
        (
            "between",
            rf"\b(?:from|between)\s+(?P<a>{_ANY_DATE})\s*(?:to|through|thru|until|till|and|-|\u2013)\s*"
            rf"(?P<b>{_ANY_DATE})",
        ),
        ("dash", rf"\b(?P<a>{_ANY_DATE})\s*(?:-|\u2013|to|through|thru)\s*(?P<b>{_ANY_DATE})\b"),
        ("fiscal", rf"\b(?:fiscal\s+year|fy)\s*(?P<a>{_YEAR}|\d{{2}})\b"),
        (
            "since",
            rf"\b(?:since|after|starting(?:\s+(?:from|in))?|beginning(?:\s+in)?)\s+(?P<a>{_ANY_DATE})",
        ),
        (
            "relative",
            rf"\b(?:(?:for|over|in|during|from)\s+)?the\s+(?:last|past|previous)\s+(?P<n>{_NUMBER})"
            r"\s+(?P<unit>years?|months?|weeks?|days?)\b",
        ),
        (
            "last_year",
            r"\b(?:for\s+|during\s+|in\s+)?(?:last|the\s+previous)\s+(?:calendar\s+)?year\b",
        ),
        ("this_year", r"\b(?:year[-\s]to[-\s]date|ytd|so\s+far\s+this\s+year|this\s+year)\b"),
        (
            "single",
            rf"\b(?:in|for|during|of|from)\s+(?:the\s+)?(?:calendar\s+)?(?:year\s+)?"
            rf"(?P<a>{_MONTH_YEAR}|{_YEAR})\b",
        ),
    )
)
# In a subject line a bare year ("Building permits 2025") is the period asked for.
_SUBJECT_YEAR = re.compile(rf"(?<![\w/-])(?P<a>{_YEAR})(?![\w/-])")

_DEADLINE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, _FLAGS))
    for name, pattern in (
        (
            "date",
            rf"\b(?:by|before|no\s+later\s+than|not\s+later\s+than|prior\s+to|deadline(?:\s+is|\s+of)?"
            rf"\s*:?|due(?:\s+date)?(?:\s+is)?\s*:?)\s+(?:the\s+)?(?P<a>{_FULL_DATE}"
            rf"|{_MONTH}\s+{_DAY}\b|{_DAY}\s+(?:of\s+)?{_MONTH})",
        ),
        (
            "within",
            rf"\bwithin\s+(?P<n>{_NUMBER})\s+(?P<business>business\s+|working\s+)?"
            r"(?P<unit>days?|weeks?)\b",
        ),
        ("asap", r"\b(?:as\s+soon\s+as\s+possible|asap|urgent(?:ly)?|time[-\s]sensitive)\b"),
    )
)

_USE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, _FLAGS)
    for pattern in (
        r"\b(?:intended\s+use|purpose|use\s+case)(?:\s+of\s+(?:the|this)\s+(?:data|request))?"
        r"\s*(?:is|:|will\s+be)\s*(?P<v>[^.\n]+)",
        r"\b(?:to\s+be|will\s+be|would\s+be|is\s+to\s+be)\s+used\s+(?:for|to|in)\s+(?P<v>[^.\n]+)",
        r"\b(?:i|we)\s+(?:plan|intend|want|hope|would\s+like|am\s+going|are\s+going|need)\s+to\s+"
        r"(?P<v>(?:use|build|analy[sz]e|map|study|compare|create|develop|show|track|research|write"
        r"|visuali[sz]e|integrate|display|power|feed|report)\b[^.\n]*)",
        r"\bso\s+(?:that\s+)?(?:i|we)\s+can\s+(?P<v>[^.\n]+)",
        r"\b(?:for|in)\s+(?:a|an|my|our|the)\s+(?P<v>(?:[\w-]+\s+){0,3}?(?:research|study|project"
        r"|article|story|thesis|dissertation|class|course|app|application|website|dashboard"
        r"|analysis|report|paper|investigation|map|visuali[sz]ation|grant|proposal|newsletter"
        r"|book|podcast)\b[^.,;\n]*)",
    )
)

_FREQUENCY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, _FLAGS))
    for name, pattern in (
        (
            "rate",
            r"\b(?P<n>[\d,]+|an?|one|a\s+few|several)\s+(?:(?:api\s+)?(?:calls?|requests?|queries"
            r"|hits|times?|pulls?))\s+(?:per|a|an|each|every)\s+(?P<unit>second|minute|hour|day"
            r"|week|month)\b",
        ),
        (
            "every",
            r"\b(?:every|each)\s+(?P<n>\d+\s+)?(?P<unit>seconds?|minutes?|hours?|days?|weeks?"
            r"|night|morning)\b",
        ),
        (
            "adverb",
            r"\b(?P<word>hourly|daily|nightly|weekly|monthly|once\s+an?\s+(?:hour|day|week|month)"
            r"|twice\s+an?\s+(?:hour|day|week)|(?:in\s+)?real[-\s]time|continuously)\b",
        ),
    )
)

_PHONE = re.compile(r"(?<!\d)(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\d)")


# --- readers, one per field -----------------------------------------------------------------


def _value(value: str, source: str) -> ExtractedValue:
    return ExtractedValue(value=_collapse(value), source_text=_collapse(source))


def classify(text: str, extracted: dict[str, ExtractedValue]) -> tuple[Kind, ExtractedValue]:
    """The kind with the most cue weight; ties go by KINDS order; no cue: public_records."""
    scores: dict[Kind, int] = dict.fromkeys(KINDS, 0)
    first_cue: dict[Kind, tuple[int, str]] = {}
    for cue in KIND_CUES:
        for match in cue.pattern.finditer(text):
            scores[cue.kind] += cue.weight
            best = first_cue.get(cue.kind)
            if best is None or cue.weight > best[0]:
                first_cue[cue.kind] = (cue.weight, match.group(0))
    # a structured ask (fields, a period, a data format) reads as a custom extract
    for name in ("fields", "time_range"):
        if name in extracted:
            scores["extract"] += 1
            first_cue.setdefault("extract", (1, extracted[name].source_text))
    data_formats = {"CSV", "JSON", "GeoJSON", "spreadsheet"}
    if "format" in extracted and data_formats & set(extracted["format"].value.split(", ")):
        scores["extract"] += 1
        first_cue.setdefault("extract", (1, extracted["format"].source_text))
    kind = max(KINDS, key=lambda k: (scores[k], -KINDS.index(k)))
    if scores[kind] == 0:
        return "public_records", ExtractedValue(value="public_records", source_text="")
    return kind, _value(kind, first_cue[kind][1])


def read_formats(text: str) -> ExtractedValue | None:
    found: list[tuple[int, str, str]] = []
    for value, pattern in FORMATS:
        for match in pattern.finditer(text):
            if _NEGATION.search(text[max(0, match.start() - 30) : match.start()]):
                continue
            context = re.compile(_FORMAT_CONTEXT.pattern.format(pattern.pattern), _FLAGS)
            window_start = max(0, match.start() - 12)
            wide = context.search(text, window_start, match.end() + 20)
            source = wide.group(0) if wide and wide.start() <= match.start() else match.group(0)
            found.append((match.start(), value, source))
            break
    if not found:
        return None
    found.sort()
    return _value(", ".join(v for _, v, _ in found), found[0][2])


def _clean_topic(candidate: str) -> str | None:
    end = _TOPIC_END.search(candidate)
    topic = candidate[: end.start()] if end else candidate
    topic = _TOPIC_LEAD.sub("", topic.strip()).strip(" -\u2013\"'")
    topic = _TRAILING_YEAR.sub("", topic)
    words = re.findall(r"[\w'-]+", topic)
    if not words or len(words) > 16 or _NOT_A_TOPIC.match(topic):
        return None
    if not [w for w in words if w.lower() not in _STOPWORDS and not w.isdigit()]:
        return None
    return topic


def read_dataset(body: str, subject: str) -> ExtractedValue | None:
    for pattern in _TOPIC_CUES:
        for match in pattern.finditer(body):
            topic = _clean_topic(match.group("v"))
            if topic:
                start = match.start("v") + match.group("v").find(topic.split()[0])
                return _value(topic, body[match.start() : start + len(topic)])
    topic = _clean_topic(_SUBJECT_NOISE.sub("", subject.strip()))
    if topic:
        return _value(topic, subject)
    return None


def read_fields(text: str) -> ExtractedValue | None:
    for pattern, minimum in _FIELD_CUES:
        for match in pattern.finditer(text):
            items = []
            for raw in _LIST_SPLIT.split(match.group("v")):
                item = _ITEM_TAIL.sub("", _ITEM_LEAD.sub("", raw.strip())).strip(" .:-")
                if item and len(item.split()) <= 5 and item.lower() not in _STOPWORDS:
                    items.append(item)
            if len(items) >= minimum:
                return _value(", ".join(items), match.group(0))
    return None


def read_time_range(text: str, received_on: date, subject: str = "") -> ExtractedValue | None:
    for name, pattern in _RANGE_PATTERNS:
        for match in pattern.finditer(text):
            interval = _resolve_range(name, match, received_on)
            if interval is not None:
                return _value(_interval(*interval), match.group(0))
    year = _SUBJECT_YEAR.search(subject)
    if year and (span := _span(year.group("a"))):
        return _value(_interval(*span), year.group(0))
    return None


def _resolve_range(name: str, match: re.Match[str], received_on: date) -> tuple[date, date] | None:
    groups = match.groupdict()
    if name in ("between", "dash"):
        first, second = _span(groups["a"]), _span(groups["b"])
        if first is None or second is None or second[1] < first[0]:
            return None
        return first[0], second[1]
    if name == "fiscal":
        year = int(groups["a"])
        year = year + 2000 if year < 100 else year
        # Massachusetts and North Carolina municipal fiscal years both run July to June.
        return date(year - 1, 7, 1), date(year, 6, 30)
    if name == "since":
        span = _span(groups["a"])
        return (span[0], received_on) if span and span[0] <= received_on else None
    if name == "relative":
        unit = groups["unit"].lower().rstrip("s")
        count = _number(groups["n"])
        delta = {
            "year": relativedelta(years=count),
            "month": relativedelta(months=count),
            "week": relativedelta(weeks=count),
            "day": relativedelta(days=count),
        }[unit]
        return received_on - delta, received_on
    if name == "last_year":
        return date(received_on.year - 1, 1, 1), date(received_on.year - 1, 12, 31)
    if name == "this_year":
        return date(received_on.year, 1, 1), received_on
    return _span(groups["a"])


def read_deadline(text: str, received_on: date) -> ExtractedValue | None:
    for name, pattern in _DEADLINE_PATTERNS:
        for match in pattern.finditer(text):
            value = _resolve_deadline(name, match, received_on)
            if value is not None:
                return _value(value, match.group(0))
    return None


def _resolve_deadline(name: str, match: re.Match[str], received_on: date) -> str | None:
    if name == "asap":
        return "as soon as possible"
    if name == "within":
        count, unit = _number(match.group("n")), match.group("unit").lower().rstrip("s")
        if match.group("business"):
            return f"within {count} business days"
        days = count * 7 if unit == "week" else count
        return (received_on + relativedelta(days=days)).isoformat()
    written = match.group("a")
    if re.search(_YEAR, written):
        span = _span(written)
        return span[0].isoformat() if span else None
    try:  # month and day without a year: the next such day on or after receipt
        parsed = date_parser.parse(written, default=datetime(received_on.year, 1, 1)).date()
    except (ValueError, OverflowError):
        return None
    if parsed < received_on:
        parsed = parsed.replace(year=parsed.year + 1)
    return parsed.isoformat()


def read_intended_use(text: str) -> ExtractedValue | None:
    for pattern in _USE_PATTERNS:
        match = pattern.search(text)
        if match:
            return _value(match.group("v").strip(" ,;"), match.group(0))
    return None


def read_frequency(text: str) -> ExtractedValue | None:
    for name, pattern in _FREQUENCY_PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        if name == "rate":
            count = match.group("n").replace(",", "").lower()
            count = {"a": "1", "an": "1", "one": "1"}.get(count, count)
            value = f"{count} requests per {match.group('unit').lower()}"
        elif name == "every":
            count = (match.group("n") or "").strip()
            value = f"every {count} {match.group('unit').lower()}".replace("  ", " ")
        else:
            value = _collapse(match.group("word").lower().removeprefix("in "))
        return _value(value, match.group(0))
    return None


def read_contact(text: str) -> ExtractedValue | None:
    match = _PHONE.search(text)
    return _value(match.group(0), match.group(0)) if match else None


def extract_ask(subject: str, body: str, received_on: date) -> Ask:
    """Read a request's subject and free text. Deterministic for the same inputs."""
    subject = prepare(subject)
    body = prepare(body)
    text = f"{subject}\n{body}" if subject else body
    values: dict[str, ExtractedValue] = {}
    readers = {
        "dataset": lambda: read_dataset(body, subject),
        "fields": lambda: read_fields(body),
        "time_range": lambda: read_time_range(text, received_on, subject),
        "format": lambda: read_formats(text),
        "intended_use": lambda: read_intended_use(body),
        "deadline": lambda: read_deadline(body, received_on),
        "contact": lambda: read_contact(body),
    }
    for name, read in readers.items():
        found = read()
        if found is not None:
            values[name] = found
    kind, cue = classify(text, values)
    if kind == "api_access" and (frequency := read_frequency(text)):
        values["frequency"] = frequency
    return Ask(kind=kind, kind_cue=cue, values=values)
