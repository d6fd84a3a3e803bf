"""Policy files: the shipped ones load; a broken one is refused with a message staff can act on."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.policy import PolicyBook, PolicyError, load_policy

POLICY_DIR = Path(__file__).parents[2] / "shared" / "policies"


def shipped(name: str) -> dict[str, Any]:
    return yaml.safe_load((POLICY_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def write(folder: Path, file_stem: str, raw: dict[str, Any]) -> Path:
    path = folder / f"{file_stem}.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_both_shipped_policies_load() -> None:
    book = PolicyBook.load(POLICY_DIR)
    assert book.ids == ["cary-nc", "worcester-ma"]
    worcester, cary = book["worcester-ma"], book["cary-nc"]
    assert (worcester.reference_prefix, cary.reference_prefix) == ("WOR", "CARY")
    assert worcester.response.business_days == cary.response.business_days == 10
    assert (worcester.calendar.state, cary.calendar.state) == ("MA", "NC")
    assert worcester.mail_domain == "worcester-ma.example"
    assert worcester.exemption("26c") is not None and worcester.exemption("132-1.4") is None


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(raw: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node = raw
        for key in parents:
            node = node[key]
        node[leaf] = value

    return mutate


def _rename_per_page(raw: dict[str, Any]) -> None:
    raw["fees"]["per_pgae"] = raw["fees"].pop("per_page")


BROKEN = [
    pytest.param(_set("response.business_days", 0), "response.business_days", "greater than or equal to 1", id="zero-response-days"),
    pytest.param(_rename_per_page, "fees.per_pgae", "Extra inputs are not permitted", id="misspelt-fee-field"),
    pytest.param(_set("intake_addresses", ["records@worcester-ma.example", "records at city hall"]), "intake_addresses.1", "is not an email address", id="bad-intake-address"),
    pytest.param(_set("id", "worcester"), "id", "must match the file name", id="id-not-file-name"),
    pytest.param(_set("time_zone", "America/Worcester"), "time_zone", "unknown time zone", id="unknown-time-zone"),
    pytest.param(_set("required_fields", ["dataset", "intended_use"]), "required_fields", "intended_use may not be required", id="purpose-required-where-forbidden"),
]  # fmt: skip


@pytest.mark.parametrize(("mutate", "field", "problem"), BROKEN)
def test_broken_policy_is_refused_naming_file_field_and_problem(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], field: str, problem: str
) -> None:
    raw = shipped("worcester-ma")
    mutate(raw)
    path = write(tmp_path, "worcester-ma", raw)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert str(path) in message
    assert f" {field}: " in message
    assert problem in message


@pytest.mark.parametrize(
    ("address", "jurisdiction"),
    [
        ("records@worcester-ma.example", "worcester-ma"),
        ("Records@Worcester-MA.Example", "worcester-ma"),
        ("records+wor-2026-000001.abcdefghijkl@worcester-ma.example", "worcester-ma"),
        ("OpenData+Budget@cary-nc.example", "cary-nc"),
        ("records@cary-nc.example", None),
        ("resident@example.org", None),
    ],
)
def test_intake_address_finds_its_jurisdiction(address: str, jurisdiction: str | None) -> None:
    policy = PolicyBook.load(POLICY_DIR).for_address(address)
    assert (policy.id if policy else None) == jurisdiction


def test_two_policies_claiming_one_intake_address_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "worcester-ma", shipped("worcester-ma"))
    other = shipped("cary-nc") | {
        "id": "shrewsbury-ma",
        "reference_prefix": "SHR",
        "intake_addresses": ["RECORDS@Worcester-MA.example"],
    }
    write(tmp_path, "shrewsbury-ma", other)
    with pytest.raises(PolicyError) as caught:
        PolicyBook.load(tmp_path)
    message = str(caught.value)
    assert "records@worcester-ma.example" in message
    assert "shrewsbury-ma" in message and "worcester-ma" in message
