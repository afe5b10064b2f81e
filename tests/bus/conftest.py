"""Fixtures of the bus's unit tests."""

from __future__ import annotations

import pytest

from bus import _built
from bus.identity import _batch, _signing, _trust
from connectors import _message_log


@pytest.fixture(params=["c", "python"])
def both_builds(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on the C build of per-record loops (bus/_native.c) and again on the Python loops
    that stand in for it where it was not built."""
    if request.param == "python":
        monkeypatch.setattr(_built, "native", None)  # header_names, record_size
        for module in (_signing, _batch, _trust, _message_log):
            monkeypatch.setattr(module, "_native", None)
    else:
        assert _built.native is not None, "bus._native was not built (a C compiler, Python.h, libssl-dev)"
    return str(request.param)
