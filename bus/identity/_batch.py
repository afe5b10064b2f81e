"""Batch signatures (signed form 3): one Ed25519 signature over a Merkle tree of many records.

A producer that sends several records at once signs them together: each record's digest (signed
form 2's, ``bus/identity/_signing.py``, computed with ``enlace_sigv`` = ``3``) is a leaf of a Merkle
tree built as Certificate Transparency builds its logs (RFC 9162, section 2.1), and one signature
covers the root, bound to the signer's key id and the number of records. Every record carries the
signature, its leaf index, the batch size and its audit path, so a record verifies alone: in a
dead-letter topic, a replay, an archive or another consumer group, without its batch-mates.

Byte by byte (``u32`` is 4 bytes big-endian, ``H`` is SHA-256, ``||`` concatenation):

    d[i]        = record_digest(record i)         32 bytes: SHA-256 of the form-2 canonical form,
                                                  whose signed headers hold enlace_sigv = "3"
    leaf[i]     = H(0x00 || d[i])
    MTH(D[n])   = leaf[0]                                        for n = 1
                = H(0x01 || MTH(D[0:k]) || MTH(D[k:n]))          for n > 1, k the largest power of
                                                                 two smaller than n
    statement   = b"ENLACE-BATCH-3\\n" || u32 len(key_id) || key_id (ASCII) || u32 n || MTH(D[n])
    signature   = Ed25519(statement)                             64 bytes

The 0x00 and 0x01 prefixes keep a leaf from ever being read as an inner node (RFC 9162, 2.1.1), so
no set of records can be passed off as another. The audit path of record ``m`` is RFC 9162's
``PATH(m, D[n])`` (2.1.3.1): the sibling hashes from the leaf up to the root, 32 bytes each.

The record's headers (besides its envelope):

    enlace_sigv       "3"                           signed (part of d[i])
    enlace_topic      the topic it was sent to      signed
    enlace_keyid      ed25519:<32 hex digits>       signed
    enlace_signature  base64url (unpadded) of the 64-byte signature over the statement
    enlace_batch      "<index>/<size>": decimal, no sign, no leading zeros, 0 <= index < size,
                      2 <= size <= MAX_BATCH_RECORDS
    enlace_proof      base64url (unpadded) of the audit path: 32 bytes per level, leaf to root

The last three are not signed (they are what the signature is checked with). A receiver computes
``d``, the leaf, and the root from the index, size and path (RFC 9162, 2.1.3.2: a path that is not
exactly as long as ``index`` and ``size`` require is refused), then checks the signature over the
statement. Altering any signed byte of a record, its index, its path, or pairing it with another
batch's signature gives another root, which the signature does not cover. A batch of one record is
signed in form 2 (the signature over its digest): ``sign_batch`` never makes a form-3 batch of one.

Receivers verify a root's signature once: :class:`VerifiedNodes` keeps the inner nodes of verified
trees (bounded), and a later record of the same batch stops as soon as its path reaches a node
already verified at that place, usually after one or two hashes.

Test vectors: ``tests/vectors/batch_signatures.json``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import struct
import threading
from collections import OrderedDict
from collections.abc import Sequence

from bus._built import native as _native
from bus.identity._keys import AgencyKey
from bus.identity._signing import (
    BATCH_HEADER,
    BATCH_SIGNATURE_VERSION,
    PROOF_HEADER,
    SIGNATURE_HEADER,
    HeaderLayout,
    Headers,
    decode_base64url,
    encode_signature,
    record_digest,
    sign_headers,
    signing_headers,
)

__all__ = [
    "MAX_BATCH_RECORDS",
    "BatchItem",
    "BatchPlace",
    "VerifiedNodes",
    "audit_paths",
    "batch_shape",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "parse_batch_place",
    "root_statement",
    "sign_batch",
    "signing_overhead",
]

MAX_BATCH_RECORDS = 65_536
"""The most records one batch signature covers (an audit path is then at most 16 hashes)."""

_STATEMENT_MAGIC = b"ENLACE-BATCH-3\n"
_U32 = struct.Struct(">I")
_HASH_BYTES = 32
_PLACE = re.compile(rb"(0|[1-9][0-9]{0,5})/([1-9][0-9]{0,5})")

BatchItem = tuple[Headers, bytes | None, bytes | None, str]
"""One record to sign: its envelope headers, Kafka key, payload and the topic it is sent to."""


def leaf_hash(digest: bytes) -> bytes:
    """``H(0x00 || d)``: a record digest as a leaf of the tree."""
    return hashlib.sha256(b"\x00" + digest).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``H(0x01 || left || right)``: an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """``MTH`` of the leaf hashes (RFC 9162, 2.1.1); at least one leaf."""
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def audit_paths(leaves: Sequence[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """The root and every leaf's audit path (RFC 9162, 2.1.3.1), leaf to root, in one pass."""
    paths: list[list[bytes]] = [[] for _ in leaves]

    def subtree(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaves[lo]
        middle = lo + _split(hi - lo)
        left, right = subtree(lo, middle), subtree(middle, hi)
        for i in range(lo, middle):
            paths[i].append(right)
        for i in range(middle, hi):
            paths[i].append(left)
        return node_hash(left, right)

    return subtree(0, len(leaves)), paths


@functools.lru_cache(maxsize=8192)
def batch_shape(index: int, size: int) -> tuple[tuple[bool, int, int], ...]:
    """How leaf ``index`` of a tree of ``size`` leaves climbs to the root, leaf to root.

    One entry per audit path hash: ``(sibling_on_left, lo, hi)``, the sibling's side and the leaf
    range ``[lo, hi)`` of the node it forms. Its length is the audit path's length.
    """
    steps: list[tuple[bool, int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        middle = lo + _split(hi - lo)
        if index < middle:
            steps.append((False, lo, hi))
            hi = middle
        else:
            steps.append((True, lo, hi))
            lo = middle
    steps.reverse()
    return tuple(steps)


def root_statement(key_id: str, size: int, root: bytes) -> bytes:
    """The bytes a batch signature covers: the root, bound to the signer's key id and the batch size."""
    encoded = key_id.encode("ascii")
    return b"".join((_STATEMENT_MAGIC, _U32.pack(len(encoded)), encoded, _U32.pack(size), root))


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign_batch(agency_key: AgencyKey, items: Sequence[BatchItem]) -> list[list[tuple[str, bytes]]]:
    """Sign records together: each one's headers plus what makes it verifiable alone.

    One record is signed in form 2 (:func:`sign_headers`); two or more in form 3 (module docstring).
    Signature headers already in an item (a row signed before) are replaced.

    Args:
        agency_key: the sending agency's key.
        items: the records, each ``(headers, key, value, topic)``; the order is the leaf order.

    Returns:
        Each record's headers, signed, in the order given.

    Raises:
        ValueError: more than :data:`MAX_BATCH_RECORDS` records.
        DuplicateHeader: a record has a signed header twice.
    """
    if len(items) > MAX_BATCH_RECORDS:
        raise ValueError(f"a batch signature covers at most {MAX_BATCH_RECORDS} records, not {len(items)}")
    if len(items) <= 1:
        return [sign_headers(agency_key, h, k, v, topic=t) for h, k, v, t in items]
    signed = [signing_headers(agency_key, h, topic=t, version=BATCH_SIGNATURE_VERSION) for h, _, _, t in items]
    digests = [record_digest(h, k, v) for h, (_, k, v, _) in zip(signed, items, strict=True)]
    built = _native.batch_proofs(digests) if _native is not None else None
    if built is None:
        root, paths = audit_paths([leaf_hash(digest) for digest in digests])
        built = root, [_b64(b"".join(path)) for path in paths]
    root, proofs = built
    size = len(items)
    signature = encode_signature(agency_key.private_key.sign(root_statement(agency_key.key_id, size, root)))
    for index, (headers, proof) in enumerate(zip(signed, proofs, strict=True)):
        headers += [(SIGNATURE_HEADER, signature), (BATCH_HEADER, f"{index}/{size}".encode()), (PROOF_HEADER, proof)]
    return signed  # type: ignore[return-value]  # the caller's values are bytes; NULL ones stay NULL


@functools.lru_cache(maxsize=1024)  # asked per record sent, of a few topics
def signing_overhead(topic: str, *, batch_records: int) -> int:
    """The most bytes (names and values) signing adds to a record's headers, in a batch of at most
    ``batch_records``: what a size check made before signing must leave room for."""
    depth = max(1, (max(batch_records, 2) - 1).bit_length())
    proof = -(-depth * _HASH_BYTES * 4 // 3)
    fixed = len("enlace_sigv1enlace_topic") + len(topic.encode()) + len("enlace_keyided25519:") + 32
    return fixed + len(SIGNATURE_HEADER) + 86 + len(BATCH_HEADER) + 13 + len(PROOF_HEADER) + proof


class BatchPlace:
    """A form-3 record's place in its batch, read from ``enlace_batch`` and ``enlace_proof``."""

    __slots__ = ("index", "path", "shape", "size")

    def __init__(
        self, index: int, size: int, path: bytes, shape: tuple[tuple[bool, int, int], ...] | None = None
    ) -> None:
        self.index, self.size, self.path = index, size, path
        self.shape = batch_shape(index, size) if shape is None else shape


# Checked ``enlace_batch`` values: the same few hundred come back batch after batch (bounded, as
# values come from the wire: at most MAX_BATCH_RECORDS * sizes in use, and this many).
_places: dict[bytes, tuple[int, int, int, tuple[tuple[bool, int, int], ...]]] = {}
_PLACES_LIMIT = 65_536


def _checked_place(batch: bytes) -> tuple[int, int, int, tuple[tuple[bool, int, int], ...]]:
    """``(index, size, audit path bytes, batch_shape)`` of a well-formed ``enlace_batch`` value.

    Raises:
        ValueError: not ``<index>/<size>`` with 2 <= size <= MAX_BATCH_RECORDS and index < size.
    """
    match = _PLACE.fullmatch(batch) if isinstance(batch, (bytes, bytearray)) else None
    if match is None:
        raise ValueError(f"{BATCH_HEADER} is not <index>/<size> in decimal digits")
    index, size = int(match[1]), int(match[2])
    if not 2 <= size <= MAX_BATCH_RECORDS:
        raise ValueError(f"{BATCH_HEADER} names a batch of {size} records, not 2 to {MAX_BATCH_RECORDS}")
    if index >= size:
        raise ValueError(f"{BATCH_HEADER} names leaf {index} of a batch of {size}: no such leaf")
    shape = batch_shape(index, size)
    return index, size, len(shape) * _HASH_BYTES, shape


def parse_batch_place(batch: bytes | None, proof: bytes | None) -> BatchPlace:
    """Read and check a record's ``enlace_batch`` and ``enlace_proof`` values.

    Raises:
        ValueError: either is missing or malformed, the index is not below the size, the size is
            outside 2..MAX_BATCH_RECORDS, or the path is not as long as index and size require. The
            message names the header and the rule.
    """
    if not batch:
        raise ValueError(f"{BATCH_HEADER} is missing or empty (a form-3 record names its place in its batch)")
    if proof is None:
        raise ValueError(f"{PROOF_HEADER} is missing (a form-3 record carries its audit path)")
    place = _places.get(batch) if type(batch) is bytes else None
    if place is None:
        place = _checked_place(batch)
        if len(_places) < _PLACES_LIMIT:
            _places[bytes(batch)] = place
    index, size, expected, shape = place
    try:
        path = decode_base64url(proof)
    except ValueError as exc:
        raise ValueError(f"{PROOF_HEADER} is not base64url") from exc
    if len(path) != expected:
        raise ValueError(
            f"{PROOF_HEADER} holds {len(path)} bytes; leaf {index} of {size} needs an audit path of {expected}"
        )
    return BatchPlace(index, size, path, shape)


class VerifiedNodes:
    """Inner nodes of batch trees whose root signature was verified, bounded (oldest forgotten first).

    A node is remembered by its batch (key id, size, signature bytes) and its leaf range: a record of
    a verified batch whose path reaches a remembered node with the same hash is in that batch, and
    needs neither the rest of its path nor the signature checked again.
    """

    def __init__(self, max_nodes: int = 65_536) -> None:
        self._nodes: OrderedDict[tuple[tuple[str, int, bytes], int, int], bytes] = OrderedDict()
        self._max_nodes = max_nodes
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._nodes)

    def climb(
        self, batch: tuple[str, int, bytes], digest: bytes, place: BatchPlace
    ) -> tuple[bool, bytes, list[tuple[int, int, bytes]]]:
        """Climb from the leaf of a record's ``digest`` along the record's path.

        Returns:
            ``(known, root, nodes)``: whether the climb met a node remembered for ``batch`` with the same
            hash (the record is then in that verified batch), else the root it computed, and the
            nodes it computed on the way, below the remembered one (to remember once the record is
            known to be in a verified tree).

        Raises:
            ValueError: the climb met a node remembered for ``batch`` at the same place with another
                hash: the record is not one of that batch's records.
        """
        if _native is not None:
            climbed = _native.climb(digest, place.path, place.shape, self._nodes, batch)
            if climbed is not None:
                return climbed
        node, path = leaf_hash(digest), place.path
        nodes: list[tuple[int, int, bytes]] = []
        remembered = self._nodes
        for level, (sibling_on_left, lo, hi) in enumerate(place.shape):
            sibling = path[level * _HASH_BYTES : (level + 1) * _HASH_BYTES]
            node = hashlib.sha256(b"\x01" + sibling + node if sibling_on_left else b"\x01" + node + sibling).digest()
            known = remembered.get((batch, lo, hi))
            if known is not None:
                if known != node:
                    raise ValueError("the record's audit path does not meet its batch's verified tree")
                return True, node, nodes
            nodes.append((lo, hi, node))
        return False, node, nodes

    def known(
        self,
        key_id: str,
        signature: bytes,
        place: tuple[bytes | None, bytes | None],
        record: tuple[HeaderLayout, Headers, bytes | None, bytes | None],
    ) -> bool:
        """Whether a record is in a batch verified before, the quick way: its ``enlace_batch`` value is one
        seen before, and its digest and ``enlace_proof`` (``place``) climb to a node remembered for the
        batch. ``record``: its header layout, headers, key and payload.

        False means only "not shown this way": the caller checks the record in full (and learns why a
        record fails from that).
        """
        batch, proof = place
        seen = _places.get(batch) if type(batch) is bytes else None
        if seen is None or _native is None or type(signature) is not bytes:
            return False
        signed_by = (key_id, seen[1], signature)
        layout, headers, key, value = record
        if layout.repeated:
            return False
        try:
            climbed = _native.batch_known(
                layout.prefix, layout.fields, headers, key, value, proof, seen[3], self._nodes, signed_by
            )
        except ValueError:
            return False
        if climbed is None or not climbed[0]:
            return False
        self.remember(signed_by, climbed[2])
        return True

    def remember(self, batch: tuple[str, int, bytes], nodes: list[tuple[int, int, bytes]]) -> None:
        """Remember nodes of a verified tree."""
        if not nodes:
            return
        with self._lock:
            for lo, hi, node in nodes:
                self._nodes[(batch, lo, hi)] = node
            while len(self._nodes) > self._max_nodes:
                self._nodes.popitem(last=False)
