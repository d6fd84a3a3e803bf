"""Reading the one sender of a From header strictly. Pure: no I/O.

Python 3.11.7's email.utils lacks the CVE-2023-27043 fix: `alice@x.org)<bob@y.org>` can
read as bob. A request must never be filed in (or a reply matched to) somebody whose
address was smuggled into a header like that, so anything that is not plainly one
`addr-spec` or one `display-name <addr-spec>` is refused as ambiguous, never guessed at.
"""

import re
from dataclasses import dataclass

# dot-atom local part and a host name; internationalised letters allowed, quoted locals
# and address literals are not (no requester needs them; spoofers do).
_ADDR_SPEC = re.compile(
    r"^(?P<local>[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*)"
    r"@(?P<domain>[\w](?:[\w-]*[\w])?(?:\.[\w](?:[\w-]*[\w])?)+)$"
)
_SPECIALS_IN_PHRASE = set("<>@,;:\\[]")
MAX_ADDRESS_LENGTH = 254  # RFC 5321's limit on a forward path


class AmbiguousAddress(ValueError):
    """The header does not name exactly one sender beyond doubt."""


@dataclass(frozen=True)
class Mailbox:
    display_name: str  # as written (quotes removed, encoded words still encoded)
    addr_spec: str  # lower-cased


def _skip_quoted(value: str, start: int) -> tuple[str, int]:
    """The unescaped content of the quoted string opening at `start`, and where it ends."""
    out: list[str] = []
    i = start + 1
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise AmbiguousAddress("unterminated quoted string")


def _skip_comment(value: str, start: int) -> int:
    depth = 0
    i = start
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise AmbiguousAddress("unbalanced parenthesis")


def parse_mailbox(value: str) -> Mailbox:
    """One mailbox out of a From header value, or AmbiguousAddress saying why not."""
    value = re.sub(r"\r?\n(?=[ \t])", "", value).strip()
    bare: list[str] = []  # text outside quotes, comments and the angle-addr
    display: list[str] = []  # the same plus the content of quoted strings, in order
    quoted = False
    angle: str | None = None
    i = 0
    while i < len(value):
        ch = value[i]
        if angle is not None and ch != "(" and not ch.isspace():
            raise AmbiguousAddress("text after the address")
        if ch == '"':
            text, i = _skip_quoted(value, i)
            display.append(text)
            quoted = True
            continue
        if ch == "(":
            i = _skip_comment(value, i)
            continue
        if ch == ")":
            raise AmbiguousAddress("unbalanced parenthesis")
        if ch == "<":
            end = value.find(">", i)
            if end < 0:
                raise AmbiguousAddress("unterminated <address>")
            angle = value[i + 1 : end].strip()
            i = end + 1
            continue
        if ch in ",;":
            raise AmbiguousAddress("more than one address")
        bare.append(ch)
        display.append(ch)
        i += 1
    outside = "".join(bare).strip()
    if angle is not None:
        if any(c in _SPECIALS_IN_PHRASE for c in outside):
            raise AmbiguousAddress("an address-like display name outside quotes")
        candidate, name = angle, " ".join("".join(display).split())
    else:
        if quoted:
            raise AmbiguousAddress("quoted text without an <address>")
        candidate, name = outside, ""
    if len(candidate) > MAX_ADDRESS_LENGTH:
        raise AmbiguousAddress(f"address longer than {MAX_ADDRESS_LENGTH} characters")
    if not _ADDR_SPEC.match(candidate):
        raise AmbiguousAddress(f"not a plain address: {candidate[:80]!r}")
    return Mailbox(display_name=name, addr_spec=candidate.lower())
