"""Agency identity: Ed25519 key pairs, signatures over records, and the keys a receiver trusts.

An agency (``urn:mx:gob:sat``) signs every record it publishes with its private key, binding it to
its topic, time, subject and payload; the signature, key id, signed-form version and topic travel as
Kafka headers (``enlace_signature``, ``enlace_keyid``, ``enlace_sigv``, ``enlace_topic``; the
canonical form is documented in ``bus/identity/_signing.py``). Receivers learn public keys from a compacted trust topic
(``enlace.trust``), believing only records the interoperability authority signed (the pinned trust
anchor, ``bus.identity._anchor``), and refuse records whose key is unknown, revoked or expired, whose sender is not
the key's agency, or whose bytes were altered. Records sent together may be signed together
(signed form 3, ``enlace_sigv`` = ``3``: one signature over a Merkle tree of their digests, each
record carrying its leaf index and audit path in ``enlace_batch`` and ``enlace_proof``; documented
byte by byte in ``bus/identity/_batch.py``), and each still verifies alone.
"""

from bus.identity._anchor import AUTHORITY, MAX_VALIDITY, TrustAnchor, TrustStatement, UntrustedRecord
from bus.identity._batch import MAX_BATCH_RECORDS, sign_batch, signing_overhead
from bus.identity._errors import (
    BadBatchProof,
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
    BATCH_HEADER,
    BATCH_SIGNATURE_VERSION,
    KEY_ID_HEADER,
    PROOF_HEADER,
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
    "BATCH_HEADER",
    "BATCH_SIGNATURE_VERSION",
    "DEFAULT_TRUST_TOPIC",
    "KEY_ID_HEADER",
    "MAX_BATCH_RECORDS",
    "MAX_VALIDITY",
    "PROOF_HEADER",
    "SIGNATURE_HEADER",
    "SIGNATURE_VERSION",
    "SIGNATURE_VERSION_HEADER",
    "TOPIC_HEADER",
    "AgencyKey",
    "BadBatchProof",
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
    "sign_batch",
    "sign_headers",
    "signing_overhead",
]
