"""Private files are born 0600 in 0700 folders, whole or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from bus._files import private_dir, write_private


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_private_file_is_0600_in_a_0700_folder_even_under_a_lax_umask(tmp_path):
    previous = os.umask(0)
    try:
        path = write_private(tmp_path / "new" / "secret.yaml", "token: x\n")
    finally:
        os.umask(previous)
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    assert path.read_text() == "token: x\n"


def test_rewriting_replaces_the_content_and_leaves_no_temporary_file(tmp_path):
    path = write_private(tmp_path / "secret", b"one")
    write_private(path, b"two")
    assert path.read_bytes() == b"two" and sorted(p.name for p in tmp_path.iterdir()) == ["secret"]


def test_an_existing_file_is_kept_when_overwriting_is_refused(tmp_path):
    path = write_private(tmp_path / "secret", b"one")
    with pytest.raises(FileExistsError):
        write_private(path, b"two", overwrite=False)
    assert path.read_bytes() == b"one" and sorted(p.name for p in tmp_path.iterdir()) == ["secret"]


def test_a_private_folders_missing_parents_are_private_too(tmp_path):
    made = private_dir(tmp_path / "a" / "b" / "c")
    for folder in (tmp_path / "a", tmp_path / "a" / "b", made):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    private_dir(shared / "mine")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755, "an existing folder keeps its mode"


def test_a_private_log_is_created_0600_and_appended_to(tmp_path):
    from bus._files import open_private_log

    path = tmp_path / "logs" / "agency.log"
    for line in ("one\n", "two\n"):
        with open_private_log(path, text=True) as out:
            out.write(line)
    assert path.read_text() == "one\ntwo\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
