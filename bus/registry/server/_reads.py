"""The registry's reads: subjects, versions, schemas by id, look-ups.

The hot reads (``HotRead``) are answered as prepared bytes (``_answers``): ``prepared`` looks one up
without a lock, ``answer`` prepares it from the state, catching up with the log once when the state
has none.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bus.registry._canonical import Reference
from bus.registry._errors import ErrorCode, RegistryError, not_found
from bus.registry.server._answers import Answer, HotRead, Read, error_body, render_json
from bus.registry.server._core import RegistryCore, Version

__all__ = ["Reads"]


class Reads(RegistryCore):
    """``GET /subjects...``, ``GET /schemas/ids/...`` and ``POST /subjects/{s}`` (look-up)."""

    def prepared(self, question: HotRead) -> Answer | None:
        """The answer prepared for ``question`` since the state last changed it, if any.

        Takes no lock and does no I/O: the service calls it on its event loop.

        Args:
            question: the hot read.

        Returns:
            The answer, or None when ``answer`` must prepare it (in a thread).
        """
        return self._answers.get(question)

    def answer(self, question: HotRead) -> Answer:
        """A hot read's answer, prepared from the state and kept until the log changes it.

        When the state has no answer (404), the instance first catches up with the log, once for
        every request asking the same question meanwhile, and then remembers "not found" until the
        log moves (briefly at most): the same unknown id asked again costs no Kafka round trip.

        Args:
            question: the hot read.

        Returns:
            Its status and body bytes (404 with Confluent's error body when there is nothing).

        Raises:
            RegistryError: 50001/50002 when the log cannot be read for the catch-up.
        """
        with self._lock:
            found = self._answers.get(question) or self._prepare(question, caught_up=False)
        if found is not None:
            return found
        return self._catch_ups.once(question, lambda: self._prepare_caught_up(question))

    def _prepare_caught_up(self, question: HotRead) -> Answer:
        with self._lock:
            found = self._answers.get(question)  # a catch-up that ended a moment ago answered it
        if found is not None:
            return found
        self._log.sync()
        with self._lock:
            found = self._prepare(question, caught_up=True)
        assert found is not None  # a "not found" after a catch-up is an answer too
        return found

    def _prepare(self, question: HotRead, *, caught_up: bool) -> Answer | None:
        """The answer from the state now (call with the lock held); None for a "not found" that
        needs a catch-up first."""
        try:
            content = self._content(question)
        except RegistryError as exc:
            if exc.http_status != 404:
                raise
            return self._answers.keep(question, Answer(404, error_body(exc))) if caught_up else None
        return self._answers.keep(question, Answer(200, render_json(content)))

    def _content(self, question: HotRead) -> Any:
        read = question.read
        if read is Read.SCHEMA_BY_ID:
            return self._schema_json(question.schema_id)
        if read is Read.RAW_SCHEMA_BY_ID:
            return json.loads(self._schema_or_404(question.schema_id)[0])
        if read is Read.SUBJECTS:
            return self._subject_names(deleted=question.deleted, prefix="")
        if read is Read.VERSIONS:
            return [e.version for e in self._entries_or_404(question.subject, deleted=question.deleted)]
        version: Version = "latest" if question.version is None else question.version
        entry = self._entry(question.subject, version, deleted=question.deleted)
        if read is Read.VERSION:
            return entry.to_json()
        return json.loads(entry.schema)

    def _schema_json(self, schema_id: int) -> dict[str, Any]:
        text, references = self._schema_or_404(schema_id)
        body: dict[str, Any] = {"schema": text}
        if references:
            body["references"] = [r.to_json() for r in references]
        return body

    def _subject_names(self, *, deleted: bool, prefix: str) -> list[str]:
        subjects = self._state.subjects
        return sorted(s for s in subjects if s.startswith(prefix) and self._state.entries(s, deleted=deleted))

    def _require_schema(self, schema_id: int) -> None:
        """Raise 40403 unless the id exists, through the id's prepared answer (and its catch-up)."""
        found = self.answer(HotRead(Read.SCHEMA_BY_ID, schema_id=schema_id))
        if found.status == 404:
            raise not_found(ErrorCode.SCHEMA_NOT_FOUND, f"Schema {schema_id} not found")

    def subjects(self, *, deleted: bool = False, prefix: str = "") -> list[str]:
        with self._lock:
            return self._subject_names(deleted=deleted, prefix=prefix)

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
        return self._read(lambda: self._schema_json(schema_id))

    def id_versions(self, schema_id: int, *, deleted: bool = False) -> list[dict[str, Any]]:
        self._require_schema(schema_id)
        with self._lock:
            self._schema_or_404(schema_id)  # still there: a permanent delete may have come between
            return [
                {"subject": e.subject, "version": e.version}
                for s in sorted(self._state.subjects)
                for e in self._state.entries(s, deleted=deleted)
                if e.id == schema_id
            ]

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
