"""Signatures over a record's envelope headers, key and payload.

The canonical form (version 1) that an agency signs with Ed25519, byte by byte:

    b"ENLACE-SIG-1\\n"
    u32 n                                  number of signed headers
    n times, sorted by name (byte order):
        u32 len(name) | name (UTF-8) | u32 len(value) | value
    u8 key_present | SHA-256(key or b"")   the Kafka record key
    u8 value_present | SHA-256(value or b"")   the payload (Confluent wire format bytes)

``u32`` is 4 bytes big-endian, ``u8`` one byte (1 present, 0 absent). Length prefixes make the form
unambiguous whatever bytes a header holds. The signed headers are every header named ``ce_*``,
``content-type``, ``traceparent``, ``tracestate`` and ``enlace_keyid`` (so the key id cannot be
swapped); a signed name that occurs twice is refused, never guessed. Other headers (a dead-letter
queue's, a proxy's) travel unsigned, and receivers expose only signed ones.

The signature travels in ``enlace_signature`` as unpadded base64url of the 64 signature bytes; the
key id in ``enlace_keyid``.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable, Sequence

from bus.identity._errors import DuplicateHeader
from bus.identity._keys import AgencyKey

__all__ = ["KEY_ID_HEADER", "SIGNATURE_HEADER", "canonical_form", "is_signed_header", "sign_headers"]

SIGNATURE_HEADER = "enlace_signature"
KEY_ID_HEADER = "enlace_keyid"
_MAGIC = b"ENLACE-SIG-1\n"
_SIGNED_NAMES = frozenset({"content-type", "traceparent", "tracestate", KEY_ID_HEADER})
_U32 = struct.Struct(">I")

Headers = Sequence[tuple[str, bytes]]


def is_signed_header(name: str) -> bool:
    """Whether a header with this name is covered by the signature."""
    return name.startswith("ce_") or name in _SIGNED_NAMES


def _digest(data: bytes | None) -> bytes:
    return (b"\x01" + hashlib.sha256(data).digest()) if data is not None else (b"\x00" + bytes(32))


def canonical_form(headers: Iterable[tuple[str, bytes]], key: bytes | None, value: bytes | None) -> bytes:
    """The bytes a signature covers (see the module docstring).

    Raises:
        DuplicateHeader: a signed header occurs twice (the receiver could not know which one counts).
    """
    signed: dict[bytes, bytes] = {}
    for name, header_value in headers:
        if not is_signed_header(name):
            continue
        encoded = name.encode()
        if encoded in signed:
            raise DuplicateHeader(f"header {name!r} occurs twice; a signed header must be unique", header=name)
        signed[encoded] = header_value or b""
    parts = [_MAGIC, _U32.pack(len(signed))]
    for encoded in sorted(signed):
        header_value = signed[encoded]
        parts += [_U32.pack(len(encoded)), encoded, _U32.pack(len(header_value)), header_value]
    parts += [_digest(key), _digest(value)]
    return b"".join(parts)


def sign_headers(
    agency_key: AgencyKey, headers: Headers, key: bytes | None, value: bytes | None
) -> list[tuple[str, bytes]]:
    """Return ``headers`` plus ``enlace_keyid`` and ``enlace_signature`` signed by ``agency_key``.

    Any key id or signature already in ``headers`` is replaced (a re-sign, not a second signature).
    """
    out = [(n, v) for n, v in headers if n not in (KEY_ID_HEADER, SIGNATURE_HEADER)]
    out.append((KEY_ID_HEADER, agency_key.key_id.encode()))
    signature = agency_key.private_key.sign(canonical_form(out, key, value))
    out.append((SIGNATURE_HEADER, base64.urlsafe_b64encode(signature).rstrip(b"=")))
    return out


def decode_signature(raw: bytes) -> bytes:
    """The 64 signature bytes from an ``enlace_signature`` header value."""
    return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
