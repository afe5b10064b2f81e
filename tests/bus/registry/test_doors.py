"""The registry's doors: a client imports without the server, each door exports what it says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SERVER_SIDE = ("fastapi", "uvicorn", "starlette", "avro")


def _modules_after(statement: str) -> list[str]:
    """Top-level packages loaded by ``statement`` in a fresh interpreter."""
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    return list(json.loads(result.stdout.splitlines()[-1]))


def test_importing_the_registry_client_loads_neither_the_server_nor_avro() -> None:
    loaded = _modules_after("from bus.registry import ErrorCode, RegistryClient, RegistryError")
    assert [name for name in SERVER_SIDE if name in loaded] == []


def test_the_server_door_does_load_the_server() -> None:
    # The check above would pass vacuously if the subprocess could not see these packages at all.
    loaded = _modules_after("import bus.registry.server")
    assert {"fastapi", "avro"} <= set(loaded)


@pytest.mark.parametrize(
    "door",
    ["bus.registry", "bus.registry.server", "bus.registry.compatibility", "bus.registry.checks", "bus.policy"],
)
def test_every_door_exports_what_it_lists(door: str) -> None:
    module = __import__(door, fromlist=["__all__"])
    assert module.__all__, door
    assert [name for name in module.__all__ if not hasattr(module, name)] == []


def test_the_client_door_is_the_client_side_only() -> None:
    import bus.registry

    assert set(bus.registry.__all__) == {"ErrorCode", "Reference", "RegistryClient", "RegistryError", "canonical_json"}
