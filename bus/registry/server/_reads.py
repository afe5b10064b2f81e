"""The registry's reads: subjects, versions, schemas by id, look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bus.registry._canonical import Reference
from bus.registry._errors import ErrorCode, not_found
from bus.registry.server._core import RegistryCore, Version

__all__ = ["Reads"]


class Reads(RegistryCore):
    """``GET /subjects...``, ``GET /schemas/ids/...`` and ``POST /subjects/{s}`` (look-up)."""

    def subjects(self, *, deleted: bool = False, prefix: str = "") -> list[str]:
        with self._lock:
            return sorted(
                s for s in self._state.subjects if s.startswith(prefix) and self._state.entries(s, deleted=deleted)
            )

    def versions(self, subject: str, *, deleted: bool = False) -> list[int]:
        return self._read(lambda: [e.version for e in self._entries_or_404(subject, deleted=deleted)])

    def version(self, subject: str, version: Version, *, deleted: bool = False) -> dict[str, Any]:
        return self._read(lambda: self._entry(subject, version, deleted=deleted).to_json())

    def referenced_by(self, subject: str, version: Version) -> list[int]:
        def read() -> list[int]:
            entry = self._entry(subject, version, deleted=True)
            return self._state.referencing(subject, entry.version)

        return self._read(read)

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            text, references = self._schema_or_404(schema_id)
            body: dict[str, Any] = {"schema": text}
            if references:
                body["references"] = [r.to_json() for r in references]
            return body

        return self._read(read)

    def id_versions(self, schema_id: int, *, deleted: bool = False) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            self._schema_or_404(schema_id)
            return [
                {"subject": e.subject, "version": e.version}
                for s in sorted(self._state.subjects)
                for e in self._state.entries(s, deleted=deleted)
                if e.id == schema_id
            ]

        return self._read(read)

    def id_subjects(self, schema_id: int, *, deleted: bool = False) -> list[str]:
        return sorted({v["subject"] for v in self.id_versions(schema_id, deleted=deleted)})

    def lookup(
        self, subject: str, text: str, references: Sequence[Reference], *, deleted: bool = False
    ) -> dict[str, Any]:
        """POST /subjects/{s}: the version of ``subject`` whose schema is equivalent to ``text``.

        The schema is parsed first, held to the limits: an invalid one is 42201, not "not found".
        """
        identity = self.parse(text, references).identity

        def read() -> dict[str, Any]:
            for entry in reversed(self._entries_or_404(subject, deleted=deleted)):
                if self._state.identity_by_id.get(entry.id) == identity:
                    return entry.to_json()
            raise not_found(ErrorCode.SCHEMA_NOT_FOUND, "Schema not found")

        return self._read(read)
