"""Deletes: soft first, then permanent; a version another schema references stays."""

from __future__ import annotations

from bus.registry._errors import ErrorCode, not_found, unprocessable
from bus.registry.server._authorization import Authorization, Write
from bus.registry.server._core import Version, parse_version
from bus.registry.server._state import SchemaEntry, config_key, mode_key, schema_key

__all__ = ["Deletes"]


class Deletes(Authorization):
    """``DELETE /subjects/{s}/versions/{v}`` and ``DELETE /subjects/{s}``."""

    def delete_version(self, subject: str, version: Version, *, permanent: bool, authorization: str | None) -> int:
        """DELETE /subjects/{s}/versions/{v}: soft, or permanent after soft."""
        self.admit(Write.DELETE, subject, authorization)
        parse_version(version)
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
        self.admit(Write.DELETE, subject, authorization)
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
