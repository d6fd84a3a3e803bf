"""Attachment names made safe to show and save, and the policy's size limit. Pure: no I/O.

A name comes from the sender: it may be a path (`../../etc/passwd`, `C:\\Users\\x.pdf`),
carry control characters, be missing, or repeat another attachment's name. Staff tools
must never be handed one of those as it came.
"""

import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_NAME_LENGTH = 150
_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


class Sized(Protocol):
    @property
    def size(self) -> int: ...


def _extension_for(content_type: str) -> str:
    if content_type == "text/plain":
        return ".txt"
    return mimetypes.guess_extension(content_type, strict=False) or ".bin"


def safe_filename(name: str | None, content_type: str, position: int) -> str:
    """A plain file name (no folders, no control characters), never empty."""
    cleaned = unicodedata.normalize("NFC", name or "")
    cleaned = cleaned.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in cleaned if unicodedata.category(c)[0] != "C")
    cleaned = _FORBIDDEN.sub("_", cleaned)
    cleaned = " ".join(cleaned.split()).strip(". ")
    if _WINDOWS_DEVICES.match(cleaned):
        cleaned = f"_{cleaned}"
    if len(cleaned) > MAX_NAME_LENGTH:
        stem, dot, ext = cleaned.rpartition(".")
        ext = f".{ext}" if dot and len(ext) <= 10 else ""
        cleaned = (stem if dot else cleaned)[: MAX_NAME_LENGTH - len(ext)] + ext
    return cleaned or f"attachment-{position}{_extension_for(content_type)}"


def unique_names(names: Sequence[str]) -> list[str]:
    """`report.csv`, `report.csv` -> `report.csv`, `report (2).csv` (case-insensitively)."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, ext = name, ""
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


@dataclass(frozen=True)
class SizeVerdict:
    """Which attachments (by position) are stored, and which are over the limit."""

    kept: list[int]
    too_large: list[int]


def within_limit(attachments: Sequence[Sized], limit_bytes: int) -> SizeVerdict:
    kept = [i for i, a in enumerate(attachments) if a.size <= limit_bytes]
    too_large = [i for i, a in enumerate(attachments) if a.size > limit_bytes]
    return SizeVerdict(kept=kept, too_large=too_large)
