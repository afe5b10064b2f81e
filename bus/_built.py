"""The C build of a few per-record loops (``bus/_native.c``, built by ``setup.py``), or None; and the
two small loops several modules share, each in C when it was built, else in Python.

Optional: where no C compiler, Python headers or OpenSSL headers were found at install, ``native`` is
None and every caller runs its Python loop, which gives the same bytes (tests run both).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

try:
    from bus import _native as native
except ImportError:  # pragma: no cover - built wherever a C compiler is found
    native = None  # type: ignore[assignment]

# A list of header names is remembered (a record layout, an envelope plan) only when its names are
# this short in all: names come from the wire, and a bounded number of remembered lists is not a
# bound on memory if each list may be as long as a record.
_NAMES_REMEMBERED_UP_TO = 4096


def header_names(headers: Sequence[tuple[str, bytes | None]]) -> tuple[str, ...]:
    """The headers' names, in order.

    Raises:
        TypeError, ValueError: an entry is not a (name, value) pair.
    """
    names = native.header_names(headers) if native is not None else None
    return names if names is not None else tuple([name for name, _ in headers])


def worth_remembering(names: tuple[str, ...]) -> bool:
    """Whether a list of header names is short enough to keep in a cache keyed by it."""
    return sum(len(name) if isinstance(name, str) else _NAMES_REMEMBERED_UP_TO for name in names) <= (
        _NAMES_REMEMBERED_UP_TO
    )


def record_size(key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes | None]] | None) -> int:
    """What a record's size limit counts: its key, value, and each header's name (in characters) and
    value (a NULL value counts 0)."""
    size = native.record_size(key, value, headers) if native is not None else None
    if size is None:
        size = len(key or b"") + len(value or b"")
        for name, header_value in headers or ():
            size += len(name) + len(header_value or b"")
    return size
