"""A policy file that fails validation stops start-up with the file, field and problem."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RECORDSDESK = str(Path(sys.executable).with_name("recordsdesk"))
POLICIES = Path(__file__).parents[2] / "shared" / "policies"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RECORDSDESK, *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def broken_policy_dir(tmp_path: Path) -> Path:
    for path in POLICIES.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    cary = tmp_path / "cary-nc.yaml"
    cary.write_text(cary.read_text().replace("  business_days: 10\n", "  business_days: ten\n", 1))
    return tmp_path


def test_run_refuses_to_start_with_a_broken_policy_and_names_file_and_field(
    broken_policy_dir: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "run",
        "all",
        env={
            "RECORDSDESK_POLICY_DIR": str(broken_policy_dir),
            "RECORDSDESK_DATABASE_URL": settings.database_url,
            "RECORDSDESK_AMQP_URL": settings.amqp_url,
            "RECORDSDESK_NAMESPACE": settings.namespace,
        },
    )
    assert result.returncode == 2
    assert f"{broken_policy_dir / 'cary-nc.yaml'}: response.business_days:" in result.stderr
    assert "valid integer" in result.stderr


def test_policy_check_reports_each_file(broken_policy_dir: Path) -> None:
    result = run(
        "policy", "check", *sorted(str(p) for p in broken_policy_dir.glob("*.yaml")), env={}
    )
    assert result.returncode == 1
    assert "worcester-ma.yaml: ok (City of Worcester, MA)" in result.stdout
    assert "cary-nc.yaml: response.business_days:" in result.stderr
