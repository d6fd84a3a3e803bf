"""Generated and mangled MIME never makes the parser raise (other than UnparseableMail), and
never loses or changes the raw message."""

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.intake.parsing import ParsedMail, UnparseableMail, parse_mail
from tests.conftest import FIXTURES

FIXTURE_BYTES = [p.read_bytes() for p in sorted((FIXTURES / "mail").glob("*.eml"))]
FEW = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CHARSETS = st.sampled_from(
    ["utf-8", "iso-8859-1", "windows-1252", "koi8-r", "shift_jis", "x-klingon", "", "utf-7",
     "base64", "unknown-8bit", "utf-16", "rot13", "idna"]
)  # fmt: skip
HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Content-Type",
     "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "Delivered-To",
     "X-Loop", "Precedence", "List-Id", "Return-Path", "X-Failed-Recipients"]
)  # fmt: skip
TEXT = st.text(max_size=60)
RAW = st.binary(max_size=80)


@st.composite
def header_values(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(TEXT).encode("utf-8", "surrogatepass")
    if kind == 1:
        return draw(RAW).replace(b"\n", b" ")
    if kind == 2:  # an encoded word, maybe with a wrong or unknown charset
        payload = base64.b64encode(draw(RAW)).decode()
        return f"=?{draw(CHARSETS)}?b?{payload}?= {draw(TEXT)}".encode("utf-8", "surrogatepass")
    if kind == 3:
        return draw(st.sampled_from([b"<", b"a@b)<c@d>", b'"x" <', b"(", b'"', b"<a@b><c@d>"]))
    return f"{draw(TEXT)} <{draw(TEXT)}@{draw(TEXT)}>".encode("utf-8", "surrogatepass")


@st.composite
def parts(draw: st.DrawFn, depth: int = 0) -> bytes:
    charset = draw(CHARSETS)
    encoding = draw(st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode"]))
    kind = draw(st.sampled_from(["text/plain", "text/html", "application/pdf", "message/rfc822",
                                 "multipart/mixed", "multipart/alternative", "image/png"]))  # fmt: skip
    headers = f"Content-Type: {kind}; charset={charset}".encode()
    if draw(st.booleans()):
        headers += b'; name="' + draw(RAW).replace(b'"', b"") + b'"'
    if draw(st.booleans()):
        name = draw(st.sampled_from(["../x", "a\\b", "", "=?utf-8?q?=C3=A9?=", "r.csv"]))
        headers += f"\nContent-Disposition: attachment; filename*=utf-8''{name}".encode()
    headers += f"\nContent-Transfer-Encoding: {encoding}".encode()
    if kind.startswith("multipart/") and depth < 2:
        boundary = draw(st.sampled_from(["b1", "b2", "", "--"]))
        children = draw(st.lists(parts(depth + 1), max_size=3))
        body = b"".join(f"--{boundary}\n".encode() + c + b"\n" for c in children)
        body += f"--{boundary}--\n".encode() if draw(st.booleans()) else b""
        headers = headers.replace(kind.encode(), f'{kind}; boundary="{boundary}"'.encode(), 1)
    elif kind == "message/rfc822" and depth < 2:
        body = draw(messages(depth + 1))
    else:
        body = draw(RAW)
    return headers + b"\n\n" + body


@st.composite
def messages(draw: st.DrawFn, depth: int = 0) -> bytes:
    lines = [
        draw(HEADER_NAMES).encode() + b": " + draw(header_values())
        for _ in range(draw(st.integers(0, 8)))
    ]
    if draw(st.booleans()):
        lines.insert(0, b"From: " + draw(header_values()))
    head = b"\n".join(lines)
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    return (head + b"\n" + draw(parts(depth))).replace(b"\n", newline)


@st.composite
def mangled_fixtures(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(FIXTURE_BYTES)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.integers(0, 3))
        if action == 0:
            del data[at : at + draw(st.integers(1, 40))]
        elif action == 1:
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        elif action == 2:
            data[at] = draw(st.integers(0, 255))
        else:
            data = data[:at]
    return bytes(data)


def _parses_safely(raw: bytes) -> None:
    try:
        mail = parse_mail(raw)
    except UnparseableMail:
        return
    assert isinstance(mail, ParsedMail)
    assert mail.raw == raw  # never changed, never lost
    for value in (mail.text, mail.reply_text, mail.subject, mail.sender_name, mail.message_id):
        value.encode("utf-8")  # readable and storable: no lone surrogates
        assert "\x00" not in value
    assert mail.message_id.startswith("<") and mail.message_id.endswith(">")
    for attachment in mail.attachments:
        assert attachment.filename and "/" not in attachment.filename
        assert "\\" not in attachment.filename


@FEW
@given(st.binary(max_size=400))
def test_any_bytes_at_all_parse_or_are_refused_as_unparseable(raw: bytes) -> None:
    _parses_safely(raw)


@FEW
@given(messages())
def test_generated_mime_with_broken_parts_and_charsets_never_raises(raw: bytes) -> None:
    _parses_safely(raw)


@FEW
@given(mangled_fixtures())
def test_mangled_fixture_mail_never_raises_and_keeps_its_raw_bytes(raw: bytes) -> None:
    _parses_safely(raw)


def test_the_fixtures_are_there_to_mangle() -> None:
    assert len(FIXTURE_BYTES) >= 40
