"""Every template renders for every jurisdiction; overrides apply; broken ones stop start-up."""

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from services.notify.composer import TemplateBook, TemplateProblem
from services.notify.delivery import Notifier
from services.notify.plans import TEMPLATES
from services.notify.samples import sample_renders
from services.notify.smtp import SmtpMailer
from shared.clock import FixedClock
from shared.policy import Policy, PolicyBook
from shared.unit_of_work import UnitOfWork

POLICY_DIR = Path(__file__).parents[3] / "shared" / "policies"
POLICIES = PolicyBook.load(POLICY_DIR)
RENDERS = [
    (policy, name, context) for policy in POLICIES for name, context in sample_renders(policy)
]


@pytest.mark.parametrize(
    ("policy", "name", "context"),
    RENDERS,
    ids=[f"{p.id}-{n}-{i}" for i, (p, n, _) in enumerate(RENDERS)],
)
def test_each_template_renders_both_parts_with_the_reference_and_sender(
    policy: Policy, name: str, context: dict
) -> None:
    text, html = TemplateBook(policy.templates_dir, policy.id).render(name, context)
    for part in (text, html):
        assert context["ref"] in part
    assert html.lstrip().startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert "{{" not in text and "{%" not in text
    if context.get("staff_url") and name in (
        "escalation",
        "reminder_staff",
        "attachment_too_large_staff",
        "appeal_received_staff",
    ):
        assert context["staff_url"] in text and context["staff_url"] in html
    else:
        assert context["status_url"] in text and policy.sender_name in text


def test_markup_typed_by_a_requester_is_escaped_in_html_and_verbatim_in_text() -> None:
    policy = POLICIES["worcester-ma"]
    typed = '<img src=x onerror="alert(1)"> & <b>trees</b>'
    for name, context in sample_renders(policy):
        context = {**context, "subject": typed, "requester_name": typed}
        if "questions" in context:
            context["questions"] = [typed]
        text, html = TemplateBook().render(name, context)
        assert "<img" not in html and "<b>trees" not in html, name
        assert (
            "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &lt;b&gt;trees&lt;/b&gt;" in html
        ), name
        assert typed in text, name


def policy_dir_with_override(tmp_path: Path, files: dict[str, str]) -> Path:
    """A copy of the shipped policies where Cary names an override folder with `files`."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies)
    overrides = tmp_path / "cary-templates"
    overrides.mkdir()
    for name, body in files.items():
        (overrides / name).write_text(body, encoding="utf-8")
    cary = policies / "cary-nc.yaml"
    data = yaml.safe_load(cary.read_text(encoding="utf-8"))
    data["templates_dir"] = str(overrides)
    cary.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return policies


def notifier_for(policy_dir: Path) -> Notifier:
    def no_uow() -> UnitOfWork:
        raise AssertionError("the template check needs no database")

    return Notifier(
        no_uow,
        PolicyBook.load(policy_dir),
        SmtpMailer("127.0.0.1", 25),
        "secret",
        "http://x",
        FixedClock(datetime(2026, 11, 23, 15, tzinfo=UTC)),
    )


def test_a_jurisdiction_override_replaces_only_the_templates_it_has(tmp_path: Path) -> None:
    policies = PolicyBook.load(
        policy_dir_with_override(
            tmp_path, {"closed.txt.j2": "Cary closed {{ ref }} because {{ reason }}.\n"}
        )
    )
    cary, worcester = policies["cary-nc"], policies["worcester-ma"]
    closed = next(c for n, c in sample_renders(cary) if n == "closed")
    text, html = TemplateBook(cary.templates_dir, cary.id).render("closed", closed)
    assert text == "Cary closed CARY-2026-000001 because you withdrew the request.\n"
    assert "<!doctype html>" in html  # the default HTML part still applies
    other = next(c for n, c in sample_renders(worcester) if n == "closed")
    assert "Cary closed" not in TemplateBook(worcester.templates_dir).render("closed", other)[0]


def test_the_shipped_templates_pass_the_start_up_check() -> None:
    notifier_for(POLICY_DIR).check_templates()


@pytest.mark.parametrize(
    ("files", "complaint"),
    [
        ({"receipt.html.j2": "<p>{{ ref }</p>"}, "receipt.html.j2: line 1"),
        ({"_unused_partial.txt.j2": "{% if %}"}, "_unused_partial.txt.j2: line 1"),
        ({"withheld.txt.j2": "{{ no_such_fact }}"}, "no_such_fact"),
        ({"closed.html.j2": "{% extends 'gone.html.j2' %}"}, "gone.html.j2"),
    ],
    ids=["syntax-error", "broken-extra-file", "unknown-variable", "missing-parent"],
)
def test_a_broken_override_stops_start_up_naming_the_jurisdiction_and_file(
    tmp_path: Path, files: dict[str, str], complaint: str
) -> None:
    notifier = notifier_for(policy_dir_with_override(tmp_path, files))
    with pytest.raises(TemplateProblem) as raised:
        notifier.check_templates()
    assert "cary-nc" in str(raised.value) and complaint in str(raised.value)


def test_a_missing_override_folder_stops_start_up(tmp_path: Path) -> None:
    policies = policy_dir_with_override(tmp_path, {})
    shutil.rmtree(tmp_path / "cary-templates")
    with pytest.raises(TemplateProblem, match="is not a folder"):
        notifier_for(policies).check_templates()


def test_a_missing_default_template_stops_start_up() -> None:
    book = TemplateBook()
    with pytest.raises(TemplateProblem, match=r"missing template no_such\.txt\.j2"):
        book.check([*TEMPLATES, "no_such"], [])


def test_an_override_failing_on_unforeseen_data_falls_back_to_the_default(tmp_path: Path) -> None:
    policies = PolicyBook.load(
        policy_dir_with_override(tmp_path, {"clarification.txt.j2": "{{ questions[5] }}\n"})
    )
    cary = policies["cary-nc"]
    context = next(c for n, c in sample_renders(cary) if n == "clarification")
    text, _ = TemplateBook(cary.templates_dir, cary.id).render("clarification", context)
    assert "Which years?" in text
