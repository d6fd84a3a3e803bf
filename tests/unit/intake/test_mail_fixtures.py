"""Every .eml fixture through the parser alone, checked against the parse half of cases.yaml."""

from typing import Any

import pytest
import yaml

from services.intake.parsing import UnparseableMail, parse_mail
from tests.conftest import FIXTURES

MAIL = FIXTURES / "mail"
CASES: dict[str, dict[str, Any]] = yaml.safe_load((MAIL / "cases.yaml").read_text("utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_fixture_mail_reads_as_written_next_to_it(name: str) -> None:
    raw = (MAIL / name).read_bytes()
    expected = CASES[name].get("parse", {})
    if "unparseable" in expected:
        with pytest.raises(UnparseableMail, match=expected["unparseable"]):
            parse_mail(raw)
        return

    mail = parse_mail(raw)

    assert mail.raw == raw
    for key in ("sender", "sender_name", "subject"):
        if key in expected:
            assert getattr(mail, key) == expected[key]
    for snippet in expected.get("text", []):
        assert snippet in mail.text
    for snippet in expected.get("not_text", []):
        assert snippet not in mail.text
    for snippet in expected.get("reply_text", []):
        assert snippet in mail.reply_text
    for snippet in expected.get("not_reply_text", []):
        assert snippet not in mail.reply_text
    if "attachments" in expected:
        assert [a.filename for a in mail.attachments] == expected["attachments"]
    for address in expected.get("recipients", []):
        assert address in mail.recipients
    if "notes" in expected:
        assert any(expected["notes"] in note for note in mail.notes), mail.notes
    if "forwarded" in expected:
        assert mail.forwarded_count == expected["forwarded"]
    assert mail.message_id_derived == expected.get("derived_message_id", False)
