"""Strict reading of the one sender of a From header (CVE-2023-27043 and friends)."""

import pytest

from services.intake.strict_address import AmbiguousAddress, parse_mailbox


@pytest.mark.parametrize(
    ("value", "name", "address"),
    [
        ("ann@example.org", "", "ann@example.org"),
        ("<ann@example.org>", "", "ann@example.org"),
        ("Ann Lee <Ann@Example.org>", "Ann Lee", "ann@example.org"),
        ('"Lee, Ann" <ann@example.org>', "Lee, Ann", "ann@example.org"),
        ('"ann@example.org" <bob@example.net>', "ann@example.org", "bob@example.net"),
        ("ann@example.org (Ann Lee)", "", "ann@example.org"),
        ("Ann <ann@example.org> (work)", "Ann", "ann@example.org"),
        ("=?utf-8?q?Jos=C3=A9?= <jose@example.org>", "=?utf-8?q?Jos=C3=A9?=", "jose@example.org"),
        ("José <josé@exämple.org>", "José", "josé@exämple.org"),
        ("Ann\r\n Lee <ann@example.org>", "Ann Lee", "ann@example.org"),
    ],
)
def test_one_plain_mailbox_is_read(value: str, name: str, address: str) -> None:
    mailbox = parse_mailbox(value)
    assert (mailbox.display_name, mailbox.addr_spec) == (name, address)


@pytest.mark.parametrize(
    "value",
    [
        "alice@x.example)<bob@y.example>",  # CVE-2023-27043: must never read as bob
        "alice@x.example <bob@y.example>",
        "bob@y.example, eve@z.example",
        "alice@x.example,<bob@y.example>",
        "<bob@y.example> alice",
        "<a@x.example><b@y.example>",
        "Bob <bob@y.example",
        '"unterminated <bob@y.example>',
        "(comment <bob@y.example>",
        "group: a@x.example, b@y.example;",
        "bob@[192.0.2.1]",
        '"quoted"@y.example',
        "Ann Lee",
        "",
        '"x" bob@y.example',
    ],
)
def test_anything_ambiguous_is_refused_not_guessed(value: str) -> None:
    with pytest.raises(AmbiguousAddress):
        parse_mailbox(value)


def test_an_address_longer_than_smtp_allows_is_refused() -> None:
    with pytest.raises(AmbiguousAddress, match="longer than 254"):
        parse_mailbox("a" * 250 + "@example.org")
