"""The schema registry service as a process: what tests, benchmarks and operators start and stop."""

from typing import Any

from ops.registry._process import RegistryProcess, write_credentials

__all__ = ["SERVING", "RegistryProcess", "write_credentials"]

SERVING: dict[str, Any] = {"loop": "uvloop", "http": "httptools"}
"""How uvicorn serves the registry (``enlace registry serve``; the registry benchmark's baseline the
same): uvloop's event loop and httptools' parser, from ``uvicorn[standard]``. Named rather than left to
uvicorn's "auto", so that a missing one is an error at start, not a silently slower registry."""
