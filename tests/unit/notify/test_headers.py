"""Headers nothing typed can break, and a thread in the order it happened."""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from uuid import UUID

import pytest

from services.notify.composer import (
    Outgoing,
    compose,
    merge_thread,
    message_id_for,
    one_line,
    thread_headers,
)
from shared.policy import PolicyBook

WORCESTER = PolicyBook.load(Path(__file__).parents[3] / "shared" / "policies")["worcester-ma"]
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def raw_mail(subject: str = "Trees", name: str = "Ann", thread: list[str] | None = None) -> bytes:
    return compose(
        WORCESTER,
        Outgoing("receipt", "ann@example.org", name, subject),
        ref="WOR-2026-000001",
        message_id=message_id_for(
            UUID(int=7), "receipt", "ann@example.org", "worcester-ma.example"
        ),
        reply_to="records+wor-2026-000001.abcdefghijkl@worcester-ma.example",
        thread=thread or [],
        date=T0,
        text="hello\n",
        html="<p>hello</p>\n",
    ).as_bytes()


@pytest.mark.parametrize(
    "separator", ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x00"]
)
def test_no_line_separator_in_a_subject_or_name_can_start_a_header(separator: str) -> None:
    raw = raw_mail(
        subject=f"Trees{separator}Bcc: spy@evil.example",
        name=f"Ann{separator}Bcc: spy@evil.example",
    )
    headers = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert not any(line.lower().startswith(b"bcc") for line in headers)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "[WOR-2026-000001] Trees Bcc: spy@evil.example"


def test_one_line_keeps_ordinary_text() -> None:
    assert one_line("  Café — 2025 budget\t(draft) ") == "Café — 2025 budget (draft)"


def test_a_malformed_message_id_in_the_thread_is_left_out_of_the_headers() -> None:
    in_reply_to, references = thread_headers(["<a@x>", "<b@x>\r\nBcc: spy@evil.example", "junk"])
    assert (in_reply_to, references) == ("<a@x>", "<a@x>")


def test_thread_keeps_the_requesters_first_message_first_then_orders_by_time() -> None:
    inbound = ["<first@r>", "<reply@r>"]
    ours = [("<receipt@us>", T0 + timedelta(minutes=1)), ("<question@us>", T0 + timedelta(days=1))]
    thread = merge_thread(inbound, {"<reply@r>": T0 + timedelta(days=2)}, ours, T0)
    assert thread == ["<first@r>", "<receipt@us>", "<question@us>", "<reply@r>"]
    assert thread_headers(thread)[0] == "<reply@r>"


def test_thread_of_a_web_request_is_our_own_earlier_mail() -> None:
    ours = [("<receipt@us>", T0)]
    assert merge_thread([], {}, ours, T0) == ["<receipt@us>"]
    assert merge_thread([], {}, [], T0) == []


def test_date_header_comes_from_the_injected_instant() -> None:
    parsed = message_from_bytes(raw_mail(), policy=policy.default)
    assert parsed["Date"].datetime == T0
