"""Where the codec finds schema ids: the ``SchemaSource`` protocol and an in-memory source."""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol, runtime_checkable

from bus.codec._errors import UnknownSchemaId

__all__ = ["InMemorySchemaSource", "SchemaSource"]


@runtime_checkable
class SchemaSource(Protocol):
    """A schema registry as the codec sees it (the HTTP registry client satisfies it too)."""

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        """The writer schema registered under ``schema_id``, as parsed JSON.

        A schema may name shared types (``"mx.gob.common.Person"``) without defining them; the codec
        resolves such names against its catalog. A source that knows the exact referenced versions
        (a registry with schema references) should return them defined inline.

        Raises:
            UnknownSchemaId: no schema has this id.
        """
        ...

    def id_for(self, subject: str, schema: dict[str, Any]) -> int:
        """The id of ``schema`` under ``subject``, registering it when it is new."""
        ...


class InMemorySchemaSource:
    """A registry in a dict, for tests and tools that need no shared registry.

    Ids start at 1; the same schema (compared as canonical JSON) gets the same id under any subject,
    as in the Confluent registry. Safe to share between threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._schemas: dict[int, str] = {}
        self._ids: dict[str, int] = {}
        self._subjects: dict[str, list[int]] = {}

    def id_for(self, subject: str, schema: dict[str, Any]) -> int:
        """Register ``schema`` under ``subject`` (idempotently) and return its id."""
        text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
        with self._lock:
            schema_id = self._ids.get(text)
            if schema_id is None:
                schema_id = len(self._schemas) + 1
                self._schemas[schema_id] = text
                self._ids[text] = schema_id
            versions = self._subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return schema_id

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        """The schema registered under ``schema_id`` (a fresh copy).

        Raises:
            UnknownSchemaId: no schema has this id.
        """
        text = self._schemas.get(schema_id)
        if text is None:
            raise UnknownSchemaId(
                f"schema id {schema_id} is not registered (known ids: 1..{len(self._schemas)})",
                schema_id=schema_id,
            )
        return json.loads(text)  # type: ignore[no-any-return]

    def subjects(self) -> dict[str, list[int]]:
        """Every subject and the ids registered under it, oldest first."""
        with self._lock:
            return {subject: list(ids) for subject, ids in self._subjects.items()}
