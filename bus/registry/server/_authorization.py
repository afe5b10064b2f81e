"""Who may do what: the owner of a subject's namespace writes it, admins change global settings."""

from __future__ import annotations

from bus.registry._errors import ErrorCode, RegistryError, unprocessable
from bus.registry.compatibility import ParsedSchema
from bus.registry.server._core import RegistryCore

__all__ = ["Authorization"]


class Authorization(RegistryCore):
    """The ownership of subjects under the policy, and the credential checks that follow from it."""

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

    def _authorize_delete(self, subject: str, authorization: str | None) -> None:
        if self._policy is None:
            return
        owner = self._policy.owner_of(self._namespace(subject))
        if owner is not None:
            self._authorize(owner, authorization, f"Deleting from subject {subject}")
