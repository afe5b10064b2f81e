"""The C build of the canonical form (bus/identity/_native.c) gives the Python loop's bytes, for any headers."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.identity import DuplicateHeader, _signing
from bus.identity._signing import canonical_form, header_layout
from tests.bus.test_batch_signatures import VECTORS, _vector_record

_native = _signing._native

_names = st.sampled_from(
    ["ce_id", "ce_time", "ce_source", "ce_", "content-type", "traceparent", "tracestate", "enlace_sigv", "x-proxy", "é"]
) | st.text(max_size=12)
_values = st.none() | st.binary(max_size=300)
_headers = st.lists(st.tuples(_names, _values), max_size=20)


def _python(headers, key, value) -> bytes:
    layout = header_layout(headers)
    _signing._check_unique(layout)  # a signed name twice is refused before either builds a form
    key_part = b"\x01" + hashlib.sha256(key).digest() if key is not None else b"\x00" + bytes(32)
    value_part = b"\x01" + hashlib.sha256(value).digest() if value is not None else b"\x00" + bytes(32)
    return _signing._python_form(headers, layout, key_part, value_part)


def test_the_c_build_is_there_where_a_compiler_is():
    """`pip install -e .` builds it (setup.py); this machine and CI have gcc, so its absence is a broken build."""
    assert _native is not None, "bus.identity._native was not built: is a C compiler and Python.h installed?"


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
