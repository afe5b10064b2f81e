"""Signatures over a record's place (its topic), envelope headers, key and payload.

Signed form version 2, the only one receivers accept. The sender adds two headers before signing:
``enlace_sigv`` (``2``) and ``enlace_topic`` (the Kafka topic the record is sent to), so the
signature binds the record to its topic as well as to its time (``ce_time``), subject
(``ce_subject``) and type (``ce_type``). The canonical form, byte by byte:

    b"ENLACE-SIG-2\\n"
    u32 n                                  number of signed headers
    n times, sorted by name (byte order):
        u32 len(name) | name (UTF-8) | u8 value_present | u32 len(value) | value
    u8 key_present | SHA-256(key or b"")   the Kafka record key
    u8 value_present | SHA-256(value or b"")   the payload (Confluent wire format bytes)

``u32`` is 4 bytes big-endian, ``u8`` one byte (1 present, 0 absent: a NULL header value is not an
empty one). Length prefixes make the form unambiguous whatever bytes a header holds. The signed
headers are every header named ``ce_*``, ``content-type``, ``traceparent``, ``tracestate``,
``enlace_keyid`` (so the key id cannot be swapped), ``enlace_sigv`` and ``enlace_topic``; a signed
name that occurs twice is refused, never guessed. Other headers (a dead-letter queue's, a proxy's)
travel unsigned, and receivers expose only signed ones.

What is signed is the record's digest, SHA-256 of the canonical form (:func:`record_digest`), not the
form itself: a later batch signature (a Merkle tree over many records' digests) signs the same
per-record digests. The Ed25519 signature travels in ``enlace_signature`` as unpadded base64url of
its 64 bytes; the key id in ``enlace_keyid``.

Version 1 (the same form without ``enlace_sigv``/``enlace_topic``, the form itself signed rather
than its digest) bound a record to no topic: receivers refuse it (``unsupported-signature-version``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Sequence

from bus.identity._errors import DuplicateHeader
from bus.identity._keys import AgencyKey

__all__ = [
    "KEY_ID_HEADER",
    "SIGNATURE_HEADER",
    "SIGNATURE_VERSION",
    "SIGNATURE_VERSION_HEADER",
    "TOPIC_HEADER",
    "canonical_form",
    "is_signed_header",
    "record_digest",
    "sign_headers",
]

SIGNATURE_HEADER = "enlace_signature"
KEY_ID_HEADER = "enlace_keyid"
SIGNATURE_VERSION_HEADER = "enlace_sigv"
TOPIC_HEADER = "enlace_topic"
SIGNATURE_VERSION = "2"
_MAGIC = b"ENLACE-SIG-2\n"
_SIGNED_NAMES = frozenset(
    {"content-type", "traceparent", "tracestate", KEY_ID_HEADER, SIGNATURE_VERSION_HEADER, TOPIC_HEADER}
) | {"enlace_encryption"}  # the wrapped data keys of encrypted fields (bus.encryption.ENCRYPTION_HEADER)
_ADDED_BY_SIGNING = frozenset({KEY_ID_HEADER, SIGNATURE_HEADER, SIGNATURE_VERSION_HEADER, TOPIC_HEADER})
_U32 = struct.Struct(">I")
_SIGNATURE_BYTES = 64

Headers = Sequence[tuple[str, bytes | None]]


def is_signed_header(name: str) -> bool:
    """Whether a header with this name is covered by the signature."""
    return name.startswith("ce_") or name in _SIGNED_NAMES


def _digest(data: bytes | None) -> bytes:
    return (b"\x01" + hashlib.sha256(data).digest()) if data is not None else (b"\x00" + bytes(32))


def canonical_form(headers: Iterable[tuple[str, bytes | None]], key: bytes | None, value: bytes | None) -> bytes:
    """The bytes whose SHA-256 a signature covers (see the module docstring).

    Raises:
        DuplicateHeader: a signed header occurs twice (the receiver could not know which one counts).
    """
    signed: dict[bytes, bytes | None] = {}
    for name, header_value in headers:
        if not is_signed_header(name):
            continue
        encoded = name.encode("utf-8", "surrogateescape")
        if encoded in signed:
            raise DuplicateHeader(f"header {name!r} occurs twice; a signed header must be unique", header=name)
        signed[encoded] = header_value
    parts = [_MAGIC, _U32.pack(len(signed))]
    for encoded in sorted(signed):
        header_value = signed[encoded]
        parts += [_U32.pack(len(encoded)), encoded]
        if header_value is None:
            parts.append(b"\x00")
        else:
            parts += [b"\x01", _U32.pack(len(header_value)), bytes(header_value)]
    parts += [_digest(key), _digest(value)]
    return b"".join(parts)


def record_digest(headers: Iterable[tuple[str, bytes | None]], key: bytes | None, value: bytes | None) -> bytes:
    """SHA-256 of the canonical form: the 32 bytes an agency's signature covers.

    Raises:
        DuplicateHeader: a signed header occurs twice.
    """
    return hashlib.sha256(canonical_form(headers, key, value)).digest()


def sign_headers(
    agency_key: AgencyKey, headers: Headers, key: bytes | None, value: bytes | None, *, topic: str
) -> list[tuple[str, bytes]]:
    """Return ``headers`` plus ``enlace_sigv``, ``enlace_topic``, ``enlace_keyid`` and ``enlace_signature``.

    Any of those four already in ``headers`` is replaced (a re-sign, not a second signature).

    Args:
        agency_key: the sending agency's key.
        headers: the record's envelope headers.
        key: the Kafka record key.
        value: the payload.
        topic: the Kafka topic the record is sent to; receivers reading it from another topic refuse it.
    """
    out = [(n, v) for n, v in headers if n not in _ADDED_BY_SIGNING]
    out += [
        (SIGNATURE_VERSION_HEADER, SIGNATURE_VERSION.encode()),
        (TOPIC_HEADER, topic.encode()),
        (KEY_ID_HEADER, agency_key.key_id.encode()),
    ]
    signature = agency_key.private_key.sign(record_digest(out, key, value))
    out.append((SIGNATURE_HEADER, base64.urlsafe_b64encode(signature).rstrip(b"=")))
    return out  # type: ignore[return-value]  # the caller's values are bytes; NULL ones stay NULL


def decode_signature(raw: bytes) -> bytes:
    """The 64 signature bytes from an ``enlace_signature`` header value.

    Raises:
        ValueError: not unpadded base64url of exactly 64 bytes.
    """
    try:
        text = raw.decode("ascii")
        signature = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (UnicodeDecodeError, binascii.Error) as exc:
        raise ValueError("enlace_signature is not base64url") from exc
    if len(signature) != _SIGNATURE_BYTES:
        raise ValueError(f"enlace_signature holds {len(signature)} bytes, not {_SIGNATURE_BYTES}")
    return signature
