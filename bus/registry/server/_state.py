"""The registry's state: what the ``_schemas`` records say, folded in log order.

Keys are JSON with a fixed property order and no whitespace, so the same logical key is always the
same bytes and Kafka's compaction keeps the right record (compaction compares key bytes):
``{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}``,
``{"keytype":"CONFIG","subject":null,"magic":0}``, ``{"keytype":"MODE","subject":"s","magic":0}``,
``{"keytype":"ID_WATERMARK","magic":0}``. A null value (tombstone) deletes the key; the id
watermark keeps ids from being reused after a permanent delete has been compacted away.
"""

from __future__ import annotations

import enum
import json
import logging
from dataclasses import dataclass
from typing import Any

from bus.policy import CompatibilityLevel
from bus.registry._canonical import Reference, canonical_json, schema_json
from bus.registry._errors import RegistryError
from bus.registry._limits import CEILING, check_text

__all__ = [
    "MODES",
    "Change",
    "RegistryState",
    "SchemaEntry",
    "config_key",
    "id_watermark_key",
    "mode_key",
    "schema_key",
]

log = logging.getLogger(__name__)

#: The modes a subject or the registry may be in.
MODES = ("READWRITE", "READONLY", "IMPORT")
LEVELS = tuple(CompatibilityLevel)


def _key(**fields: Any) -> bytes:
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def schema_key(subject: str, version: int) -> bytes:
    """The byte-exact key of one subject version."""
    return _key(keytype="SCHEMA", subject=subject, version=version, magic=1)


def config_key(subject: str | None) -> bytes:
    """The byte-exact key of a compatibility setting (None: global)."""
    return _key(keytype="CONFIG", subject=subject, magic=0)


def mode_key(subject: str | None) -> bytes:
    """The byte-exact key of a mode setting (None: global)."""
    return _key(keytype="MODE", subject=subject, magic=0)


def id_watermark_key() -> bytes:
    """The byte-exact key of the highest id ever handed out."""
    return _key(keytype="ID_WATERMARK", magic=0)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _positive(value: Any) -> int:
    if type(value) is not int or not 1 <= value <= 2**31 - 1:
        raise ValueError(f"expected a positive 32-bit integer, got {type(value).__name__}")
    return value


def encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class SchemaEntry:
    """One version of one subject."""

    subject: str
    version: int
    id: int
    schema: str
    references: tuple[Reference, ...]
    deleted: bool = False

    def to_value(self) -> bytes:
        return encode(
            {
                "subject": self.subject,
                "version": self.version,
                "id": self.id,
                "schemaType": "AVRO",
                "schema": self.schema,
                "references": [r.to_json() for r in self.references],
                "deleted": self.deleted,
            }
        )

    def to_json(self) -> dict[str, Any]:
        """The Confluent response shape of a subject version."""
        body: dict[str, Any] = {"subject": self.subject, "version": self.version, "id": self.id, "schema": self.schema}
        if self.references:
            body["references"] = [r.to_json() for r in self.references]
        return body


def identity_of(text: str, references: tuple[Reference, ...]) -> str:
    """A stored schema's identity without parsing it with Avro (see ``_schema``): canonical JSON +
    references (the text itself when it cannot be put in canonical form).

    Raises:
        ValueError: the text is not JSON, or nests deeper than the limits' ceiling: a record
            nothing could serve, which the log skips.
    """
    try:
        check_text(text, CEILING)
        node = schema_json(text)
    except RegistryError as exc:
        raise ValueError(exc.message) from None
    try:
        canonical = json.dumps(canonical_json(node), sort_keys=True, separators=(",", ":"))
    except RegistryError:
        canonical = text
    return canonical + "\n" + json.dumps([r.to_json() for r in references], separators=(",", ":"))


class Change(enum.Flag):
    """What folding one record changed: what answers prepared from the state must drop."""

    NOTHING = 0
    SUBJECTS = enum.auto()  # a version was added, replaced (soft delete) or removed (hard delete)
    IDS = enum.auto()  # an id no version uses any more was forgotten
    SETTINGS = enum.auto()  # a compatibility level, a mode or the id watermark


class RegistryState:
    """Subjects, versions, ids and settings, as folded from the log. Not thread-safe by itself."""

    def __init__(self) -> None:
        self.subjects: dict[str, dict[int, SchemaEntry]] = {}
        self.schemas: dict[int, tuple[str, tuple[Reference, ...]]] = {}
        self.id_by_identity: dict[str, int] = {}
        self.identity_by_id: dict[int, str] = {}
        self.config: dict[str | None, str] = {}
        self.mode: dict[str | None, str] = {}
        self.max_id = 0

    def apply(self, key: bytes | None, value: bytes | None) -> Change:
        """Fold one record; records this version does not understand are skipped with a log line.

        The topic is input too (another registry, an operator's tool): no record it holds may stop
        the reader, or every instance would refuse to serve.

        Returns:
            What the record changed (``Change.NOTHING`` for a skipped one).
        """
        try:
            return self._apply(key, value)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            shown = key[:200] if key else key
            log.warning("skipping an unreadable registry record with key %r: %s", shown, type(exc).__name__)
            return Change.NOTHING

    def _apply(self, key: bytes | None, value: bytes | None) -> Change:
        k = json.loads(key or b"null")
        v = None if value is None else json.loads(value)
        kind = k["keytype"]
        if kind == "SCHEMA":
            return self._apply_schema(_text(k["subject"]), _positive(k["version"]), v)
        if kind == "CONFIG":
            self._apply_setting(self.config, k.get("subject"), v, "compatibilityLevel", LEVELS)
        elif kind == "MODE":
            self._apply_setting(self.mode, k.get("subject"), v, "mode", MODES)
        elif kind == "ID_WATERMARK" and v is not None:
            self.max_id = max(self.max_id, _positive(v["maxId"]))
        else:
            return Change.NOTHING
        return Change.SETTINGS

    @staticmethod
    def _apply_setting(
        settings: dict[str | None, str], subject: Any, value: Any, field: str, known: tuple[str, ...]
    ) -> None:
        if subject is not None:
            subject = _text(subject)
        if value is None:
            settings.pop(subject, None)
            return
        setting = _text(value[field])
        if setting not in known:
            raise ValueError(f"unknown {field} {setting!r}")
        settings[subject] = setting

    def _apply_schema(self, subject: str, version: int, value: Any) -> Change:
        versions = self.subjects.get(subject, {})
        if value is None:
            removed = versions.pop(version, None)
            if not versions:
                self.subjects.pop(subject, None)
            if removed is None:
                return Change.NOTHING
            return Change.SUBJECTS | self._forget_unused_id(removed.id)
        references = tuple(
            Reference(_text(r["name"]), _text(r["subject"]), _positive(r["version"]))
            for r in value.get("references") or []
        )
        entry = SchemaEntry(
            subject, version, _positive(value["id"]), _text(value["schema"]), references, bool(value.get("deleted"))
        )
        identity = identity_of(entry.schema, references)  # before any change: an unreadable record is skipped
        self.subjects.setdefault(subject, versions)[version] = entry
        if entry.id not in self.schemas:
            self.schemas[entry.id] = (entry.schema, references)
            self.identity_by_id[entry.id] = identity
            self.id_by_identity.setdefault(identity, entry.id)
        self.max_id = max(self.max_id, entry.id)
        return Change.SUBJECTS

    def _forget_unused_id(self, schema_id: int) -> Change:
        if any(e.id == schema_id for versions in self.subjects.values() for e in versions.values()):
            return Change.NOTHING
        self.schemas.pop(schema_id, None)
        identity = self.identity_by_id.pop(schema_id, None)
        if identity is not None and self.id_by_identity.get(identity) == schema_id:
            del self.id_by_identity[identity]
        return Change.IDS

    def entries(self, subject: str, *, deleted: bool) -> list[SchemaEntry]:
        """A subject's versions, oldest first; soft-deleted ones only when ``deleted``."""
        versions = self.subjects.get(subject, {})
        return [versions[v] for v in sorted(versions) if deleted or not versions[v].deleted]

    def referencing(self, subject: str, version: int) -> list[int]:
        """Ids of the schemas that reference ``subject`` at ``version`` (permanently stored ones)."""
        ids = {
            e.id
            for versions in self.subjects.values()
            for e in versions.values()
            if any(r.subject == subject and r.version == version for r in e.references)
        }
        return sorted(ids)
