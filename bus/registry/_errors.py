"""The registry's error, carrying Confluent's HTTP status and error code."""

from __future__ import annotations

from bus._errors import SchemaError

__all__ = ["ErrorCode", "RegistryError"]


class ErrorCode:
    """Confluent Schema Registry error codes (plus 401/403 ones for agency credentials)."""

    UNKNOWN = -1  # an answer that is not the registry's, as confluent-kafka's client says
    UNAUTHORIZED = 40101
    FORBIDDEN = 40301
    SUBJECT_NOT_FOUND = 40401
    VERSION_NOT_FOUND = 40402
    SCHEMA_NOT_FOUND = 40403
    SUBJECT_SOFT_DELETED = 40404
    SUBJECT_NOT_SOFT_DELETED = 40405
    VERSION_SOFT_DELETED = 40406
    VERSION_NOT_SOFT_DELETED = 40407
    SUBJECT_COMPATIBILITY_NOT_CONFIGURED = 40408
    SUBJECT_MODE_NOT_CONFIGURED = 40409
    NOT_FOUND = 404
    INCOMPATIBLE_SCHEMA = 409
    INVALID_SCHEMA = 42201
    INVALID_VERSION = 42202
    INVALID_COMPATIBILITY_LEVEL = 42203
    INVALID_MODE = 42204
    OPERATION_NOT_PERMITTED = 42205
    REFERENCE_EXISTS = 42206
    INVALID_SUBJECT = 42208
    SCHEMA_TOO_LARGE = 42209
    POLICY_VIOLATION = 42230
    STORE_ERROR = 50001
    STORE_TIMEOUT = 50002


class RegistryError(SchemaError):
    """A registry operation was refused or failed, with Confluent's status and error code.

    Attributes:
        http_status: the HTTP status the service answers (or answered) with.
        error_code: Confluent's error code, e.g. 40401 (subject not found), 409 (incompatible).
        message: what went wrong, where and why.
        details: extra structured data, e.g. ``{"rule": ..., "pointer": ...}`` of a policy violation.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        error_code: int,
        details: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message, http_status=http_status, error_code=error_code)
        self.http_status = http_status
        self.error_code = error_code
        self.details = details or []

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.http_status}, error {self.error_code})"

    def to_body(self) -> dict[str, object]:
        """The Confluent error body ``{"error_code", "message"}`` (plus ``details`` when any)."""
        body: dict[str, object] = {"error_code": self.error_code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


def not_found(error_code: int, message: str) -> RegistryError:
    return RegistryError(message, http_status=404, error_code=error_code)


def unprocessable(error_code: int, message: str) -> RegistryError:
    return RegistryError(message, http_status=422, error_code=error_code)
