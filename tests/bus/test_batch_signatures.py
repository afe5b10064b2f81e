"""Batch signatures (signed form 3): a Merkle tree of record digests, one Ed25519 signature over its root."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bus import SignatureError
from bus.identity import (
    BATCH_HEADER,
    MAX_BATCH_RECORDS,
    PROOF_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_VERSION_HEADER,
    BadBatchProof,
    BadSignature,
    DuplicateHeader,
    RevokedKey,
    TrustedKey,
    TrustStore,
    generate_key,
    sign_batch,
    sign_headers,
)
from bus.identity._batch import audit_paths, batch_shape, leaf_hash, merkle_root, node_hash

pytestmark = pytest.mark.usefixtures("both_builds")  # the C build and the Python loops alike

CRM = "urn:mx:gob:crm"
TOPIC = "mx.gob.crm.case-opened"
VECTORS = Path(__file__).parents[1] / "vectors" / "batch_signatures.json"


@pytest.fixture(scope="module")
def crm_key():
    return generate_key(CRM)


def _store(*keys, **options):
    start = datetime.now(UTC) - timedelta(days=1)
    return TrustStore([TrustedKey.for_key(k, not_before=start) for k in keys], **options)


def _items(count, topic=TOPIC):
    return [
        (
            [
                ("ce_id", f"id-{i}".encode()),
                ("ce_source", CRM.encode()),
                ("ce_subject", f"CRM-2026-{i:06d}".encode()),
                ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ],
            f"CRM-2026-{i:06d}".encode(),
            b"\x00\x00\x00\x00\x01" + i.to_bytes(4, "big"),
            topic,
        )
        for i in range(count)
    ]


def _replace(headers, name, value):
    return [(n, value if n == name else v) for n, v in headers]


def _verify(store, headers, item):
    _, key, value, topic = item
    return store.verify(headers, key, value, topic=topic)


# -- the tree (RFC 9162, 2.1) ------------------------------------------------------------------------
def _path_root(leaf, index, size, path):
    """RFC 9162 2.1.3.2, written from the text: an independent check of audit_paths."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        assert sn != 0
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return r


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100])
def test_every_audit_path_leads_to_the_root_as_rfc_9162_verifies_it(size):
    leaves = [leaf_hash(hashlib.sha256(bytes([i % 256, i // 256])).digest()) for i in range(size)]
    root, paths = audit_paths(leaves)
    assert root == merkle_root(leaves)
    for index, path in enumerate(paths):
        assert len(path) == len(batch_shape(index, size))
        assert _path_root(leaves[index], index, size, path) == root


def test_leaves_and_nodes_are_hashed_with_distinct_prefixes():
    digest = bytes(32)
    assert leaf_hash(digest) == hashlib.sha256(b"\x00" + digest).digest()
    assert node_hash(digest, digest) == hashlib.sha256(b"\x01" + digest + digest).digest()
    assert merkle_root([leaf_hash(digest), leaf_hash(digest)]) != leaf_hash(digest + digest)


# -- signing and verifying ---------------------------------------------------------------------------
def test_a_batch_of_one_is_signed_in_form_2(crm_key):
    (item,) = _items(1)
    (headers,) = sign_batch(crm_key, [item])
    assert headers == sign_headers(crm_key, item[0], item[1], item[2], topic=TOPIC)
    assert dict(headers)[SIGNATURE_VERSION_HEADER] == b"2" and BATCH_HEADER not in dict(headers)
    _verify(_store(crm_key), headers, item)


@pytest.mark.parametrize("size", [2, 3, 7, 64, 101])
def test_every_record_of_a_batch_verifies_alone_with_a_fresh_store(crm_key, size):
    items = _items(size)
    signed = sign_batch(crm_key, items)
    assert {dict(h)[SIGNATURE_VERSION_HEADER] for h in signed} == {b"3"}
    assert len({dict(h)[SIGNATURE_HEADER] for h in signed}) == 1  # one signature for the batch
    for index, (headers, item) in enumerate(zip(signed, items, strict=True)):
        assert dict(headers)[BATCH_HEADER] == f"{index}/{size}".encode()
        assert _verify(_store(crm_key), headers, item).agency == CRM


def test_records_verify_in_any_order_and_the_store_remembers_the_verified_tree(crm_key):
    items = _items(50)
    signed = sign_batch(crm_key, items)
    store = _store(crm_key)
    for index in reversed(range(50)):
        _verify(store, signed[index], items[index])
    assert 0 < len(store._verified) < 100


def test_a_tampered_payload_key_or_signed_header_is_a_bad_signature(crm_key):
    items = _items(5)
    signed = sign_batch(crm_key, items)
    store = _store(crm_key)
    _verify(store, signed[0], items[0])  # the batch's tree is known: tampering must still be caught
    headers, key, value, topic = signed[3], items[3][1], items[3][2], TOPIC
    for attempt in (
        lambda: store.verify(headers, key, value + b"x", topic=topic),
        lambda: store.verify(headers, b"CRM-2026-999999", value, topic=topic),
        lambda: store.verify(_replace(headers, "ce_subject", b"CRM-2026-000000"), key, value, topic=topic),
    ):
        with pytest.raises(BadSignature, match="does not cover this record at leaf 3 of 5"):
            attempt()


def test_a_record_moved_to_another_leaf_index_is_refused(crm_key):
    items = _items(8)
    signed = sign_batch(crm_key, items)
    store = _store(crm_key)
    for index in range(8):
        _verify(store, signed[index], items[index])
    moved = _replace(_replace(signed[2], BATCH_HEADER, b"5/8"), PROOF_HEADER, dict(signed[5])[PROOF_HEADER])
    with pytest.raises(BadSignature):
        _verify(store, moved, items[2])
    with pytest.raises(BadSignature):
        _verify(_store(crm_key), _replace(signed[2], BATCH_HEADER, b"3/8"), items[2])


def test_a_record_joined_to_another_batchs_signature_is_refused(crm_key):
    first, second = _items(4), _items(4)[::-1]
    one, two = sign_batch(crm_key, first), sign_batch(crm_key, second)
    store = _store(crm_key)
    _verify(store, two[0], second[0])
    mixed = _replace(one[1], SIGNATURE_HEADER, dict(two[0])[SIGNATURE_HEADER])
    with pytest.raises(BadSignature, match="another batch's signature"):
        _verify(store, mixed, first[1])
    with pytest.raises(BadSignature):
        _verify(_store(crm_key), mixed, first[1])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (BATCH_HEADER, None),
        (BATCH_HEADER, b""),
        (BATCH_HEADER, b"1"),
        (BATCH_HEADER, b"1/1"),
        (BATCH_HEADER, b"4/4"),
        (BATCH_HEADER, b"-1/4"),
        (BATCH_HEADER, b"01/4"),
        (BATCH_HEADER, b"1/04"),
        (BATCH_HEADER, b"1/ 4"),
        (BATCH_HEADER, b"1/65537"),
        (BATCH_HEADER, b"\xff/\xfe"),
        (BATCH_HEADER, b"1/4" * 1000),
        (PROOF_HEADER, None),
        (PROOF_HEADER, b""),
        (PROOF_HEADER, b"!!!!"),
        (PROOF_HEADER, b"\xff" * 86),
        (PROOF_HEADER, b"A" * 100_000),
    ],
)
def test_a_malformed_place_or_path_is_a_bad_batch_proof_never_a_crash(crm_key, name, value):
    items = _items(4)
    headers = sign_batch(crm_key, items)[1]
    with pytest.raises(BadBatchProof) as refused:
        _verify(_store(crm_key), _replace(headers, name, value), items[1])
    assert refused.value.reason == "bad-batch-proof"
    assert str(refused.value)  # names the header and the rule


def test_a_missing_batch_header_is_a_bad_batch_proof(crm_key):
    items = _items(3)
    headers = [(n, v) for n, v in sign_batch(crm_key, items)[0] if n != BATCH_HEADER]
    with pytest.raises(BadBatchProof, match=BATCH_HEADER):
        _verify(_store(crm_key), headers, items[0])


@pytest.mark.parametrize("name", [BATCH_HEADER, PROOF_HEADER])
def test_a_repeated_batch_header_is_refused(crm_key, name):
    items = _items(3)
    headers = sign_batch(crm_key, items)[0]
    with pytest.raises(DuplicateHeader):
        _verify(_store(crm_key), [*headers, (name, dict(headers)[name])], items[0])


def test_a_revoked_key_fails_even_when_its_batch_was_verified_before(crm_key):
    items = _items(3)
    signed = sign_batch(crm_key, items)
    store = _store(crm_key)
    _verify(store, signed[0], items[0])
    store.add(store.get(crm_key.key_id).revoked("leaked", at=datetime.now(UTC) - timedelta(seconds=1)))
    with pytest.raises(RevokedKey):
        _verify(store, signed[1], items[1])


def test_the_verified_tree_cache_is_bounded(crm_key):
    store = _store(crm_key, max_verified_nodes=10)
    for _ in range(5):
        items = _items(20)
        for headers, item in zip(sign_batch(crm_key, items), items, strict=True):
            _verify(store, headers, item)
    assert len(store._verified) <= 10


def test_a_batch_larger_than_the_limit_is_refused_before_signing(crm_key):
    with pytest.raises(ValueError, match=str(MAX_BATCH_RECORDS)):
        sign_batch(crm_key, [_items(1)[0]] * (MAX_BATCH_RECORDS + 1))


def test_a_batch_can_span_topics_and_each_record_names_its_own(crm_key):
    items = _items(2) + _items(2, topic="mx.gob.crm.other")
    signed = sign_batch(crm_key, items)
    for headers, item in zip(signed, items, strict=True):
        _verify(_store(crm_key), headers, item)
    with pytest.raises(SignatureError) as refused:
        _verify(_store(crm_key), signed[0], (*items[0][:3], "mx.gob.crm.other"))
    assert refused.value.reason == "wrong-topic"


# -- the test vectors --------------------------------------------------------------------------------
def _vector_record(record):
    headers = [(n, None if v is None else bytes.fromhex(v)) for n, v in record["headers"]]
    key = None if record["key"] is None else bytes.fromhex(record["key"])
    value = None if record["value"] is None else bytes.fromhex(record["value"])
    return headers, key, value


def _vector_store(vectors):
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(vectors["public_key"]))
    now = datetime.now(UTC)
    return TrustStore(
        [TrustedKey(vectors["agency"], vectors["key_id"], public, now - timedelta(days=1), now + timedelta(days=1))]
    )


def test_the_vectors_check_by_their_own_arithmetic():
    """What another implementation does with the file: hash, climb, check the signature."""
    vectors = json.loads(VECTORS.read_text())
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(vectors["public_key"]))
    for batch in vectors["batches"]:
        root, size = bytes.fromhex(batch["root"]), batch["size"]
        key_id = vectors["key_id"].encode()
        statement = b"ENLACE-BATCH-3\n" + len(key_id).to_bytes(4, "big") + key_id + size.to_bytes(4, "big") + root
        assert statement.hex() == batch["statement"]
        for index, record in enumerate(batch["records"]):
            headers = dict(_vector_record(record)[0])
            digest = hashlib.sha256(bytes.fromhex(record["canonical_form"])).digest()
            assert digest.hex() == record["record_digest"]
            leaf = hashlib.sha256(b"\x00" + digest).digest()
            assert leaf.hex() == record["leaf_hash"]
            assert headers[BATCH_HEADER] == f"{index}/{size}".encode()
            text = headers[PROOF_HEADER]
            path_bytes = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
            path = [path_bytes[i : i + 32] for i in range(0, len(path_bytes), 32)]
            assert _path_root(leaf, index, size, path) == root
            signature = headers[SIGNATURE_HEADER]
            public.verify(base64.urlsafe_b64decode(signature + b"=" * (-len(signature) % 4)), statement)


def test_the_vectors_verify_and_their_refusals_are_refused_with_their_reasons():
    vectors = json.loads(VECTORS.read_text())
    for batch in vectors["batches"]:
        for record in batch["records"]:
            headers, key, value = _vector_record(record)
            assert _vector_store(vectors).verify(headers, key, value, topic=vectors["topic"]).agency == CRM
    assert vectors["refusals"]
    for case in vectors["refusals"]:
        headers, key, value = _vector_record(case)
        with pytest.raises(SignatureError) as refused:
            _vector_store(vectors).verify(headers, key, value, topic=vectors["topic"])
        assert refused.value.reason == case["reason"], case["case"]


def test_the_vectors_are_what_the_implementation_makes():
    from tests.vectors.make_batch_signatures import build

    assert json.loads(VECTORS.read_text()) == json.loads(json.dumps(build()))


@pytest.mark.parametrize(
    "proof",
    [
        None,
        b"",
        b"!!!!",
        b"A" * 86,  # the right length, base64url, another path
        b"A" * 43,  # base64url, half as long as leaf 1 of 4 needs
        b"A" * 130,
        b"A" * 85 + b"=",  # padded
        b"A" * 84 + b"+/",  # base64, not base64url
    ],
)
def test_a_record_of_a_verified_batch_with_another_path_is_refused(crm_key, proof):
    """The quick check of a record whose batch is known must not accept what the full check refuses."""
    items = _items(4)
    signed = sign_batch(crm_key, items)
    store = _store(crm_key)
    for index in (0, 2, 3):
        _verify(store, signed[index], items[index])
    with pytest.raises((BadBatchProof, BadSignature)):
        _verify(store, _replace(signed[1], PROOF_HEADER, proof), items[1])
    with pytest.raises(BadSignature):  # a path of another leaf
        _verify(store, _replace(signed[1], PROOF_HEADER, dict(signed[2])[PROOF_HEADER]), items[1])
    assert _verify(store, signed[1], items[1]).agency == CRM


def test_a_proof_spelled_with_other_unused_bits_is_the_same_path(crm_key):
    """The last base64url character of a 64-byte path carries 4 unused bits: another spelling decodes to
    the same hashes, which is what is verified (the proof is not signed; any spelling of the true path
    proves the same)."""
    items = _items(4)
    signed = sign_batch(crm_key, items)
    proof = dict(signed[1])[PROOF_HEADER]
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(proof[-1:])
    respelled = proof[:-1] + alphabet[last ^ 1 : (last ^ 1) + 1]
    assert base64.urlsafe_b64decode(respelled + b"==") == base64.urlsafe_b64decode(proof + b"==")
    store = _store(crm_key)
    _verify(store, signed[0], items[0])
    assert _verify(store, _replace(signed[1], PROOF_HEADER, respelled), items[1]).agency == CRM
