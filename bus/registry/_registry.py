"""The registry's operations, as Confluent's API defines them, over the state and the log.

Reads answer from memory; when a read misses (404), the instance first catches up with the topic
so that an id or version just registered through another instance is found. Writes decide on the
latest state as the only writer (see ``_log``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from bus.registry._compat import CompatibilityLevel, check_compatibility
from bus.registry._credentials import AgencyCredentials
from bus.registry._errors import ErrorCode, RegistryError, not_found, unprocessable
from bus.registry._policy import Policy
from bus.registry._schema import NAMED, ParsedSchema, Reference, parse_schema
from bus.registry._state import (
    RegistryState,
    SchemaEntry,
    config_key,
    encode,
    id_watermark_key,
    identity_of,
    mode_key,
    schema_key,
)

__all__ = ["MODES", "SchemaLog", "SchemaRegistry", "parse_version"]

MODES = ("READWRITE", "READONLY", "IMPORT")
DEFAULT_COMPATIBILITY = CompatibilityLevel.BACKWARD
T = TypeVar("T")
Version = int | str


class SchemaLog(Protocol):
    """Where the registry's records live (``KafkaSchemaLog`` in production)."""

    def start(self, apply: Callable[[bytes, bytes | None], None]) -> None: ...
    def sync(self, target: int | None = None) -> None: ...
    def write(self, decide: Callable[[], Sequence[tuple[bytes, bytes | None]]]) -> None: ...
    def close(self) -> None: ...


def parse_version(version: str | int) -> int | None:
    """A path version as a number, or None for ``latest``/``-1``.

    Raises:
        RegistryError: 42202 for anything but a positive 32-bit integer, ``latest`` or -1.
    """
    text = str(version).strip()
    if text.lower() == "latest" or text == "-1":
        return None
    if text.isascii() and text.isdigit() and 1 <= int(text) <= 2**31 - 1:  # "¹".isdigit() is true too
        return int(text)
    raise unprocessable(
        ErrorCode.INVALID_VERSION,
        f"The specified version '{version}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    )


class SchemaRegistry:
    """A Confluent-compatible Avro schema registry enforcing an optional Interoperability Policy.

    Args:
        log: the storage log.
        policy: the policy to enforce, or None for a plain registry (no rules, no ownership).
        credentials: agency credentials, required for writes when a policy is set.
    """

    def __init__(
        self, log: SchemaLog, *, policy: Policy | None = None, credentials: AgencyCredentials | None = None
    ) -> None:
        self._log = log
        self._policy = policy
        self._credentials = credentials or AgencyCredentials({})
        self._state = RegistryState()
        self._lock = threading.RLock()
        self._parsed: dict[int, ParsedSchema] = {}

    @property
    def policy(self) -> Policy | None:
        return self._policy

    def start(self) -> None:
        """Replay the log into memory and follow it."""
        self._log.start(self._apply)

    def close(self) -> None:
        self._log.close()

    def _apply(self, key: bytes, value: bytes | None) -> None:
        with self._lock:
            self._state.apply(key, value)

    def _read(self, read: Callable[[], T]) -> T:
        try:
            with self._lock:
                return read()
        except RegistryError as exc:
            if exc.http_status != 404:
                raise
        self._log.sync()
        with self._lock:
            return read()

    # ---------------------------------------------------------------- reads

    def subjects(self, *, deleted: bool = False, prefix: str = "") -> list[str]:
        with self._lock:
            return sorted(
                s for s in self._state.subjects if s.startswith(prefix) and self._state.entries(s, deleted=deleted)
            )

    def versions(self, subject: str, *, deleted: bool = False) -> list[int]:
        return self._read(lambda: [e.version for e in self._entries_or_404(subject, deleted=deleted)])

    def _entries_or_404(self, subject: str, *, deleted: bool) -> list[SchemaEntry]:
        entries = self._state.entries(subject, deleted=deleted)
        if not entries:
            raise not_found(ErrorCode.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
        return entries

    def _entry(self, subject: str, version: Version, *, deleted: bool) -> SchemaEntry:
        number = parse_version(version)
        if number is None:
            return self._entries_or_404(subject, deleted=deleted)[-1]
        if subject not in self._state.subjects:
            raise not_found(ErrorCode.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
        entry = self._state.subjects[subject].get(number)
        if entry is None or (entry.deleted and not deleted):
            raise not_found(ErrorCode.VERSION_NOT_FOUND, f"Version {number} not found.")
        return entry

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

    def _schema_or_404(self, schema_id: int) -> tuple[str, tuple[Reference, ...]]:
        found = self._state.schemas.get(schema_id)
        if found is None:
            raise not_found(ErrorCode.SCHEMA_NOT_FOUND, f"Schema {schema_id} not found")
        return found

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
        """POST /subjects/{s}: the version of ``subject`` whose schema is equivalent to ``text``."""
        identity = identity_of(text, tuple(references))

        def read() -> dict[str, Any]:
            for entry in reversed(self._entries_or_404(subject, deleted=deleted)):
                if self._state.identity_by_id.get(entry.id) == identity:
                    return entry.to_json()
            raise not_found(ErrorCode.SCHEMA_NOT_FOUND, "Schema not found")

        self.parse(text, references)  # an invalid schema is 42201, not "not found"
        return self._read(read)

    def parsed(self, schema_id: int) -> ParsedSchema:
        """The parsed schema of an id (parsed once, with its references)."""
        with self._lock:
            cached = self._parsed.get(schema_id)
            if cached is None:
                text, references = self._schema_or_404(schema_id)
                cached = parse_schema(text, references=references, dependencies=self._dependencies(references))
                self._parsed[schema_id] = cached
            return cached

    def _dependencies(self, references: Sequence[Reference]) -> list[ParsedSchema]:
        deps = []
        for ref in references:
            entry = self._state.subjects.get(ref.subject, {}).get(ref.version)
            if entry is None:
                raise unprocessable(
                    ErrorCode.INVALID_SCHEMA,
                    f"Invalid schema: reference {ref.name!r} points to subject {ref.subject!r} "
                    f"version {ref.version}, which does not exist",
                )
            deps.append(self.parsed(entry.id))
        return deps

    def parse(self, text: str, references: Sequence[Reference]) -> ParsedSchema:
        """Parse a schema with its references resolved against this registry."""
        with self._lock:
            return parse_schema(text, references=references, dependencies=self._dependencies(references))

    # --------------------------------------------------------------- config

    def compatibility(self, subject: str | None = None, *, default_to_global: bool = False) -> str:
        with self._lock:
            if subject is not None:
                level = self._state.config.get(subject)
                if level is not None:
                    return level
                if not default_to_global:
                    raise not_found(
                        ErrorCode.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
                        f"Subject '{subject}' does not have subject-level compatibility configured",
                    )
            return self._state.config.get(None) or self._default_level()

    def _default_level(self) -> str:
        return str(self._policy.default_compatibility if self._policy else DEFAULT_COMPATIBILITY)

    def _effective_level(self, subject: str) -> CompatibilityLevel:
        return CompatibilityLevel(self.compatibility(subject, default_to_global=True))

    def set_compatibility(self, subject: str | None, level: Any, *, authorization: str | None) -> dict[str, str]:
        if not isinstance(level, str) or level.upper() not in CompatibilityLevel.__members__:
            raise unprocessable(
                ErrorCode.INVALID_COMPATIBILITY_LEVEL,
                f"Invalid compatibility level {level!r}. Valid values are {', '.join(CompatibilityLevel)}",
            )
        level = level.upper()

        def decide() -> list[tuple[bytes, bytes | None]]:
            self._authorize_settings(subject, authorization)
            with self._lock:
                governed = subject is not None and self._governed(subject)
            if self._policy and subject is not None and governed:
                required = self._policy.level_for(subject)
                if level != required and not self._policy.relaxed(subject, "compatibility.default-level"):
                    raise self._violation(
                        "compatibility.default-level",
                        "",
                        f"subject {subject} is a shared record and keeps compatibility {required}; "
                        f"a weaker level ({level}) would let an incompatible version overwrite it",
                    )
            return [(config_key(subject), encode({"compatibilityLevel": level}))]

        self._log.write(decide)
        return {"compatibility": level}

    def delete_compatibility(self, subject: str, *, authorization: str | None) -> dict[str, str]:
        previous = self.compatibility(subject)

        def decide() -> list[tuple[bytes, bytes | None]]:
            self._authorize_settings(subject, authorization)
            return [(config_key(subject), None)]

        self._log.write(decide)
        return {"compatibilityLevel": previous}

    def mode(self, subject: str | None = None, *, default_to_global: bool = False) -> str:
        with self._lock:
            if subject is not None:
                mode = self._state.mode.get(subject)
                if mode is not None:
                    return mode
                if not default_to_global:
                    raise not_found(
                        ErrorCode.SUBJECT_MODE_NOT_CONFIGURED,
                        f"Subject '{subject}' does not have subject-level mode configured",
                    )
            return self._state.mode.get(None, "READWRITE")

    def set_mode(self, subject: str | None, mode: Any, *, authorization: str | None) -> dict[str, str]:
        if not isinstance(mode, str) or mode.upper() not in MODES:
            raise unprocessable(ErrorCode.INVALID_MODE, f"Invalid mode {mode!r}. Valid values are {', '.join(MODES)}")
        mode = mode.upper()

        def decide() -> list[tuple[bytes, bytes | None]]:
            self._authorize_settings(subject, authorization)
            return [(mode_key(subject), encode({"mode": mode}))]

        self._log.write(decide)
        return {"mode": mode}

    # ------------------------------------------------------------- register

    def check(
        self, subject: str, text: str, references: Sequence[Reference], version: Version | None = None
    ) -> tuple[bool, list[str]]:
        """POST /compatibility/...: whether ``text`` may follow ``version`` (or the level's versions)."""
        new = self.parse(text, references)
        with self._lock:
            level = self._effective_level(subject)
            entries = self._state.entries(subject, deleted=False)
            if version is not None:
                number = parse_version(version)
                if not entries:
                    if number is None:
                        return True, []
                    raise not_found(ErrorCode.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
                entry = self._entry(subject, version, deleted=False)
                if level is CompatibilityLevel.NONE:
                    return True, []
                single = CompatibilityLevel(level.removesuffix("_TRANSITIVE"))
                messages = check_compatibility(new, [(entry.version, self.parsed(entry.id))], single)
            else:
                messages = check_compatibility(new, [(e.version, self.parsed(e.id)) for e in entries], level)
        if messages:
            messages.append(f"compatibility: {level}")
        return not messages, messages

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
        """POST /subjects/{s}/versions: register a schema (or find it) and return its id."""
        if not subject or any(ord(c) < 32 for c in subject):
            raise unprocessable(ErrorCode.INVALID_SUBJECT, f"Invalid subject {subject!r}")
        result: list[int] = []

        def decide() -> list[tuple[bytes, bytes | None]]:
            result.clear()
            with self._lock:
                records = self._decide_registration(
                    subject, text, references, authorization, schema_id, version, result
                )
            return records

        self._log.write(decide)
        return result[0]

    def _decide_registration(
        self,
        subject: str,
        text: str,
        references: Sequence[Reference],
        authorization: str | None,
        schema_id: int | None,
        version: int | None,
        result: list[int],
    ) -> list[tuple[bytes, bytes | None]]:
        mode = self.mode(subject, default_to_global=True)
        if mode == "READONLY":
            raise unprocessable(ErrorCode.OPERATION_NOT_PERMITTED, f"Subject {subject} is in read-only mode")
        if (schema_id is not None or version is not None) and mode != "IMPORT":
            raise unprocessable(
                ErrorCode.OPERATION_NOT_PERMITTED, "A schema id or version may be given only in IMPORT mode"
            )
        new = self.parse(text, references)
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
        entry = SchemaEntry(subject, number, new_id, text, tuple(references))
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

    def _enforce_compatibility(self, subject: str, new: ParsedSchema) -> None:
        level = self._effective_level(subject)
        governed = self._policy is not None and self._governed(subject, new)
        # Under the policy a soft delete cannot make room for a breaking change: check every version.
        entries = self._state.entries(subject, deleted=governed)
        messages = check_compatibility(new, [(e.version, self.parsed(e.id)) for e in entries], level)
        if not messages:
            return
        hint = ""
        if governed:
            name = (new.fullname or subject).rpartition(".")[2]
            hint = (
                f" [compatibility.breaking-change] a breaking change needs a new major version under a new "
                f"subject (e.g. a record named {name}V2), never an overwrite."
            )
        raise RegistryError(
            f'Schema being registered is incompatible with an earlier schema for subject "{subject}", '
            f"details: [{'; '.join(messages)}] (compatibility {level}).{hint}",
            http_status=409,
            error_code=ErrorCode.INCOMPATIBLE_SCHEMA,
        )

    # --------------------------------------------------------------- policy

    def _namespace(self, subject: str, new: ParsedSchema | None = None) -> str | None:
        for candidate in ([new] if new else []) + [
            self.parsed(e.id) for e in self._state.entries(subject, deleted=True)[-1:]
        ]:
            if candidate is not None and candidate.fullname:
                return candidate.fullname.rpartition(".")[0] or None
        if self._policy and "." in subject:
            # RecordNameStrategy: a subject is the record's full name.
            namespace = subject.rpartition(".")[0]
            if self._policy.owner_of(namespace):
                return namespace
        return None

    def _governed(self, subject: str, new: ParsedSchema | None = None) -> bool:
        return self._policy is not None and self._policy.owner_of(self._namespace(subject, new)) is not None

    def _authorize(self, agency_needed: str | None, authorization: str | None, what: str) -> None:
        agency = self._credentials.agency_for(authorization)
        if agency is None:
            raise RegistryError(
                f"{what} needs the credential of {agency_needed or 'an administrator agency'} "
                "(Authorization: Bearer <token>, or Basic with the agency URN as user) [ownership.owner-credential]",
                http_status=401,
                error_code=ErrorCode.UNAUTHORIZED,
            )
        if agency != agency_needed:
            raise RegistryError(
                f"{what} is reserved to {agency_needed or 'an administrator agency'}; the credential is "
                f"{agency}'s [ownership.owner-credential]",
                http_status=403,
                error_code=ErrorCode.FORBIDDEN,
            )

    def _authorize_settings(self, subject: str | None, authorization: str | None) -> None:
        if self._policy is None:
            return
        if subject is None:
            agency = self._credentials.agency_for(authorization)
            if agency is None or agency not in self._policy.admins:
                self._authorize(None, authorization, "Changing the global configuration")
            return
        with self._lock:
            owner = self._policy.owner_of(self._namespace(subject))
        if owner is None:
            raise unprocessable(
                ErrorCode.OPERATION_NOT_PERMITTED,
                f"No agency owns subject {subject} under the policy, so nobody may configure it "
                "[ownership.owned-namespace]",
            )
        self._authorize(owner, authorization, f"Changing subject {subject}")

    def _enforce_policy(self, subject: str, new: ParsedSchema, authorization: str | None) -> None:
        if self._policy is None:
            return
        violations = self._policy.check(new.json, subject=subject, shared_types=self._shared_types())
        if violations:
            raise self._violations(violations)
        namespace = self._namespace(subject, new)
        owner = self._policy.owner_of(namespace)
        previous = self._namespace(subject)
        previous_owner = self._policy.owner_of(previous) if previous else owner
        if previous_owner != owner:
            raise self._violation(
                "ownership.owned-namespace",
                "",
                f"subject {subject} belongs to {previous_owner}; it cannot move to {owner}",
            )
        self._authorize(owner, authorization, f"Registering under {subject} (namespace {namespace})")

    def _shared_types(self) -> dict[str, Any]:
        assert self._policy is not None
        shared: dict[str, Any] = {}
        prefix = self._policy.shared_namespace + "."
        for subject in self._state.subjects:
            entries = self._state.entries(subject, deleted=False)
            if not entries:
                continue
            node = self.parsed(entries[-1].id).json
            if isinstance(node, dict) and node.get("type") in NAMED:
                name = self.parsed(entries[-1].id).fullname or ""
                if name.startswith(prefix):
                    shared[name] = node
        return shared

    def _violation(self, rule: str, pointer: str, sentence: str) -> RegistryError:
        from bus._errors import PolicyViolation

        return self._violations([PolicyViolation(sentence, rule=rule, pointer=pointer or "/")])

    @staticmethod
    def _violations(violations: Sequence[Any]) -> RegistryError:
        return RegistryError(
            "Schema violates the Interoperability Policy: " + "; ".join(str(v) for v in violations),
            http_status=422,
            error_code=ErrorCode.POLICY_VIOLATION,
            details=[{"rule": v.rule, "pointer": v.pointer, "message": v.message} for v in violations],
        )

    # --------------------------------------------------------------- delete

    def delete_version(self, subject: str, version: Version, *, permanent: bool, authorization: str | None) -> int:
        """DELETE /subjects/{s}/versions/{v}: soft, or permanent after soft."""
        deleted: list[int] = []

        def decide() -> list[tuple[bytes, bytes | None]]:
            deleted.clear()
            with self._lock:
                self._authorize_delete(subject, authorization)
                number = parse_version(version)
                if number is None:
                    entry = self._entries_or_404(subject, deleted=permanent)[-1]
                else:
                    if subject not in self._state.subjects:
                        raise not_found(ErrorCode.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
                    found = self._state.subjects[subject].get(number)
                    if found is None:
                        raise not_found(ErrorCode.VERSION_NOT_FOUND, f"Version {number} not found.")
                    entry = found
                record = self._delete_record(entry, permanent)
                deleted.append(entry.version)
                return [record]

        self._log.write(decide)
        return deleted[0]

    def _delete_record(self, entry: SchemaEntry, permanent: bool) -> tuple[bytes, bytes | None]:
        referencing = self._state.referencing(entry.subject, entry.version)
        if referencing:
            raise unprocessable(
                ErrorCode.REFERENCE_EXISTS,
                f"One or more references exist to the schema {{subject={entry.subject}, version={entry.version}}}: "
                f"schema ids {referencing}",
            )
        if permanent:
            if not entry.deleted:
                raise not_found(
                    ErrorCode.VERSION_NOT_SOFT_DELETED,
                    f"Subject '{entry.subject}' Version {entry.version} was not deleted first "
                    "before being permanently deleted",
                )
            return (schema_key(entry.subject, entry.version), None)
        if entry.deleted:
            raise not_found(
                ErrorCode.VERSION_SOFT_DELETED,
                f"Subject '{entry.subject}' Version {entry.version} was soft deleted. "
                "Set permanent=true to delete permanently",
            )
        soft = SchemaEntry(entry.subject, entry.version, entry.id, entry.schema, entry.references, deleted=True)
        return (schema_key(entry.subject, entry.version), soft.to_value())

    def delete_subject(self, subject: str, *, permanent: bool, authorization: str | None) -> list[int]:
        """DELETE /subjects/{s}: soft-delete every version, or permanently delete a soft-deleted subject."""
        deleted: list[int] = []

        def decide() -> list[tuple[bytes, bytes | None]]:
            deleted.clear()
            with self._lock:
                self._authorize_delete(subject, authorization)
                everything = self._state.entries(subject, deleted=True)
                live = [e for e in everything if not e.deleted]
                if not everything:
                    raise not_found(ErrorCode.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
                if permanent and live:
                    raise not_found(
                        ErrorCode.SUBJECT_NOT_SOFT_DELETED,
                        f"Subject '{subject}' was not deleted first before being permanently deleted",
                    )
                if not permanent and not live:
                    raise not_found(
                        ErrorCode.SUBJECT_SOFT_DELETED,
                        f"Subject '{subject}' was soft deleted. Set permanent=true to delete permanently",
                    )
                targets = everything if permanent else live
                records = [self._delete_record(e, permanent) for e in targets]
                if permanent:
                    records += [(config_key(subject), None), (mode_key(subject), None)]
                deleted.extend(e.version for e in targets)
                return records

        self._log.write(decide)
        return deleted

    def _authorize_delete(self, subject: str, authorization: str | None) -> None:
        if self._policy is None:
            return
        owner = self._policy.owner_of(self._namespace(subject))
        if owner is not None:
            self._authorize(owner, authorization, f"Deleting from subject {subject}")
