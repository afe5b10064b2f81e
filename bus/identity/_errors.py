"""Why a signature failed, as SignatureError kinds; ``reason`` is the slug dead letters carry."""

from __future__ import annotations

from bus._errors import SignatureError

__all__ = [
    "BadBatchProof",
    "BadSignature",
    "DuplicateHeader",
    "ExpiredKey",
    "MissingSignature",
    "RevokedKey",
    "SenderMismatch",
    "UnknownKey",
    "UnsupportedSignatureVersion",
    "WrongTopic",
]


class MissingSignature(SignatureError):
    """The record carries no signature or no key id: it is unsigned."""

    reason = "missing-signature"


class DuplicateHeader(SignatureError):
    """A signed header occurs twice, so the receiver cannot know which value the signature covers."""

    reason = "duplicate-header"


class UnknownKey(SignatureError):
    """The key id is not in the trust topic (never published, or removed)."""

    reason = "unknown-key"


class RevokedKey(SignatureError):
    """The key was revoked in the trust topic."""

    reason = "revoked-key"


class ExpiredKey(SignatureError):
    """The key is outside its validity dates (not yet valid, or expired)."""

    reason = "expired-key"


class SenderMismatch(SignatureError):
    """The key is trusted, but belongs to another agency than the record's ``ce_source`` claims."""

    reason = "sender-mismatch"


class BadSignature(SignatureError):
    """The signature does not match the headers, key and payload: something was altered."""

    reason = "bad-signature"


class UnsupportedSignatureVersion(SignatureError):
    """The record is signed in a form this receiver does not accept (``enlace_sigv`` is not ``2``:
    version 1 bound a record to no topic)."""

    reason = "unsupported-signature-version"


class WrongTopic(SignatureError):
    """The signed form names another topic (``enlace_topic``) than the one the record was read from:
    it was copied, or sent, where its sender did not mean it to go."""

    reason = "wrong-topic"


class BadBatchProof(SignatureError):
    """A batch-signed record's place in its batch (``enlace_batch``) or audit path (``enlace_proof``)
    is missing or malformed: no leaf index below the batch size, or a path of the wrong length."""

    reason = "bad-batch-proof"
