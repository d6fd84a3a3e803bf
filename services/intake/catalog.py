"""What a jurisdiction already publishes: its DCAT-US 1.1 `data.json` catalog, and which of
those datasets a new request looks like.

Reading a catalog and matching against it are pure (no I/O). `import_catalog` fetches a
file or an http(s) URL and replaces the jurisdiction's datasets in one transaction; a
catalog that cannot be fetched or read changes nothing.
"""

import asyncio
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete
from sqlmodel import col, select

from services.intake.similarity import (
    Terms,
    inverse_document_frequency,
    matched_phrases,
    terms,
    weighted_coverage,
)
from shared.db.tables import CatalogDataset
from shared.unit_of_work import UnitOfWork

# How the score is made (weights sum to 1). The core is the F1 of two shares: how much of
# the dataset's title the request's topic names (rare title words weigh more), and how much
# of the topic the dataset's own words (title, keywords, description) explain. Then: its
# keywords found in the request, and its title words found anywhere in the request.
TOPIC_FIT = 0.70
KEYWORDS = 0.15
TITLE_IN_TEXT = 0.15
KEYWORDS_FOR_FULL_CREDIT = 2
MIN_SCORE = 0.2  # below this a "match" is noise and is not reported
MAX_MATCHES = 3


class CatalogError(ValueError):
    """The file is not a DCAT-US catalog; the message says what is wrong."""


class DcatDistribution(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    title: str | None = None
    download_url: str | None = Field(default=None, alias="downloadURL")
    access_url: str | None = Field(default=None, alias="accessURL")
    media_type: str | None = Field(default=None, alias="mediaType")
    format: str | None = None


def _as_list(value: Any) -> list[str]:
    """DCAT-US says arrays; portals also write one comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [str(part).strip() for part in value if str(part).strip()]
    raise ValueError("must be a list of strings")


class DcatDataset(BaseModel):
    """The fields of a DCAT-US 1.1 dataset that intake uses; the rest are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    identifier: str = Field(min_length=1, max_length=500)
    title: str = Field(min_length=1)
    description: str = ""
    keyword: list[str] = []
    theme: list[str] = []
    landing_page: str | None = Field(default=None, alias="landingPage")
    distribution: list[DcatDistribution] = []
    modified: str | None = Field(default=None, max_length=64)
    access_level: str = Field(default="public", alias="accessLevel")

    @field_validator("keyword", "theme", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> list[str]:
        return _as_list(value)

    @field_validator("identifier", "title", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


@dataclass(frozen=True)
class CatalogReading:
    datasets: list[DcatDataset]
    problems: list[str] = field(default_factory=list)  # datasets skipped, and why
    not_public: int = 0  # datasets whose accessLevel is not "public": not published data


def read_catalog(raw: bytes) -> CatalogReading:
    """Parse a data.json. Raises CatalogError when the file as a whole is not a catalog or
    holds no usable dataset; single bad datasets are skipped and listed in `problems`."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("dataset"), list):
        raise CatalogError('not a DCAT-US catalog: expected an object with a "dataset" array')
    datasets: list[DcatDataset] = []
    problems: list[str] = []
    seen: set[str] = set()
    not_public = 0
    for position, entry in enumerate(document["dataset"]):
        where = f"dataset[{position}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not an object")
            continue
        try:
            dataset = DcatDataset.model_validate(entry)
        except ValidationError as exc:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(dataset)'}: {err['msg']}"
                for err in exc.errors()
            )
            problems.append(f"{where}: {reasons}")
            continue
        if dataset.identifier in seen:
            problems.append(
                f"{where}: identifier {dataset.identifier!r} appears twice; kept the first"
            )
            continue
        seen.add(dataset.identifier)
        if dataset.access_level.lower() != "public":
            not_public += 1
            continue
        datasets.append(dataset)
    if not datasets:
        detail = f" ({'; '.join(problems[:5])})" if problems else ""
        raise CatalogError(f"no public dataset could be read{detail}")
    return CatalogReading(datasets=datasets, problems=problems, not_public=not_public)


def _rows(jurisdiction: str, reading: CatalogReading, at: datetime) -> list[CatalogDataset]:
    return [
        CatalogDataset(
            jurisdiction=jurisdiction,
            identifier=d.identifier,
            title=d.title,
            description=d.description,
            keywords=d.keyword,
            themes=d.theme,
            landing_page=d.landing_page,
            distributions=[x.model_dump(exclude_none=True) for x in d.distribution],
            modified=d.modified,
            imported_at=at,
        )
        for d in reading.datasets
    ]


MAX_CATALOG_BYTES = 200 * 1024 * 1024  # a big city's data.json is a few MB


async def fetch_catalog(source: str, timeout: float = 60.0) -> bytes:
    """The bytes of a catalog file, or of an http(s) URL (redirects followed)."""
    if source.startswith(("http://", "https://")):
        async with httpx.AsyncClient(follow_redirects=True, timeout=timeout) as client:
            try:
                response = await client.get(source, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                raise CatalogError(f"cannot fetch {source}: {exc!r}") from exc
        if response.status_code != 200:
            raise CatalogError(f"cannot fetch {source}: HTTP {response.status_code}")
        return response.content
    return await asyncio.to_thread(_read_file, Path(source))


def _read_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_CATALOG_BYTES:
            raise CatalogError(f"{path}: larger than {MAX_CATALOG_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror or exc}") from exc


@dataclass(frozen=True)
class ImportReport:
    jurisdiction: str
    imported: int
    replaced: int
    not_public: int
    problems: list[str]


async def import_catalog(
    new_uow: Callable[[], UnitOfWork], jurisdiction: str, source: str
) -> ImportReport:
    """Fetch, read and store a catalog, replacing the jurisdiction's datasets."""
    reading = read_catalog(await fetch_catalog(source))
    async with new_uow() as uow:
        replaced = await replace_catalog(uow, jurisdiction, reading)
        await uow.commit()
    return ImportReport(
        jurisdiction, len(reading.datasets), replaced, reading.not_public, reading.problems
    )


async def replace_catalog(uow: UnitOfWork, jurisdiction: str, reading: CatalogReading) -> int:
    """Replace the jurisdiction's datasets with the catalog's, in the caller's transaction;
    returns how many datasets there were before."""
    result = await uow.session.execute(
        delete(CatalogDataset).where(col(CatalogDataset.jurisdiction) == jurisdiction)
    )
    uow.session.add_all(_rows(jurisdiction, reading, uow.clock.now()))
    await uow.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


# --- matching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogEntry:
    """A published dataset as matching sees it."""

    identifier: str
    title: str
    keywords: tuple[str, ...] = ()
    description: str = ""
    landing_page: str | None = None
    url: str | None = None

    @classmethod
    def from_row(cls, row: CatalogDataset) -> "CatalogEntry":
        url = next(
            (d.get("downloadURL") or d.get("accessURL") for d in row.distributions if d), None
        )
        return cls(
            row.identifier,
            row.title,
            tuple(row.keywords),
            row.description,
            row.landing_page,
            url,
        )


@dataclass(frozen=True)
class CatalogMatch:
    identifier: str
    title: str
    score: float
    matched_text: str
    landing_page: str | None
    url: str | None

    def as_event_data(self) -> dict[str, Any]:
        return {
            "dataset_id": self.identifier,
            "title": self.title,
            "score": self.score,
            "matched_text": self.matched_text,
            "landing_page": self.landing_page,
            "url": self.url or self.landing_page,
        }


@dataclass(frozen=True)
class _Indexed:
    entry: CatalogEntry
    title: Terms
    keywords: tuple[Terms, ...]
    vocabulary: frozenset[str]  # every stem the dataset's title, keywords and description use

    @classmethod
    def of(cls, entry: CatalogEntry) -> "_Indexed":
        title = terms(entry.title)
        keywords = tuple(t for k in entry.keywords if (t := terms(k)).stems)
        vocabulary = title.stem_set.union(
            terms(entry.description).stem_set, *(k.stem_set for k in keywords)
        )
        return cls(entry, title, keywords, vocabulary)


def _f1(first: float, second: float) -> float:
    return 2 * first * second / (first + second) if first + second else 0.0


class CatalogIndex:
    """One jurisdiction's datasets, ready to score requests against. Words that many dataset
    titles share (the town's name, "data") count less than rare ones."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self._items = [_Indexed.of(e) for e in entries]
        self._weight = inverse_document_frequency(
            item.title.stem_set.union(*(k.stem_set for k in item.keywords)) for item in self._items
        )

    def __len__(self) -> int:
        return len(self._items)

    def score(self, item: _Indexed, topic: Terms, text: Terms) -> tuple[float, frozenset[str]]:
        named, found_topic = weighted_coverage(item.title.stems, topic.stem_set, self._weight)
        # years and numbers are the period asked for, not the topic
        topic_words = [s for s in topic.stems if not s.isdigit()]
        explained = (
            sum(1 for s in topic_words if s in item.vocabulary) / len(topic_words)
            if topic_words
            else 0.0
        )
        in_text, found_text = weighted_coverage(item.title.stems, text.stem_set, self._weight)
        keyword_hits = [k for k in item.keywords if k.stem_set <= text.stem_set]
        keywords = min(1.0, len(keyword_hits) / KEYWORDS_FOR_FULL_CREDIT)
        score = TOPIC_FIT * _f1(named, explained) + KEYWORDS * keywords + TITLE_IN_TEXT * in_text
        matched = frozenset(found_topic) | frozenset(found_text)
        matched = matched.union(*(k.stem_set for k in keyword_hits))
        return round(min(score, 1.0), 3), matched

    def match(self, topic: str, text: str, limit: int = MAX_MATCHES) -> list[CatalogMatch]:
        """The best-scoring datasets for a request, best first (ties by title, then id).

        `topic` is what the request names as its dataset (or its subject); `text` is all of it.
        """
        request_text = f"{topic}\n{text}"
        topic_terms, text_terms = terms(topic), terms(request_text)
        scored = []
        for item in self._items:
            score, matched = self.score(item, topic_terms, text_terms)
            if score >= MIN_SCORE and matched:
                scored.append((score, item, matched))
        scored.sort(key=lambda s: (-s[0], s[1].entry.title, s[1].entry.identifier))
        return [
            CatalogMatch(
                identifier=item.entry.identifier,
                title=item.entry.title,
                score=score,
                matched_text=matched_phrases(request_text, matched),
                landing_page=item.entry.landing_page,
                url=item.entry.url,
            )
            for score, item, matched in scored[:limit]
        ]


async def load_index(uow: UnitOfWork, jurisdiction: str) -> CatalogIndex:
    rows = (
        await uow.session.exec(
            select(CatalogDataset).where(CatalogDataset.jurisdiction == jurisdiction)
        )
    ).all()
    return CatalogIndex(CatalogEntry.from_row(r) for r in rows)


def match_data(matches: Sequence[CatalogMatch]) -> list[dict[str, Any]]:
    return [m.as_event_data() for m in matches]
