"""Reading the JSON files people give the CLI: one document, or JSON lines, whatever the file holds.

Every way a file can be unusable (missing, a folder, not UTF-8, not JSON, nested deeper than the
parser goes, a number longer than Python converts) is :class:`UnusableFile`, whose message names the
file, the line when there is one, and why; a UTF-8 byte order mark is allowed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

__all__ = ["UnusableFile", "exit_unusable", "read_document", "read_records"]


class UnusableFile(Exception):
    """The file cannot be read as JSON; the message says where and why."""


def _text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnusableFile(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnusableFile(f"cannot read {path}: it is not UTF-8 text (byte {exc.start})") from exc


def _parse(text: str) -> Any:
    """``json.loads``, its failures as one kind of error with a reason a person can act on."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _NotJson(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise _NotJson("nested too deeply (arrays or objects inside one another)") from exc
    except ValueError as exc:  # a number with more digits than Python converts
        raise _NotJson(f"a value it cannot convert ({str(exc).split(':')[0]})") from exc


class _NotJson(Exception):
    pass


def read_document(path: Path) -> Any:
    """The one JSON document ``path`` holds.

    Raises:
        UnusableFile: the file cannot be read, or is not one JSON document.
    """
    text = _text(path)
    try:
        return _parse(text)
    except _NotJson as exc:
        raise UnusableFile(f"cannot read {path} as JSON: {exc}") from None


def read_records(path: Path) -> list[tuple[int, Any]]:
    """The records of ``path``: one JSON document, or JSON lines, each with its line number.

    Raises:
        UnusableFile: the file cannot be read, a line is not JSON, or there is no record at all.
    """
    text = _text(path)
    if not text.strip():
        raise UnusableFile(f"{path} holds no record (it is empty or blank)")
    try:
        return [(1, _parse(text))]
    except _NotJson as whole:
        if "\n" not in text.strip():  # one line: its own error is the one to show
            raise UnusableFile(f"{path}:1: not JSON: {whole}") from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append((number, _parse(line)))
            except _NotJson as exc:
                raise UnusableFile(f"{path}:{number}: not JSON: {exc}") from None
    return records


def exit_unusable(error: UnusableFile) -> typer.Exit:
    """Print why the file is unusable; the exit (status 2) to raise."""
    typer.echo(f"enlace: {error}", err=True)
    return typer.Exit(2)
