"""``enlace schemas check|register``: what an integrator's CI runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"


def enlace(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ENLACE_")}
    base["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args],
        cwd=REPO,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def broken_catalog(tmp_path: Path) -> Path:
    """A copy of the project's catalog with one policy break and one compatibility break."""
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    case = tmp_path / "schemas" / "mx.gob.crm" / "CaseOpened"
    v2 = json.loads((case / "v2.avsc").read_text())
    v2["fields"][0]["name"] = "case_id"  # naming, and v1 readers lose caseId (no default)
    (case / "v3.avsc").write_text(json.dumps(v2, indent=2))
    return tmp_path / "schemas"


def test_the_projects_catalog_passes_offline_with_no_kafka_or_registry_to_reach() -> None:
    # Offline is what keeps it fast and CI-safe: were it to call Kafka or a registry, these closed
    # ports would fail it (rather than a wall-clock bound that a loaded machine could break).
    nowhere = {"ENLACE_BOOTSTRAP_SERVERS": "127.0.0.1:9", "ENLACE_REGISTRY_URL": "http://127.0.0.1:9"}
    result = enlace("schemas", "check", "schemas", env=nowhere)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problem(s)" in result.stderr


def test_problems_name_file_pointer_and_rule_and_fail_the_run(broken_catalog: Path) -> None:
    result = enlace("schemas", "check", str(broken_catalog))
    assert result.returncode == 1
    v3 = str(broken_catalog / "mx.gob.crm" / "CaseOpened" / "v3.avsc")
    assert f"{v3}:/fields/0/name: [naming.field-camel-case]" in result.stdout
    assert (
        f"{v3}:/fields/0: [compatibility.breaking-change] FULL_TRANSITIVE (BACKWARD): v3 cannot read v1's data"
        in result.stdout
    )
    assert "field 'case_id'" in result.stdout


def test_github_and_junit_formats(broken_catalog: Path) -> None:
    github = enlace("schemas", "check", str(broken_catalog), "--format", "github")
    assert github.returncode == 1
    assert all(line.startswith("::error file=") for line in github.stdout.splitlines())
    junit = enlace("schemas", "check", str(broken_catalog), "--format", "junit")
    suite = ET.fromstring(junit.stdout)
    assert int(suite.get("failures")) == len(suite.findall("testcase/failure")) >= 2
    rules = {f.get("type") for f in suite.iter("failure")}
    assert {"naming.field-camel-case", "compatibility.breaking-change"} <= rules


@pytest.mark.integration
def test_register_the_catalog_references_first_idempotently_then_check_against_the_registry(registry, tmp_path) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(yaml.safe_dump(registry.tokens))
    tokens.chmod(0o600)
    env = {"ENLACE_REGISTRY_TOKENS": str(tokens)}
    first = enlace("schemas", "register", "schemas", "--registry", registry.url, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    assert len(lines) == len(list(SCHEMAS.rglob("*.avsc")))
    order = [line.split()[0] for line in lines]
    assert (
        order.index("mx.gob.common.State") < order.index("mx.gob.common.Person") < order.index("mx.gob.crm.CaseOpened")
    )
    again = enlace("schemas", "register", "schemas", "--registry", registry.url, env=env)
    assert again.returncode == 0 and all("already registered" in line for line in again.stdout.splitlines())
    checked = enlace("schemas", "check", "schemas", "--registry", registry.url)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_policy_that_encrypts_a_field_that_cannot_be_fails_the_check(tmp_path: Path) -> None:
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    policy = tmp_path / "schemas" / "policy.yaml"
    policy.write_text(
        policy.read_text().replace("  personal: []", "  personal: [mx.gob.sat.TaxpayerStatusReported]"),
        encoding="utf-8",
    )
    result = enlace("schemas", "check", str(tmp_path / "schemas"))
    assert result.returncode == 1
    assert "TaxpayerStatusReported/v1.avsc:/standing: [encryption.field-type]" in result.stdout
    assert "TaxpayerStatusReported/v2.avsc:/standing: [encryption.field-type]" in result.stdout
