"""The checks a new schema passes: the policy's rules and ownership, then compatibility."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bus.avsc import NAMED_KINDS
from bus.policy import CompatibilityLevel
from bus.registry._canonical import Reference
from bus.registry._errors import ErrorCode, RegistryError, not_found
from bus.registry.compatibility import ParsedSchema, check_compatibility
from bus.registry.server._config import ConfigAndMode
from bus.registry.server._core import Version, parse_version, policy_violation, policy_violations

__all__ = ["SchemaChecks"]


class SchemaChecks(ConfigAndMode):
    """``POST /compatibility/...`` and the policy and compatibility checks a registration makes."""

    def check(
        self, subject: str, text: str, references: Sequence[Reference], version: Version | None = None
    ) -> tuple[bool, list[str]]:
        """POST /compatibility/...: whether ``text`` may follow ``version`` (or the level's versions).

        A read, open to all: the version is checked first and the schema is held to the limits; the
        check itself runs on parsed schemas taken from the state, without holding its lock.
        """
        number = None if version is None else parse_version(version)
        new = self.parse(text, references)
        with self._lock:
            effective = level = self._effective_level(subject)
            entries = self._state.entries(subject, deleted=False)
            if version is not None:
                if not entries:
                    if number is None:
                        return True, []
                    raise not_found(ErrorCode.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
                entry = self._entry(subject, version, deleted=False)
                if level is CompatibilityLevel.NONE:
                    return True, []
                level = CompatibilityLevel(level.removesuffix("_TRANSITIVE"))
                against = [(entry.version, self.parsed(entry.id))]
            else:
                against = [(e.version, self.parsed(e.id)) for e in entries]
        messages = check_compatibility(new, against, level, cache=self._compatibility)
        if messages:
            messages.append(f"compatibility: {effective}")
        return not messages, messages

    def _enforce_compatibility(self, subject: str, new: ParsedSchema) -> None:
        level = self._effective_level(subject)
        governed = self._policy is not None and self._governed(subject, new)
        # Under the policy a soft delete cannot make room for a breaking change: check every version.
        entries = self._state.entries(subject, deleted=governed)
        against = [(e.version, self.parsed(e.id)) for e in entries]
        messages = check_compatibility(new, against, level, cache=self._compatibility)
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

    def _enforce_policy(self, subject: str, new: ParsedSchema, authorization: str | None) -> None:
        if self._policy is None:
            return
        namespace = self._namespace(subject, new)
        owner = self._policy.owner_of(namespace)
        previous = self._namespace(subject)
        previous_owner = self._policy.owner_of(previous) if previous else owner
        if previous_owner != owner:
            raise policy_violation(
                "ownership.owned-namespace",
                "",
                f"subject {subject} belongs to {previous_owner}; it cannot move to {owner}",
            )
        what = f"Registering under {subject} (namespace {namespace})"
        if owner is not None:
            self._authorize(owner, authorization, what)  # the owner hears about the rules, nobody else
        violations = self._policy.check(new.json, subject=subject, shared_types=self._shared_types())
        if violations:
            raise policy_violations(violations)
        if owner is None:
            self._authorize(owner, authorization, what)

    def _shared_types(self) -> dict[str, Any]:
        assert self._policy is not None
        shared: dict[str, Any] = {}
        prefix = self._policy.shared_namespace + "."
        for subject in self._state.subjects:
            entries = self._state.entries(subject, deleted=False)
            if not entries:
                continue
            node = self.parsed(entries[-1].id).json
            if isinstance(node, dict) and node.get("type") in NAMED_KINDS:
                name = self.parsed(entries[-1].id).fullname or ""
                if name.startswith(prefix):
                    shared[name] = node
        return shared
