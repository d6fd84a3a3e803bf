"""How alike two pieces of request text are: content words, stemmed, and overlap scores.

Pure and deterministic: no I/O. Every score is in 0..1 and comes with the words that
matched, so it can be explained to staff.
"""

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")
_CLAUSE_BREAK = re.compile(r"[.!?;:,\n]+")
_MAX_GAP = 2  # stopwords that may sit between two matched words of one phrase

# Function words and the boilerplate every request shares; they say nothing about the ask.
STOPWORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me more
    most my no nor not now of off on once only or other our ours out over own please same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours dear hello hi thanks thank regards sincerely best like want need get
    request requests requesting requested copy copies send provide information info data record
    records file files list any every etc i'd i'm we're it's let know us
    """.split()  # noqa: SIM905 - a word list reads best so
)

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


@dataclass(frozen=True)
class Terms:
    """A text's content words: stems in order of first appearance, each with the word seen."""

    stems: tuple[str, ...]
    surface: dict[str, str]

    @property
    def stem_set(self) -> frozenset[str]:
        return frozenset(self.stems)

    def words_for(self, stems: Iterable[str]) -> str:
        """The text's own words for these stems, in the order the text has them."""
        wanted = set(stems)
        return " ".join(self.surface[s] for s in self.stems if s in wanted)


def terms(text: str) -> Terms:
    seen: dict[str, str] = {}
    for word in _TOKEN.findall(text.lower()):
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        seen.setdefault(stem(word), word)
    return Terms(stems=tuple(seen), surface=seen)


def matched_phrases(text: str, stems: Iterable[str]) -> str:
    """Where in the text the given stems occur, as its own words: the runs of matched words
    (stopwords may sit inside a run), the run covering most stems first, then others until
    every stem is shown; runs are joined with " … ". Example: "building permits"."""
    wanted = set(stems)
    runs: list[list[tuple[str, str | None]]] = []
    for segment in _CLAUSE_BREAK.split(text.lower()):
        current: list[tuple[str, str | None]] = []
        gap = 0
        for word in _TOKEN.findall(segment):
            key = None if word in STOPWORDS else stem(word)
            gap = gap + 1 if key is None else 0
            if (key is not None and key not in wanted) or gap > _MAX_GAP:
                if current:
                    runs.append(current)
                current = []
                continue
            if key is None and not current:
                continue
            current.append((word, key))
        if current:
            runs.append(current)
    candidates = []
    for position, run in enumerate(runs):
        while run and run[-1][1] is None:
            run = run[:-1]
        covered = {key for _, key in run if key is not None}
        if covered:
            candidates.append((-len(covered), position, " ".join(w for w, _ in run), covered))
    shown: list[tuple[int, str]] = []
    seen: set[str] = set()
    for _, position, phrase, covered in sorted(candidates):
        if covered - seen:
            shown.append((position, phrase))
            seen |= covered
        if seen >= wanted:
            break
    return " \u2026 ".join(phrase for _, phrase in sorted(shown))


def weighted_coverage(
    needles: Iterable[str], haystack: frozenset[str], weight: Callable[[str], float]
) -> tuple[float, list[str]]:
    """Share of the needles' weight found in the haystack, and the needles found."""
    total = 0.0
    found_weight = 0.0
    found: list[str] = []
    for needle in needles:
        w = weight(needle)
        total += w
        if needle in haystack:
            found_weight += w
            found.append(needle)
    return (found_weight / total if total else 0.0), found


def inverse_document_frequency(documents: Iterable[frozenset[str]]) -> Callable[[str], float]:
    """Rare words weigh more than words every document has (smoothed, always > 0)."""
    counts: dict[str, int] = {}
    size = 0
    for document in documents:
        size += 1
        for word in document:
            counts[word] = counts.get(word, 0) + 1

    def weight(word: str) -> float:
        return math.log(1 + (size + 1) / (1 + counts.get(word, 0)))

    return weight


@dataclass(frozen=True)
class Likeness:
    score: float
    shared: str  # the shared words, as the first text has them


def same_ask(first: str, second: str) -> Likeness:
    """How much two requests ask for the same thing: the overlap coefficient of their content
    words; none at all when both name years and no year is shared (2024 is not 2025)."""
    a, b = terms(first), terms(second)
    a_set, b_set = a.stem_set, b.stem_set
    if not a_set or not b_set:
        return Likeness(0.0, "")
    a_years = {s for s in a_set if _YEAR.match(s)}
    b_years = {s for s in b_set if _YEAR.match(s)}
    if a_years and b_years and not a_years & b_years:
        return Likeness(0.0, "")
    shared = a_set & b_set
    return Likeness(round(len(shared) / min(len(a_set), len(b_set)), 3), a.words_for(shared))
