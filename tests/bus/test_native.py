"""The C build of per-record loops (bus/_native.c) gives what the Python loops give, for any input."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import _built
from bus.envelope import Envelope, _envelope
from bus.identity import DuplicateHeader, _batch, _signing
from bus.identity._batch import BatchPlace, VerifiedNodes, audit_paths, leaf_hash
from bus.identity._signing import canonical_form, header_layout
from connectors import _message_log
from tests.bus.test_batch_signatures import VECTORS, _vector_record

_native = _signing._native
_MAGIC = b"ENLACE-LOG-BODY-1\n"
_GOOD_HEADERS = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"1"),
    ("ce_source", b"urn:mx:gob:crm"),
    ("ce_type", b"mx.gob.crm.CaseOpened.v2"),
    ("ce_time", b"2026-12-07T10:00:00Z"),
    ("ce_subject", b"CRM-1"),
    ("content-type", b"application/avro"),
]

_names = st.sampled_from(
    ["ce_id", "ce_time", "ce_source", "ce_", "content-type", "traceparent", "tracestate", "enlace_sigv", "x-proxy", "é"]
) | st.text(max_size=12)
_values = st.none() | st.binary(max_size=300)
_headers = st.lists(st.tuples(_names, _values), max_size=20)


def _python(headers, key, value) -> bytes:
    layout = header_layout(headers)
    _signing._check_unique(layout)  # a signed name twice is refused before either builds a form
    return _signing._python_form(headers, layout, key, value)


def test_the_c_build_is_there_where_a_compiler_is():
    """`pip install -e .` builds it (setup.py); this machine and CI have gcc, so its absence is a broken build."""
    assert _native is not None, "bus._native was not built: are a C compiler, Python.h and libssl-dev installed?"


@settings(max_examples=300, deadline=None)
@given(_headers, st.none() | st.binary(max_size=40), st.none() | st.binary(max_size=200))
def test_the_c_form_is_the_python_form(headers, key, value):
    try:
        expected = _python(headers, key, value)
    except DuplicateHeader:
        with pytest.raises(DuplicateHeader):
            canonical_form(headers, key, value)
        return
    assert canonical_form(headers, key, value) == expected
    assert canonical_form(headers, key, value) == _python(headers, key, value)
    assert canonical_form(tuple(headers), key, value) == expected


def test_the_c_form_gives_the_test_vectors_bytes():
    vectors = json.loads(VECTORS.read_text())
    for batch in vectors["batches"]:
        for record in batch["records"]:
            headers, key, value = _vector_record(record)
            assert canonical_form(headers, key, value).hex() == record["canonical_form"]


@pytest.mark.parametrize(
    "odd",
    [
        [("ce_id", bytearray(b"1"))],  # not bytes: built in Python
        [["ce_id", b"1"]],  # a list, not a tuple
        [("ce_id", memoryview(b"1"))],
    ],
)
def test_values_the_c_build_leaves_alone_give_what_python_gives(odd):
    layout = header_layout(odd) if all(isinstance(h, tuple) for h in odd) else None
    if layout is not None:
        assert _native.canonical_form(layout.prefix, layout.fields, odd, b"", b"") is None
    assert canonical_form(odd, None, b"v") == _python([tuple(h) for h in odd], None, b"v")


def test_a_value_of_another_type_raises_as_in_python():
    with pytest.raises(TypeError):
        canonical_form([("ce_id", "text")], None, b"v")


def test_header_names_only_reads_lists_of_pairs():
    assert _native.header_names([("a", b"1"), ("b", None)]) == ("a", "b")
    assert _native.header_names((("a", b"1"),)) == ("a",)
    assert _native.header_names([("a", b"1", b"2")]) is None
    assert _native.header_names(iter([("a", b"1")])) is None
    assert _native.header_names([]) == ()


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200) | st.binary(max_size=150).map(lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")))
def test_the_c_base64url_decodes_as_python_or_leaves_it_to_python(text):
    decoded = _native.base64url(text)
    try:
        expected = binascii.a2b_base64(
            text.translate(bytes.maketrans(b"-_", b"+/")) + b"=" * (-len(text) % 4), strict_mode=True
        )
    except binascii.Error:
        assert decoded is None
        return
    assert decoded is None or decoded == expected
    if text == base64.urlsafe_b64encode(expected).rstrip(b"="):
        assert decoded == expected  # canonical text: always decoded in C


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=4), _values), max_size=8), st.lists(st.integers(-1, 9), max_size=8))
def test_pick_gives_the_values_at_the_positions_or_none_for_minus_one(headers, positions):
    picked = _native.pick(headers, tuple(positions))
    if any(p >= len(headers) for p in positions):
        assert picked is None
    else:
        assert picked == [headers[p][1] if p >= 0 else None for p in positions]
    assert _native.pick(headers, (-2,)) is None
    assert _native.pick(headers, (2**70,)) is None


def test_a_climb_gives_what_the_python_climb_gives():
    leaves = [leaf_hash(hashlib.sha256(bytes([i])).digest()) for i in range(13)]
    root, paths = audit_paths(leaves)
    for index in range(13):
        python_nodes, c_nodes = VerifiedNodes(), VerifiedNodes()
        place = BatchPlace(index, 13, b"".join(paths[index]))
        batch = ("ed25519:" + "0" * 32, 13, b"sig")
        digest = hashlib.sha256(bytes([index])).digest()
        expected = _python_climb(python_nodes, batch, digest, place)
        assert expected[:2] == (False, root)
        assert _native.climb(digest, place.path, place.shape, c_nodes._nodes, batch) == expected
        python_nodes.remember(batch, expected[2])
        c_nodes.remember(batch, expected[2])
        assert _native.climb(digest, place.path, place.shape, c_nodes._nodes, batch)[0] is True
        other = hashlib.sha256(b"another record").digest()
        with pytest.raises(ValueError, match="does not meet"):
            _native.climb(other, place.path, place.shape, c_nodes._nodes, batch)
        with pytest.raises(ValueError, match="does not meet"):
            _python_climb(python_nodes, batch, other, place)
    assert _native.climb(b"short", b"", (), {}, batch) is None
    assert _native.climb(digest, b"x" * 31, ((False, 0, 2),), {}, batch) is None


def _python_climb(nodes, batch, digest, place):
    saved, _batch._native = _batch._native, None
    try:
        return nodes.climb(batch, digest, place)
    finally:
        _batch._native = saved


@settings(max_examples=300, deadline=None)
@given(_headers, st.none() | st.binary(max_size=40), st.none() | st.binary(max_size=200))
def test_the_c_log_body_is_the_python_body(headers, key, value):
    body = _native.log_body(_MAGIC, key, value, headers)
    saved, _message_log._native = _message_log._native, None
    try:
        expected = _message_log.body_bytes(key, value, headers)
    except UnicodeEncodeError:
        assert body is None  # a name Python cannot encode either
        return
    finally:
        _message_log._native = saved
    assert body == expected
    assert _message_log.body_bytes(key, value, headers) == expected
    assert _message_log.parse_body(expected) == (key, value, [(n, v) for n, v in headers])


def test_the_c_log_body_leaves_other_types_to_python():
    assert _native.log_body(_MAGIC, bytearray(b"k"), b"v", []) is None
    assert _native.log_body(_MAGIC, b"k", b"v", [("n", memoryview(b"1"))]) is None
    assert _native.log_body(_MAGIC, b"k", b"v", [(b"n", b"1")]) is None
    assert _native.log_body(_MAGIC, b"k", b"v", [("\udcff", b"1")]) is None  # surrogateescape: Python's
    assert _message_log.body_bytes(b"k", bytearray(b"v"), [("n", memoryview(b"1"))]) == _message_log.body_bytes(
        b"k", b"v", [("n", b"1")]
    )


@settings(max_examples=300, deadline=None)
@given(_headers, st.none() | st.binary(max_size=40), st.none() | st.binary(max_size=200))
def test_record_size_counts_as_python_counts(headers, key, value):
    expected = len(key or b"") + len(value or b"") + sum(len(n) + len(v or b"") for n, v in headers)
    assert _native.record_size(key, value, headers) == expected
    assert _native.record_size(key, value, tuple(headers)) == expected
    assert _native.record_size(bytearray(b"k"), value, headers) is None
    assert _native.record_size(key, value, [*headers, ["n", b""]]) is None


@pytest.mark.parametrize("size", [2, 3, 4, 5, 7, 8, 9, 31, 100, 129])
def test_the_c_batch_tree_is_the_python_tree(size):
    digests = [hashlib.sha256(b"record %d" % i).digest() for i in range(size)]
    root, paths = audit_paths([leaf_hash(digest) for digest in digests])
    assert _native.batch_proofs(digests) == (root, [base64.urlsafe_b64encode(b"".join(p)).rstrip(b"=") for p in paths])


def test_the_c_batch_tree_leaves_odd_input_to_python():
    digest = hashlib.sha256(b"x").digest()
    assert _native.batch_proofs([digest]) is None  # one record is signed in form 2
    assert _native.batch_proofs([digest, b"short"]) is None
    assert _native.batch_proofs((digest, digest)) is None
    assert _native.batch_proofs([digest] * 65_537) is None


@pytest.mark.usefixtures("both_builds")
def test_the_shared_size_count_and_names_are_the_same_in_both_builds():
    headers = [("ce_id", b"12"), ("tracestate", None), ("é", b"x")]
    assert _built.record_size(b"k", None, headers) == 1 + 5 + 2 + 10 + 1 + 1
    assert _built.record_size(None, b"v", None) == 1
    assert _built.header_names(headers) == ("ce_id", "tracestate", "é")
    with pytest.raises((TypeError, ValueError)):
        _built.header_names([("a", b"1", b"2")])


def test_header_lists_too_long_to_remember_are_worked_out_each_time_not_kept():
    """Names come from the wire: a cache of 1,024 lists must not hold 1,024 lists as long as a record."""
    long_name = "x-" + "a" * 5000
    headers = [*_GOOD_HEADERS, (long_name, b"1")]
    layouts, plans = len(_signing._LAYOUTS), len(_envelope._PLANS)
    assert header_layout(headers).positions[long_name] == len(_GOOD_HEADERS)
    assert Envelope.from_headers(headers).id == "1"
    assert (len(_signing._LAYOUTS), len(_envelope._PLANS)) == (layouts, plans)
    assert _built.worth_remembering(tuple(name for name, _ in _GOOD_HEADERS))
