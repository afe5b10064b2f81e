"""Private files and folders: created with their final mode, never widened after the fact.

Keys, tokens, client configurations, certificates' private halves and agency databases hold secrets
or personal data. Creating them with a default mode and narrowing it afterwards leaves a window in
which another local user can open them (an open descriptor survives a later ``chmod``), so every
such file is created with ``O_CREAT | O_EXCL`` and mode 0600 under a 0700 folder, and written whole
before it takes its name (a rename is atomic: a reader sees the old file or the new, never half).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

__all__ = ["PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE", "open_private_log", "private_dir", "write_private"]

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; an existing folder keeps its mode.

    Returns:
        The folder's path.
    """
    folder = Path(path)
    missing = []
    for each in (folder, *folder.parents):
        if each.exists():
            break
        missing.append(each)
    # Each missing folder, outermost first, 0700 (Path.mkdir(parents=True) would make the parents
    # with the default mode); mkdir applies the umask, and 0700 has no bits a umask could add.
    for each in reversed(missing):
        each.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)  # a file in the way: FileExistsError says so
    return folder


def create_private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` empty with mode 0600 in one step (``O_EXCL``: no window where another user could
    open it), its folder 0700; an existing file is left as it is. For files another library then opens
    (a SQLite database: its WAL and SHM files take the database file's mode).

    Returns:
        The file's path.
    """
    target = Path(path)
    private_dir(target.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    return target


def write_private(path: str | os.PathLike[str], data: bytes | str, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` as a 0600 file, atomically.

    The bytes go to a new temporary file in the same folder (created 0600 with ``O_EXCL``), are
    flushed to disk, then renamed over ``path``.

    Args:
        path: the file to write; its folder is created 0700 when missing.
        data: the content (text is written as UTF-8).
        overwrite: replace an existing file; when false an existing file raises FileExistsError.

    Returns:
        The file's path.

    Raises:
        FileExistsError: ``overwrite`` is false and ``path`` exists.
    """
    target = Path(path)
    private_dir(target.parent)
    raw = data.encode() if isinstance(data, str) else data
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # fails with FileExistsError instead of replacing
            os.unlink(temporary)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return target


def open_private_log(path: str | os.PathLike[str], *, text: bool = False) -> Any:
    """Open ``path`` for appending, creating it 0600 (its folder 0700) when missing: for logs, which
    may name agencies, records and errors another local user has no business reading.

    An existing file keeps its mode (it was made this way, or by someone who chose otherwise).
    """
    target = Path(path)
    private_dir(target.parent)
    descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    return os.fdopen(descriptor, "a" if text else "ab")
