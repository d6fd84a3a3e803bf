"""Outgoing mail: the headers a requester's mail client relies on, and nothing they can inject."""

from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from services.notify.composer import (
    MAX_REFERENCES,
    Outgoing,
    TemplateBook,
    compose,
    message_id_for,
    thread_headers,
)
from shared.policy import Policy, PolicyBook

WORCESTER: Policy = PolicyBook.load(Path(__file__).parents[2] / "shared" / "policies")[
    "worcester-ma"
]
EVENT_ID = UUID("0b6f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b")
REPLY_TO = "records+wor-2026-000001.abcdefghijkl@worcester-ma.example"


def make(subject: str = "Payroll 2025", name: str = "Ann Lee", thread: list[str] | None = None):  # type: ignore[no-untyped-def]
    outgoing = Outgoing("receipt", "ann@example.org", name, subject, {})
    return compose(
        WORCESTER,
        outgoing,
        ref="WOR-2026-000001",
        message_id=message_id_for(EVENT_ID, "receipt", "ann@example.org", WORCESTER.mail_domain),
        reply_to=REPLY_TO,
        thread=thread if thread is not None else ["<first@example.org>"],
        date=datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
        text="Dear Ann,\n",
        html="<p>Dear Ann,</p>\n",
    )


def header_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def test_receipt_mail_carries_every_header_the_requester_needs() -> None:
    message = message_from_bytes(make().as_bytes(), policy=policy.default)
    assert (
        message["From"] == "City of Worcester Records Access Office <records@worcester-ma.example>"
    )
    assert message["To"] == "Ann Lee <ann@example.org>"
    assert message["Reply-To"] == REPLY_TO
    assert message["Subject"] == "[WOR-2026-000001] Payroll 2025"
    assert message["Message-ID"].startswith(f"<{EVENT_ID}.receipt.")
    assert message["In-Reply-To"] == "<first@example.org>"
    assert message["References"] == "<first@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-RecordsDesk-Reference"] == "WOR-2026-000001"
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        ("Payroll\r\nBcc: spy@evil.example", "Ann Lee"),
        ("Payroll", "Ann\r\nBcc: spy@evil.example"),
    ],
)
def test_line_breaks_typed_by_a_requester_cannot_add_a_header(subject: str, name: str) -> None:
    raw = make(subject=subject, name=name).as_bytes()
    assert not any(line.lower().startswith(b"bcc:") for line in header_lines(raw))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert "\n" not in parsed["Subject"] and "\r" not in parsed["Subject"]


def test_unicode_line_separator_in_subject_is_flattened_not_fatal() -> None:
    message = make(subject="Payroll\u2028Bcc: spy@evil.example")
    assert message["Subject"] == "[WOR-2026-000001] Payroll Bcc: spy@evil.example"


def test_thread_headers_reply_to_latest_and_cap_references_keeping_the_first() -> None:
    thread = [f"<m{i}@example.org>" for i in range(15)]
    in_reply_to, references = thread_headers(thread)
    assert in_reply_to == "<m14@example.org>"
    kept = (references or "").split(" ")
    assert len(kept) == MAX_REFERENCES
    assert kept[0] == "<m0@example.org>"
    assert kept[1:] == thread[-(MAX_REFERENCES - 1) :]
    assert thread_headers([]) == (None, None)
    assert thread_headers(thread[:3]) == ("<m2@example.org>", " ".join(thread[:3]))


def test_message_id_is_stable_and_differs_by_recipient() -> None:
    one = message_id_for(EVENT_ID, "receipt", "ann@example.org", "worcester-ma.example")
    assert one == message_id_for(EVENT_ID, "receipt", "Ann@Example.org", "worcester-ma.example")
    assert one != message_id_for(EVENT_ID, "receipt", "bob@example.org", "worcester-ma.example")
    assert one.startswith(f"<{EVENT_ID}.receipt.") and one.endswith("@worcester-ma.example>")


def receipt_context(subject: str) -> dict[str, Any]:
    return {
        "policy": WORCESTER,
        "ref": "WOR-2026-000001",
        "subject": subject,
        "requester_name": "Ann Lee",
        "status_url": "http://127.0.0.1:8080/v1/status/abc",
        "received_local": "Sunday, November 22, 2026 at 10:00 EST",
        "ack_due": "Wednesday, November 25, 2026",
        "response_due": "Tuesday, December 8, 2026",
        "response_explained": "skipping Thanksgiving Day (11-26); due Tue 2026-12-08",
    }


def test_receipt_escapes_markup_in_requester_subject_in_html_but_keeps_text_verbatim() -> None:
    typed = "<script>alert(1)</script> payroll"
    text, html = TemplateBook().render("receipt", receipt_context(typed))
    assert typed in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; payroll" in html
    for part in (text, html):
        assert "WOR-2026-000001" in part and "Tuesday, December 8, 2026" in part
