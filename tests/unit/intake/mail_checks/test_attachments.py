"""Attachment names made safe, duplicates told apart, the size limit applied."""

from dataclasses import dataclass

import pytest

from services.intake.mail_checks.attachments import safe_filename, unique_names, within_limit


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("report.csv", "text/csv", "report.csv"),
        ("../../etc/passwd", "application/octet-stream", "passwd"),
        ("C:\\Users\\ann\\Desktop\\map.pdf", "application/pdf", "map.pdf"),
        ("bad\x00name\x07.txt", "text/plain", "badname.txt"),
        ('what?<is>"this":*|.txt', "text/plain", "what__is__this____.txt"),
        ("  .hidden  ", "text/plain", "hidden"),
        ("CON", "text/plain", "_CON"),
        ("lpt1.txt", "text/plain", "_lpt1.txt"),
        ("Cafe\u0301.pdf", "application/pdf", "Caf\u00e9.pdf"),
        (None, "application/pdf", "attachment-3.pdf"),
        ("", "text/plain", "attachment-3.txt"),
        ("/", "application/x-unheard-of", "attachment-3.bin"),
    ],
)
def test_attachment_names_become_plain_safe_file_names(
    name: str | None, content_type: str, expected: str
) -> None:
    assert safe_filename(name, content_type, 3) == expected


def test_a_very_long_name_is_cut_but_keeps_its_extension() -> None:
    name = safe_filename("x" * 400 + ".csv", "text/csv", 1)
    assert len(name) == 150
    assert name.endswith(".csv")


def test_repeated_names_are_numbered_ignoring_case() -> None:
    names = ["report.csv", "Report.csv", "report.csv", "notes", "notes"]
    assert unique_names(names) == [
        "report.csv",
        "Report (2).csv",
        "report (3).csv",
        "notes",
        "notes (2)",
    ]


@dataclass
class Blob:
    size: int


def test_attachments_over_the_limit_are_set_apart_by_position() -> None:
    verdict = within_limit([Blob(10), Blob(2049), Blob(2048)], 2048)
    assert verdict.kept == [0, 2]
    assert verdict.too_large == [1]
