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

Version 3 (``enlace_sigv`` = ``3``) signs many records at once: the same per-record digests, as the
leaves of a Merkle tree whose root one signature covers (``bus/identity/_batch.py`` documents it);
a record signed alone is still signed in form 2.

Version 1 (the same form without ``enlace_sigv``/``enlace_topic``, the form itself signed rather
than its digest) bound a record to no topic: receivers refuse it (``unsupported-signature-version``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Sequence

from bus._built import header_names, worth_remembering
from bus._built import native as _native  # the C build of the loops below, or None
from bus.identity._errors import DuplicateHeader
from bus.identity._keys import AgencyKey

__all__ = [
    "BATCH_HEADER",
    "BATCH_SIGNATURE_VERSION",
    "KEY_ID_HEADER",
    "PROOF_HEADER",
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
BATCH_HEADER = "enlace_batch"
PROOF_HEADER = "enlace_proof"
SIGNATURE_VERSION = "2"
BATCH_SIGNATURE_VERSION = "3"
_MAGIC = b"ENLACE-SIG-2\n"
_SIGNED_NAMES = frozenset(
    {"content-type", "traceparent", "tracestate", KEY_ID_HEADER, SIGNATURE_VERSION_HEADER, TOPIC_HEADER}
) | {"enlace_encryption"}  # the wrapped data keys of encrypted fields (bus.encryption.ENCRYPTION_HEADER)
_ADDED_BY_SIGNING = frozenset(
    {KEY_ID_HEADER, SIGNATURE_HEADER, SIGNATURE_VERSION_HEADER, TOPIC_HEADER, BATCH_HEADER, PROOF_HEADER}
)
_U32 = struct.Struct(">I")
_SIGNATURE_BYTES = 64
_ABSENT = b"\x00" + bytes(32)
_sha256 = hashlib.sha256

Headers = Sequence[tuple[str, bytes | None]]


def is_signed_header(name: str) -> bool:
    """Whether a header with this name is covered by the signature."""
    return name.startswith("ce_") or name in _SIGNED_NAMES


# Records carry the same dozen headers in the same order, so how a list of header names maps to the
# canonical form (which positions are signed, in which order, with which name bytes) is worked out
# once per list of names and kept (boundedly: a flood of made-up names is then worked out each time).
_LAYOUTS: dict[tuple[str, ...], HeaderLayout] = {}
_LAYOUTS_LIMIT = 1024


class HeaderLayout:
    """Where things are in one list of header names: what a verifier reads in a single pass.

    Attributes:
        fields: the signed headers' positions, sorted by name bytes, each with its name's part of the
            canonical form (``u32 len(name) | name``).
        prefix: the canonical form's start (magic and header count).
        positions: each name's first position.
        repeated: the names that occur more than once.
    """

    __slots__ = ("_picks", "fields", "positions", "prefix", "repeated")

    def __init__(self, names: Sequence[str]) -> None:
        positions: dict[str, int] = {}
        repeated: set[str] = set()
        signed: list[tuple[bytes, int]] = []
        for index, name in enumerate(names):
            if name in positions:
                repeated.add(name)
            else:
                positions[name] = index
            if is_signed_header(name):
                signed.append((name.encode("utf-8", "surrogateescape"), index))
        signed.sort()
        self.fields = tuple((index, _U32.pack(len(encoded)) + encoded) for encoded, index in signed)
        self.prefix = _MAGIC + _U32.pack(len(signed))
        self.positions, self.repeated = positions, frozenset(repeated)
        self._picks: dict[tuple[str, ...], tuple[int, ...]] = {}

    def positions_of(self, names: tuple[str, ...]) -> tuple[int, ...]:
        """Each name's first position, -1 for a name not there: worked out once per layout and names."""
        found = self._picks.get(names)
        if found is None:
            found = self._picks[names] = tuple(self.positions.get(name, -1) for name in names)
        return found


def header_layout(headers: Sequence[tuple[str, bytes | None]]) -> HeaderLayout:
    """The layout of these headers' names (cached per list of names)."""
    names = header_names(headers)
    layout = _LAYOUTS.get(names)
    if layout is None:
        layout = HeaderLayout(names)
        if len(_LAYOUTS) < _LAYOUTS_LIMIT and worth_remembering(names):
            _LAYOUTS[names] = layout
    return layout


def _check_unique(layout: HeaderLayout) -> None:
    for name in layout.repeated:
        if is_signed_header(name):
            raise DuplicateHeader(f"header {name!r} occurs twice; a signed header must be unique", header=name)


def _laid_out(
    headers: Iterable[tuple[str, bytes | None]], layout: HeaderLayout | None
) -> tuple[Sequence[tuple[str, bytes | None]], HeaderLayout]:
    """The headers as a sequence and their layout, once no signed name occurs twice.

    Raises:
        DuplicateHeader: a signed header occurs twice.
    """
    if not isinstance(headers, (list, tuple)):
        headers = list(headers)
    if layout is None:
        layout = header_layout(headers)
    if layout.repeated:
        _check_unique(layout)
    return headers, layout


def canonical_form(
    headers: Iterable[tuple[str, bytes | None]],
    key: bytes | None,
    value: bytes | None,
    *,
    layout: HeaderLayout | None = None,
) -> bytes:
    """The bytes whose SHA-256 a signature covers (see the module docstring).

    Args:
        headers, key, value: the record's.
        layout: ``header_layout(headers)``, when the caller has it already.

    Raises:
        DuplicateHeader: a signed header occurs twice (the receiver could not know which one counts).
    """
    headers, layout = _laid_out(headers, layout)
    if _native is not None:
        form = _native.canonical_form(layout.prefix, layout.fields, headers, key, value)
        if form is not None:
            return form
    return _python_form(headers, layout, key, value)


def _python_form(
    headers: Sequence[tuple[str, bytes | None]], layout: HeaderLayout, key: bytes | None, value: bytes | None
) -> bytes:
    """:func:`canonical_form` in Python: what the C build does, and what runs where it was not built
    (or for values it leaves to Python: not bytes, raising what Python raises for them)."""
    parts = [layout.prefix]
    append = parts.append
    for index, name_part in layout.fields:
        header_value = headers[index][1]
        append(name_part)
        if header_value is None:
            append(b"\x00")
        else:
            append(b"\x01")
            append(_U32.pack(len(header_value)))
            append(header_value)
    append(b"\x01" + _sha256(key).digest() if key is not None else _ABSENT)
    append(b"\x01" + _sha256(value).digest() if value is not None else _ABSENT)
    return b"".join(parts)


def record_digest(
    headers: Iterable[tuple[str, bytes | None]],
    key: bytes | None,
    value: bytes | None,
    *,
    layout: HeaderLayout | None = None,
) -> bytes:
    """SHA-256 of the canonical form: the 32 bytes an agency's signature covers.

    Raises:
        DuplicateHeader: a signed header occurs twice.
    """
    headers, layout = _laid_out(headers, layout)
    if _native is not None:
        digest = _native.record_digest(layout.prefix, layout.fields, headers, key, value)
        if digest is not None:
            return digest
    return _sha256(_python_form(headers, layout, key, value)).digest()


def signing_headers(
    agency_key: AgencyKey, headers: Headers, *, topic: str, version: str = SIGNATURE_VERSION
) -> list[tuple[str, bytes | None]]:
    """``headers`` without any earlier signature's headers, plus the three signed ones the signer adds
    (``enlace_sigv`` = ``version``, ``enlace_topic``, ``enlace_keyid``): what :func:`record_digest`
    is computed over."""
    out = [(n, v) for n, v in headers if n not in _ADDED_BY_SIGNING]
    out += [
        (SIGNATURE_VERSION_HEADER, version.encode()),
        (TOPIC_HEADER, topic.encode()),
        (KEY_ID_HEADER, agency_key.key_id.encode()),
    ]
    return out


def encode_signature(signature: bytes) -> bytes:
    """An ``enlace_signature`` value: unpadded base64url of the signature's 64 bytes."""
    return base64.urlsafe_b64encode(signature).rstrip(b"=")


def sign_headers(
    agency_key: AgencyKey, headers: Headers, key: bytes | None, value: bytes | None, *, topic: str
) -> list[tuple[str, bytes]]:
    """Return ``headers`` plus ``enlace_sigv``, ``enlace_topic``, ``enlace_keyid`` and ``enlace_signature``.

    Any of those four already in ``headers`` is replaced (a re-sign, not a second signature), and a
    batch signature's ``enlace_batch`` and ``enlace_proof`` are dropped.

    Args:
        agency_key: the sending agency's key.
        headers: the record's envelope headers.
        key: the Kafka record key.
        value: the payload.
        topic: the Kafka topic the record is sent to; receivers reading it from another topic refuse it.
    """
    out = signing_headers(agency_key, headers, topic=topic)
    signature = agency_key.private_key.sign(record_digest(out, key, value))
    out.append((SIGNATURE_HEADER, encode_signature(signature)))
    return out  # type: ignore[return-value]  # the caller's values are bytes; NULL ones stay NULL


_URLSAFE = bytes.maketrans(b"-_", b"+/")


def decode_base64url(raw: bytes) -> bytes:
    """Bytes from unpadded base64url (as JWS writes it, RFC 7515 appendix C).

    Raises:
        ValueError: ``raw`` is not bytes of base64url.
    """
    if _native is not None:
        decoded = _native.base64url(raw)
        if decoded is not None:
            return decoded
    try:
        text = bytes(raw)
        return binascii.a2b_base64(text.translate(_URLSAFE) + b"=" * (-len(text) % 4), strict_mode=True)
    except (binascii.Error, TypeError) as exc:
        raise ValueError("not base64url") from exc


def decode_signature(raw: bytes) -> bytes:
    """The 64 signature bytes from an ``enlace_signature`` header value.

    Raises:
        ValueError: not unpadded base64url of exactly 64 bytes.
    """
    try:
        signature = decode_base64url(raw)
    except ValueError as exc:
        raise ValueError("enlace_signature is not base64url") from exc
    if len(signature) != _SIGNATURE_BYTES:
        raise ValueError(f"enlace_signature holds {len(signature)} bytes, not {_SIGNATURE_BYTES}")
    return signature
