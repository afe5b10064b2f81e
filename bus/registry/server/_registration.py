"""Registering a schema: the version it gets under its subject and the id it gets (or keeps).

An equivalent schema (same identity) keeps the id it already has, under any subject; a new one gets
the next id after the highest ever used (``ID_WATERMARK``), so a permanently deleted id is never
handed out again. Ids and versions may be given only in IMPORT mode, which only an admin of the
policy may set.
"""

from __future__ import annotations

from collections.abc import Sequence

from bus.registry._canonical import Reference
from bus.registry._errors import ErrorCode, unprocessable
from bus.registry.compatibility import ParsedSchema
from bus.registry.server._authorization import Write
from bus.registry.server._core import check_subject
from bus.registry.server._schema_checks import SchemaChecks
from bus.registry.server._state import SchemaEntry, encode, id_watermark_key, schema_key

__all__ = ["Registration"]


class Registration(SchemaChecks):
    """``POST /subjects/{s}/versions``."""

    def register(
        self,
        subject: str,
        text: str,
        references: Sequence[Reference] = (),
        *,
        authorization: str | None = None,
        schema_id: int | None = None,
        version: int | None = None,
    ) -> int:
        """POST /subjects/{s}/versions: register a schema (or find it) and return its id.

        In order of cost: the subject's name, the credential (``admit``, which the HTTP route has
        already run before reading the body), the mode, then the parse, held to the limits; only
        then the writer's turn, in which ownership, the policy and compatibility are decided on
        the fresh state.
        """
        check_subject(subject)
        self.admit(Write.REGISTER, subject, authorization)
        self._refuse_by_mode(subject, schema_id, version)
        new = self.parse(text, references)
        result: list[int] = []

        def decide() -> list[tuple[bytes, bytes | None]]:
            result.clear()
            with self._lock:
                return self._decide_registration(subject, self.current(new), authorization, schema_id, version, result)

        self._log.write(decide)
        return result[0]

    def _refuse_by_mode(self, subject: str, schema_id: int | None, version: int | None) -> str:
        mode = self.mode(subject, default_to_global=True)
        if mode == "READONLY":
            raise unprocessable(ErrorCode.OPERATION_NOT_PERMITTED, f"Subject {subject} is in read-only mode")
        if (schema_id is not None or version is not None) and mode != "IMPORT":
            raise unprocessable(
                ErrorCode.OPERATION_NOT_PERMITTED, "A schema id or version may be given only in IMPORT mode"
            )
        return mode

    def _decide_registration(
        self,
        subject: str,
        new: ParsedSchema,
        authorization: str | None,
        schema_id: int | None,
        version: int | None,
        result: list[int],
    ) -> list[tuple[bytes, bytes | None]]:
        mode = self._refuse_by_mode(subject, schema_id, version)
        self._enforce_policy(subject, new, authorization)
        entries = self._state.entries(subject, deleted=False)
        for entry in entries:
            if self._state.identity_by_id.get(entry.id) == new.identity:
                result.append(entry.id)
                return []
        if mode != "IMPORT":
            self._enforce_compatibility(subject, new)
        new_id = self._choose_id(new, schema_id)
        all_versions = self._state.subjects.get(subject, {})
        number = version if version is not None else max(all_versions, default=0) + 1
        if number in all_versions:
            raise unprocessable(ErrorCode.OPERATION_NOT_PERMITTED, f"Version {number} of {subject} already exists")
        entry = SchemaEntry(subject, number, new_id, new.text, new.references)
        records: list[tuple[bytes, bytes | None]] = [(schema_key(subject, number), entry.to_value())]
        if new_id > self._state.max_id:
            records.append((id_watermark_key(), encode({"maxId": new_id})))
        result.append(new_id)
        return records

    def _choose_id(self, new: ParsedSchema, requested: int | None) -> int:
        existing = self._state.id_by_identity.get(new.identity)
        if requested is None:
            return existing if existing is not None else self._state.max_id + 1
        taken = self._state.identity_by_id.get(requested)
        if taken is not None and taken != new.identity:
            raise unprocessable(
                ErrorCode.OPERATION_NOT_PERMITTED, f"Schema id {requested} is already used by another schema"
            )
        return requested
