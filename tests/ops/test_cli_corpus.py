"""The command-line corpus (``tests/corpus/cli_cases.py``): every bad invocation ends in one clear
error and its exit code, never a traceback. Each runs ``enlace`` in this process (``ops.cli.main``),
so an exception escaping it fails the test; none reaches Kafka or the registry (the settings point at
ports nothing listens on)."""

from __future__ import annotations

import os
import sys

import pytest

from bus.identity import generate_key
from ops.cli import main
from tests.corpus.cli_cases import CRM, CliCase, cli_cases

CASES = cli_cases()


def test_the_corpus_has_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    usable = generate_key(CRM).save(folder / "crm")
    open_key = generate_key(CRM).save(folder / "open")
    os.chmod(open_key, 0o644)
    not_key = folder / "not.key"
    not_key.write_text("this is no key\n")
    os.chmod(not_key, 0o600)
    return {"key": str(usable), "open_key": str(open_key), "not_key": str(not_key)}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_invocation_ends_in_one_clear_error(case: CliCase, keys, tmp_path, monkeypatch, capsys):
    for name in [n for n in os.environ if n.upper().startswith("ENLACE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ENLACE_BOOTSTRAP_SERVERS", "127.0.0.1:9")  # nothing listens: nothing may be sent
    monkeypatch.setenv("ENLACE_REGISTRY_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    given = tmp_path / "input.json"
    if case.content is not None:
        given.write_bytes(case.content)
    folder = tmp_path / "folder"
    folder.mkdir()
    args = [a.format(file=given, dir=folder, **keys) for a in case.args]
    monkeypatch.setattr(sys, "argv", ["enlace", *args])

    with pytest.raises(SystemExit) as exited:
        main()  # any other exception is a traceback the user would have seen

    out = capsys.readouterr()
    assert exited.value.code == case.code, out.err + out.out
    said = out.err + out.out
    assert case.says in said, said
    assert "Traceback" not in said
