"""Inbound mail bytes -> the facts intake files a request from."""

import pytest

from services.intake.parsing import (
    UnparseableMail,
    decode_bytes,
    decode_header_value,
    html_to_text,
    parse_mail,
    storable,
    trim_reply,
)

PLAIN = (
    b"From: Ann Lee <Ann.Lee@Example.org>\r\n"
    b"To: Records@Worcester-MA.example\r\n"
    b"Cc: Clerk <CLERK@worcester-ma.example>\r\n"
    b"Delivered-To: Records+wor-2026-000001.abc@Worcester-MA.example\r\n"
    b"Subject: Payroll data 2025\r\n"
    b"Message-ID: <abc123@mail.example.org>\r\n"
    b"In-Reply-To: <m2@worcester-ma.example>\r\n"
    b"References: <m1@worcester-ma.example>\r\n\t<m2@worcester-ma.example>\r\n"
    b"\r\n"
    b"Please send the 2025 payroll as CSV.\r\n"
)


def test_sender_name_subject_and_text_are_read() -> None:
    mail = parse_mail(PLAIN)
    assert mail.sender == "ann.lee@example.org"
    assert mail.sender_name == "Ann Lee"
    assert mail.subject == "Payroll data 2025"
    assert mail.text == "Please send the 2025 payroll as CSV."
    assert mail.message_id == "<abc123@mail.example.org>"
    assert mail.headers["subject"] == "Payroll data 2025"


def test_recipients_include_to_and_cc_lower_cased() -> None:
    recipients = parse_mail(PLAIN).recipients
    assert "records@worcester-ma.example" in recipients
    assert "clerk@worcester-ma.example" in recipients


def test_recipients_include_delivered_to_lower_cased() -> None:
    assert parse_mail(PLAIN).recipients == [
        "records+wor-2026-000001.abc@worcester-ma.example",
        "records@worcester-ma.example",
        "clerk@worcester-ma.example",
    ]


def test_reply_threading_headers_are_split_into_message_ids() -> None:
    mail = parse_mail(PLAIN)
    assert mail.in_reply_to == ["<m2@worcester-ma.example>"]
    assert mail.references == ["<m1@worcester-ma.example>", "<m2@worcester-ma.example>"]


def test_message_without_message_id_gets_a_stable_derived_one() -> None:
    raw = b"From: ann@example.org\r\nSubject: Budget\r\n\r\nBudget please.\r\n"
    first, again = parse_mail(raw), parse_mail(raw)
    assert first.message_id == again.message_id
    assert first.message_id.startswith("<") and first.message_id.endswith("@derived.recordsdesk>")
    assert parse_mail(raw + b"Thanks.\r\n").message_id != first.message_id


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"To: records@worcester-ma.example\r\nSubject: hi\r\n\r\nhello\r\n", id="no-from"),
        pytest.param(b"From: a@example.org, b@example.org\r\n\r\nhello\r\n", id="two-senders"),
        pytest.param(b"From: Ann Lee\r\n\r\nhello\r\n", id="no-address"),
    ],
)  # fmt: skip
def test_mail_without_one_sender_address_is_unparseable(raw: bytes) -> None:
    with pytest.raises(UnparseableMail):
        parse_mail(raw)


def test_html_only_body_yields_text_without_tags() -> None:
    raw = (
        b"From: ann@example.org\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><body><p>Please send <b>road repair</b> data.</p></body></html>\r\n"
    )
    text = parse_mail(raw).text
    assert "<" not in text and ">" not in text
    assert "Please send" in text and "road repair" in text


def test_html_only_body_decodes_entities() -> None:
    raw = b"From: ann@example.org\r\nContent-Type: text/html\r\n\r\n<p>Budget &amp; payroll</p>\r\n"
    assert parse_mail(raw).text == "Budget & payroll"


def test_unreadable_cc_header_is_skipped_not_fatal() -> None:
    raw = b"From: ann@example.org\r\nTo: records@worcester-ma.example\r\nCc: <\r\n\r\nhello\r\n"
    mail = parse_mail(raw)
    assert mail.sender == "ann@example.org"
    assert mail.recipients == ["records@worcester-ma.example"]


@pytest.mark.parametrize(
    ("data", "declared", "text"),
    [
        (b"caf\xc3\xa9", "iso-8859-1", "café"),  # UTF-8 labelled latin-1
        (
            b"\x93quoted\x94 \x96 dash",
            "iso-8859-1",
            "\u201cquoted\u201d \u2013 dash",
        ),  # cp1252 as latin-1
        (b"\x93quoted\x94", None, "“quoted”"),  # 8-bit, no label
        (b"caf\xe9", "utf-8", "café"),  # latin-1 labelled UTF-8
        (b"Z\xc3\xbcrich", "x-unknown-charset", "Zürich"),
        (b"Montr\xe9al", "unknown-8bit", "Montréal"),
        ("привет".encode("koi8-r"), "koi8-r", "привет"),
        (b"plain ascii", "x-bogus", "plain ascii"),
        (b"\x81\x8d", "latin1", "\x81\x8d"),  # bytes cp1252 leaves undefined
    ],
)
def test_text_is_readable_whatever_the_declared_charset_says(
    data: bytes, declared: str | None, text: str
) -> None:
    assert decode_bytes(data, declared)[0] == text


def test_a_repaired_charset_is_noted_for_staff() -> None:
    assert decode_bytes(b"caf\xc3\xa9", "iso-8859-1")[1] == "declared iso-8859-1, read as utf-8"
    assert decode_bytes(b"cafe", "iso-8859-1")[1] is None


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("=?utf-8?q?Caf=C3=A9?= =?iso-8859-1?q?_cr=E8me?=", "Café crème"),
        ("Hello =?utf-8?b?V8O2cmxk?=", "Hello Wörld"),
        ("=?x-unknown?q?caf=C3=A9?=", "café"),
        ("=?utf-8?b?!!!broken?=", "=?utf-8?b?!!!broken?="),
        ("folded\r\n line", "folded line"),
        ("R\udcc3\udca9sum\udcc3\udca9", "Résumé"),  # raw UTF-8 bytes the parser kept
    ],
)
def test_header_values_are_decoded_and_repaired(raw: str, text: str) -> None:
    assert decode_header_value(raw) == text


def test_html_becomes_lines_of_visible_text() -> None:
    html = (
        "<html><head><style>p{}</style><title>t</title></head><body>"
        "<h1>Title</h1><p>One&nbsp;two<br>three</p><table><tr><td>a</td><td>b</td></tr></table>"
        "<script>x()</script></body></html>"
    )
    assert html_to_text(html) == "Title\n\nOne two\nthree\n\na b"


def test_trimming_keeps_only_the_newest_reply_and_falls_back_to_the_whole_text() -> None:
    reply = "Only 2025, please.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Clerk <c@x.example> wrote:\n> Which year?\n"
    assert trim_reply(reply) == "Only 2025, please."
    assert trim_reply("Just this.") == "Just this."


def test_an_inline_html_part_after_the_body_and_an_unnamed_csv_are_kept() -> None:
    raw = (
        b"From: ann@example.org\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nFirst part.\n"
        b"--b\nContent-Type: text/html\n\n<p>Second &amp; last part.</p>\n"
        b"--b\nContent-Type: text/csv\n\na,b\n--b--\n"
    )
    mail = parse_mail(raw)
    assert mail.text == "First part.\n\nSecond & last part."
    assert [(a.filename, a.data) for a in mail.attachments] == [("attachment-1.csv", b"a,b")]


def test_text_that_the_database_cannot_store_is_cleaned() -> None:
    raw = b"From: ann@example.org\nSubject: a\x00b\nContent-Type: text/plain; charset=utf-16-le\n\nx\x00y\x00\n"
    mail = parse_mail(raw)
    assert "\x00" not in mail.text and "\x00" not in mail.subject
    assert storable("a\x00b\ud800c") == "ab\ufffdc"


def test_a_message_id_with_non_ascii_is_replaced_by_a_derived_one() -> None:
    raw = "From: ann@example.org\nMessage-ID: <é@x>\n\nhi\n".encode()
    assert parse_mail(raw).message_id_derived


def test_copies_without_message_id_that_differ_only_in_trace_headers_get_one_derived_id() -> None:
    raw = b"From: ann@example.org\r\nSubject: Budget\r\n\r\nBudget please.\r\n"
    first = parse_mail(b"Delivered-To: records@worcester-ma.example\r\n" + raw)
    again = parse_mail(b"Received: from mx by mx2; Tue, 24 Nov 2026\r\n" + raw)
    assert first.message_id == again.message_id
    assert first.content_fingerprint == again.content_fingerprint
