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

__all__ = ["PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE", "private_dir", "write_private"]

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; an existing folder keeps its mode.

    Returns:
        The folder's path.
    """
    folder = Path(path)
    # mkdir applies the umask to the mode it is given; 0700 has no bits a umask could add.
    folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    return folder


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
