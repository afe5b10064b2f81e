"""Who may do what: the owner of a subject's namespace writes it, admins change global settings and modes.

Credentials come first. ``admit`` runs before a write's body is read or parsed, before the writer's
lock is taken and before the log is caught up: a request without a known agency's credential is
refused (401) for the price of one SHA-256, and one whose subject's owner is known without the
request's schema (from the subject's name, RecordNameStrategy, or its registered versions) is refused
(403) unless it is that owner's. The write then checks again, on the fresh state, once it is decided.
"""

from __future__ import annotations

from enum import Enum

from bus.registry._errors import ErrorCode, RegistryError, unprocessable
from bus.registry.compatibility import ParsedSchema
from bus.registry.server._core import RegistryCore

__all__ = ["Authorization", "Write"]


class Write(Enum):
    """The kinds of write a request makes, as ``admit`` tells them apart."""

    REGISTER = "Registering under"
    DELETE = "Deleting from"
    CONFIGURE = "Changing the compatibility of"
    MODE = "Changing the mode of"


class Authorization(RegistryCore):
    """The ownership of subjects under the policy, and the credential checks that follow from it."""

    def admit(self, write: Write, subject: str | None, authorization: str | None) -> None:
        """Refuse a write by its credential alone, before anything costly (see the module's doc).

        Args:
            write: what the request does.
            subject: the subject it writes, or None for the global configuration or mode.
            authorization: the request's ``Authorization`` header.

        Raises:
            RegistryError: 401/40101 without a known agency's credential; 403/40301 when the
                credential is not that of the subject's known owner (or of an admin, for global
                settings and modes).
        """
        if self._policy is None:
            return
        agency = self._credentials.agency_for(authorization)
        what = f"{write.value} {'the registry' if subject is None else f'subject {subject}'}"
        if agency is None:
            # Named from the subject's name alone: a refusal without credentials takes no lock.
            named = None if subject is None else self._policy.owner_of(subject.rpartition(".")[0])
            raise self._unauthenticated(named, what)
        if agency in self._policy.admins and (subject is None or write is Write.MODE):
            return
        if subject is None:
            raise self._forbidden(None, agency, what)
        owner = self._known_owner(subject)
        if owner is not None and agency != owner:
            raise self._forbidden(owner, agency, what)

    def _known_owner(self, subject: str) -> str | None:
        assert self._policy is not None
        with self._lock:
            return self._policy.owner_of(self._namespace(subject))

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

    @staticmethod
    def _unauthenticated(agency_needed: str | None, what: str) -> RegistryError:
        return RegistryError(
            f"{what} needs the credential of {agency_needed or 'the owning agency or an administrator'} "
            "(Authorization: Bearer <token>, or Basic with the agency URN as user) [ownership.owner-credential]",
            http_status=401,
            error_code=ErrorCode.UNAUTHORIZED,
        )

    @staticmethod
    def _forbidden(agency_needed: str | None, agency: str, what: str) -> RegistryError:
        return RegistryError(
            f"{what} is reserved to {agency_needed or 'an administrator agency of the policy'}; the credential "
            f"is {agency}'s [ownership.owner-credential]",
            http_status=403,
            error_code=ErrorCode.FORBIDDEN,
        )

    def _authorize(self, agency_needed: str | None, authorization: str | None, what: str) -> None:
        agency = self._credentials.agency_for(authorization)
        if agency is None:
            raise self._unauthenticated(agency_needed, what)
        if agency != agency_needed:
            raise self._forbidden(agency_needed, agency, what)

    def _authorize_admin(self, authorization: str | None, what: str) -> None:
        assert self._policy is not None
        agency = self._credentials.agency_for(authorization)
        if agency is None:
            raise self._unauthenticated(None, what)
        if agency not in self._policy.admins:
            raise self._forbidden(None, agency, what)

    def _authorize_settings(self, subject: str | None, authorization: str | None) -> None:
        if self._policy is None:
            return
        if subject is None:
            self._authorize_admin(authorization, "Changing the global configuration")
            return
        with self._lock:
            owner = self._policy.owner_of(self._namespace(subject))
        if owner is None:
            if self._credentials.agency_for(authorization) is None:
                raise self._unauthenticated(None, f"Changing subject {subject}")
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
        if owner is None:
            self._authorize_admin(authorization, f"Deleting from subject {subject}")
        else:
            self._authorize(owner, authorization, f"Deleting from subject {subject}")
