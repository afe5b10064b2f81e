"""``enlace records validate|list|generate``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bus.records import catalog
from ops.cli import app

runner = CliRunner()


def _example(name: str) -> dict:
    return json.loads(catalog().get(name).example_path.read_text())


def test_validate_accepts_a_valid_record(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(_example("CaseOpened")))
    result = runner.invoke(app, ["records", "validate", "CaseOpened", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid as mx.gob.crm.CaseOpened v2" in result.output


def test_validate_prints_every_problem_with_path_rule_and_value(tmp_path: Path) -> None:
    record = _example("CaseOpened") | {"citizenCurp": "ROMA900215HJCDRN07", "channel": "FAX", "colour": "x"}
    del record["status"]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(record))
    result = runner.invoke(app, ["records", "validate", "CaseOpened", str(path)])
    assert result.exit_code == 1
    assert "4 problem(s)" in result.output
    assert '/citizenCurp  [curp.check_digit]  value "ROMA900215HJCDRN07"' in result.output
    assert "check digit is 7, expected 9" in result.output
    assert '/channel  [avro.enum]  value "FAX"' in result.output
    assert "/status  [avro.required]" in result.output
    assert "/colour  [avro.unknown_field]" in result.output


def test_validate_against_an_older_version(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(_example("CaseOpened")))  # v2 example: has priority, a v2-only field
    result = runner.invoke(app, ["records", "validate", "CaseOpened", str(path), "--version", "1"])
    assert result.exit_code == 1
    assert "/priority  [avro.unknown_field]" in result.output


def test_validate_a_list_of_records_points_into_the_list(tmp_path: Path) -> None:
    good = _example("CaseUpdated")
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([good, good | {"caseId": "nope"}]))
    result = runner.invoke(app, ["records", "validate", "mx.gob.crm.CaseUpdated", str(path)])
    assert result.exit_code == 1
    assert '/1/caseId  [pattern]  value "nope"' in result.output


def test_validate_unknown_record_or_unreadable_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{not json")
    assert runner.invoke(app, ["records", "validate", "CaseClosed", str(path)]).exit_code == 2
    result = runner.invoke(app, ["records", "validate", "CaseOpened", str(path)])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_list_prints_records_versions_owners_and_classifications() -> None:
    result = runner.invoke(app, ["records", "list"])
    assert result.exit_code == 0, result.output
    assert "mx.gob.crm.CaseOpened  (v1, v2)  owner urn:mx:gob:crm" in result.output
    assert "topic mx.gob.crm.case-opened  key caseId" in result.output
    assert "sensitive /attachments" in result.output
    assert "personal  /citizenCurp" in result.output


def test_generate_check_passes_on_the_committed_models() -> None:
    result = runner.invoke(app, ["records", "generate", "--check"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_generate_check_fails_on_stale_models_and_generate_rewrites_them(tmp_path: Path, monkeypatch) -> None:
    import bus.records.generate as generate

    stale = tmp_path / "models.py"
    stale.write_text("# stale\n")
    monkeypatch.setattr(generate, "models_path", lambda: stale)
    result = runner.invoke(app, ["records", "generate", "--check"])
    assert result.exit_code == 1
    assert "out of date" in result.output
    assert runner.invoke(app, ["records", "generate"]).exit_code == 0
    assert stale.read_text() == generate.generate_models_source()
