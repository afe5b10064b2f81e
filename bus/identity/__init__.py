"""Agency identity: Ed25519 key pairs, signatures over records, and the keys a receiver trusts.

An agency (``urn:mx:gob:sat``) signs every record it publishes with its private key, binding it to
its topic, time, subject and payload; the signature, key id, signed-form version and topic travel as
Kafka headers (``enlace_signature``, ``enlace_keyid``, ``enlace_sigv``, ``enlace_topic``; the
canonical form is documented in ``bus/identity/_signing.py``). Receivers learn public keys from a compacted trust topic
(``enlace.trust``), believing only records the interoperability authority signed (the pinned trust
anchor, ``bus.identity._anchor``), and refuse records whose key is unknown, revoked or expired, whose sender is not
the key's agency, or whose bytes were altered.
"""

from bus.identity._anchor import AUTHORITY, MAX_VALIDITY, TrustAnchor, TrustStatement, UntrustedRecord
from bus.identity._errors import (
    BadSignature,
    DuplicateHeader,
    ExpiredKey,
    MissingSignature,
    RevokedKey,
    SenderMismatch,
    UnknownKey,
    UnsupportedSignatureVersion,
    WrongTopic,
)
from bus.identity._keys import AgencyKey, check_agency_urn, generate_key, key_id_for, load_key
from bus.identity._signing import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_VERSION,
    SIGNATURE_VERSION_HEADER,
    TOPIC_HEADER,
    canonical_form,
    is_signed_header,
    record_digest,
    sign_headers,
)
from bus.identity._trust import TrustedKey, TrustStore
from bus.identity._trust_topic import DEFAULT_TRUST_TOPIC, TrustTopicReader, publish_trusted_key

__all__ = [
    "AUTHORITY",
    "DEFAULT_TRUST_TOPIC",
    "KEY_ID_HEADER",
    "MAX_VALIDITY",
    "SIGNATURE_HEADER",
    "SIGNATURE_VERSION",
    "SIGNATURE_VERSION_HEADER",
    "TOPIC_HEADER",
    "AgencyKey",
    "BadSignature",
    "DuplicateHeader",
    "ExpiredKey",
    "MissingSignature",
    "RevokedKey",
    "SenderMismatch",
    "TrustAnchor",
    "TrustStatement",
    "TrustStore",
    "TrustTopicReader",
    "TrustedKey",
    "UnknownKey",
    "UnsupportedSignatureVersion",
    "UntrustedRecord",
    "WrongTopic",
    "canonical_form",
    "check_agency_urn",
    "generate_key",
    "is_signed_header",
    "key_id_for",
    "load_key",
    "publish_trusted_key",
    "record_digest",
    "sign_headers",
]
