"""Field-level encryption: fields the policy encrypts travel sealed, readable only by the agencies the
policy names as the record's readers.

Each agency keeps X25519 encryption keys (:class:`Keyring`, files 0600) and publishes the public half
beside its signing key through the trust anchor (``TrustedKey.encryption_key``); a sender seals the
fields with a fresh data key per record and wraps that key for each reader (HPKE, RFC 9180); a reader
opens them before the record is validated and decoded into its model. The format is documented in
``bus/encryption/_fields.py``.
"""

from bus.encryption._fields import (
    ENCRYPTION_FORMAT_VERSION,
    ENCRYPTION_HEADER,
    CannotDecrypt,
    FieldEncryption,
    FieldPlan,
    NotAReader,
    NotEncrypted,
    RecordIdentity,
    encryption_problems,
    plan_for,
)
from bus.encryption._keys import (
    EncryptionKey,
    Keyring,
    encryption_key_id,
    generate_encryption_key,
    load_encryption_key,
)

__all__ = [
    "ENCRYPTION_FORMAT_VERSION",
    "ENCRYPTION_HEADER",
    "CannotDecrypt",
    "EncryptionKey",
    "FieldEncryption",
    "FieldPlan",
    "Keyring",
    "NotAReader",
    "NotEncrypted",
    "RecordIdentity",
    "encryption_key_id",
    "encryption_problems",
    "generate_encryption_key",
    "load_encryption_key",
    "plan_for",
]
