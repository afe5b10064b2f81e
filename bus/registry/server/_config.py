"""Compatibility levels and modes, per subject and global (``/config``, ``/mode``)."""

from __future__ import annotations

from typing import Any

from bus.policy import CompatibilityLevel
from bus.registry._errors import ErrorCode, RegistryError, not_found, unprocessable
from bus.registry._limits import abbreviated
from bus.registry.server._authorization import Authorization
from bus.registry.server._core import check_subject, policy_violation
from bus.registry.server._state import MODES, config_key, encode, mode_key

__all__ = ["DEFAULT_COMPATIBILITY", "MODES", "ConfigAndMode"]

DEFAULT_COMPATIBILITY = CompatibilityLevel.BACKWARD


def _shown(value: Any) -> str:
    return abbreviated(repr(value))


class ConfigAndMode(Authorization):
    """Reading and changing compatibility levels and modes; a governed subject keeps the policy's level."""

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
                f"Invalid compatibility level {_shown(level)}. Valid values are {', '.join(CompatibilityLevel)}",
            )
        level = level.upper()
        if subject is not None:
            check_subject(subject)
        self._authorize_settings(subject, authorization)  # again below, on the state the write decides on

        def decide() -> list[tuple[bytes, bytes | None]]:
            self._authorize_settings(subject, authorization)
            with self._lock:
                governed = subject is not None and self._governed(subject)
            if self._policy and subject is not None and governed:
                required = self._policy.level_for(subject)
                if level != required and not self._policy.relaxed(subject, "compatibility.default-level"):
                    raise policy_violation(
                        "compatibility.default-level",
                        "",
                        f"subject {subject} is a shared record and keeps compatibility {required}; "
                        f"a weaker level ({level}) would let an incompatible version overwrite it",
                    )
            return [(config_key(subject), encode({"compatibilityLevel": level}))]

        self._log.write(decide)
        return {"compatibility": level}

    def delete_compatibility(self, subject: str, *, authorization: str | None) -> dict[str, str]:
        self._authorize_settings(subject, authorization)
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
            raise unprocessable(
                ErrorCode.INVALID_MODE, f"Invalid mode {_shown(mode)}. Valid values are {', '.join(MODES)}"
            )
        mode = mode.upper()
        if subject is not None:
            check_subject(subject)
        self._authorize_mode(subject, mode, authorization)  # again below, on the state the write decides on

        def decide() -> list[tuple[bytes, bytes | None]]:
            self._authorize_mode(subject, mode, authorization)
            return [(mode_key(subject), encode({"mode": mode}))]

        self._log.write(decide)
        return {"mode": mode}

    def _authorize_mode(self, subject: str | None, mode: str, authorization: str | None) -> None:
        """A subject's owner may keep it READWRITE; anything else about modes is for admins.

        IMPORT takes ids and versions as given and skips the compatibility rule, and READONLY
        freezes a subject: an owner able to set either could overwrite a shared record with an
        incompatible one, or lift a freeze an admin set.
        """
        if self._policy is None:
            return
        if subject is None:
            self._authorize_admin(authorization, "Changing the registry's mode")
            return
        agency = self._credentials.agency_for(authorization)
        if agency is not None and agency in self._policy.admins:
            return
        # The effective mode: a subject's own READWRITE would otherwise lift a global READONLY.
        current = self.mode(subject, default_to_global=True)
        if mode == "READWRITE" and current == "READWRITE":
            self._authorize_settings(subject, authorization)
            return
        change = f"to {mode}" if current == "READWRITE" else f"from {current} to {mode}"
        what = f"Changing the mode of subject {subject} {change}"
        if agency is None:
            raise self._unauthenticated(None, what)
        admins = ", ".join(sorted(self._policy.admins)) or "none are listed"
        raise RegistryError(
            f"{what} is reserved to the policy's admins ({admins}): IMPORT takes ids and versions as given "
            "and skips the compatibility rule, READONLY freezes the subject; "
            f"the credential is {agency}'s [ownership.owner-credential]",
            http_status=403,
            error_code=ErrorCode.FORBIDDEN,
        )
