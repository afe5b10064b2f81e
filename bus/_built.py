"""The C build of a few per-record loops (``bus/_native.c``, built by ``setup.py``), or None.

Optional: where no C compiler, Python headers or OpenSSL headers were found at install, ``native`` is
None and every caller runs its Python loop, which gives the same bytes (tests run both).
"""

from __future__ import annotations

try:
    from bus import _native as native
except ImportError:  # pragma: no cover - built wherever a C compiler is found
    native = None  # type: ignore[assignment]
