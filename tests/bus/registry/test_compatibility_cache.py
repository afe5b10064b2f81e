"""The compatibility cache: checks with it find exactly what checks without it find, and a check
against stored versions already met skips the pairs found compatible before."""

from __future__ import annotations

import json
from typing import Any

import avro.compatibility
import pytest

from bus.registry.compatibility import (
    CompatibilityCache,
    CompatibilityLevel,
    check_compatibility,
    parse_schema,
    reader_writer_problems,
)
from tests.bus.registry.test_compatibility import CASES, record


def parsed(value: Any):
    return parse_schema(json.dumps(value))


def address(stamp: str, street: str = "string") -> dict[str, Any]:
    at = {"type": "long", "logicalType": stamp}
    return record({"name": "street", "type": street}, {"name": "at", "type": at}, name="Address")


def wrapped(inner: Any) -> dict[str, Any]:
    return record({"name": "inner", "type": inner}, name="Wrapper")


def linked(value: str) -> dict[str, Any]:
    rest = {"name": "next", "type": ["null", "t.Node"], "default": None}
    return record({"name": "value", "type": value}, rest, name="Node")


def home_and_work(home: dict[str, Any]) -> dict[str, Any]:
    """A record using its address twice: the second time by name, inside a wrapper."""
    return record({"name": "home", "type": home}, {"name": "work", "type": wrapped("t.Address")})


def work(home: dict[str, Any]) -> dict[str, Any]:
    return record({"name": "work", "type": wrapped(home)})


# Schemas whose named types recur: shared by two fields (a DAG) or used inside themselves.
SHARED = [
    (
        "an address used twice, its timestamps differ",
        home_and_work(address("timestamp-micros")),
        home_and_work(address("timestamp-millis")),
    ),
    (
        "only the wrapped address, its timestamps differ",
        work(address("timestamp-micros")),
        work(address("timestamp-millis")),
    ),
    (
        "an address used twice, its streets differ",
        home_and_work(address("timestamp-millis", "int")),
        home_and_work(address("timestamp-millis")),
    ),
    (
        "only the wrapped address, its streets differ",
        work(address("timestamp-millis", "int")),
        work(address("timestamp-millis")),
    ),
    ("a linked list of ints read as strings", linked("string"), linked("int")),
    ("a linked list of strings read as ints", linked("int"), linked("string")),
    ("a linked list read as itself", linked("long"), linked("long")),
    ("a linked list of ints read as longs", linked("long"), linked("int")),
]
PAIRS = [(name, reader, writer) for name, reader, writer, *_ in CASES] + SHARED


def every_direction() -> list[tuple[str, Any, Any]]:
    as_given = [(f"{name} (as given)", a, b) for name, a, b in PAIRS]
    return as_given + [(f"{name} (swapped)", b, a) for name, a, b in PAIRS]


def test_with_a_cache_every_pair_has_the_problems_it_has_without_one() -> None:
    cache = CompatibilityCache()
    expected = {name: reader_writer_problems(parsed(r), parsed(w)) for name, r, w in every_direction()}
    assert any(expected.values()) and not all(expected.values())
    for round_ in ("cold", "warm", "warm, in another order"):
        pairs = every_direction() if round_ != "warm, in another order" else every_direction()[::-1]
        for name, reader, writer in pairs:  # fresh parses: the cache knows pairs by structure
            assert reader_writer_problems(parsed(reader), parsed(writer), cache=cache) == expected[name], (round_, name)
    assert len(cache) > 0


def test_a_wrapped_part_found_clean_where_it_repeated_is_still_checked_on_its_own() -> None:
    cache = CompatibilityCache()
    _, twice_reader, twice_writer = SHARED[0]
    _, alone_reader, alone_writer = SHARED[1]
    [first] = reader_writer_problems(parsed(twice_reader), parsed(twice_writer), cache=cache)
    assert first.kind == "LOGICAL_TYPE_MISMATCH" and first.field == "home.at"
    [alone] = reader_writer_problems(parsed(alone_reader), parsed(alone_writer), cache=cache)
    assert alone.kind == "LOGICAL_TYPE_MISMATCH" and alone.field == "work.inner.at"


def evolving(n: int) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [{"name": "id", "type": "string"}]
    fields += [{"name": f"f{i}", "type": ["null", "long"], "default": None} for i in range(1, n)]
    return {"type": "record", "name": "Evolving", "namespace": "bench", "fields": fields}


@pytest.fixture
def pairs_checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many reader/writer pairs the Avro reference checker works out (its calculate step)."""
    counted = [0]
    calculate = avro.compatibility.ReaderWriterCompatibilityChecker.calculate_compatibility

    def counting(self, reader, writer, location):  # type: ignore[no-untyped-def]
        counted[0] += 1
        return calculate(self, reader, writer, location)

    monkeypatch.setattr(avro.compatibility.ReaderWriterCompatibilityChecker, "calculate_compatibility", counting)
    return counted


def test_checking_again_against_the_same_stored_versions_skips_every_pair(pairs_checked: list[int]) -> None:
    history = [(n, parsed(evolving(n))) for n in range(1, 21)]
    level = CompatibilityLevel.FULL_TRANSITIVE
    cache = CompatibilityCache()
    assert check_compatibility(parsed(evolving(21)), history, level) == []
    uncached = pairs_checked[0]
    assert check_compatibility(parsed(evolving(21)), history, level, cache=cache) == []
    assert 0 < pairs_checked[0] - uncached < uncached / 5  # the field types repeat across versions
    before = pairs_checked[0]
    assert check_compatibility(parsed(evolving(21)), history, level, cache=cache) == []
    assert pairs_checked[0] == before  # a schema checked again: nothing left to work out
    assert check_compatibility(parsed(evolving(22)), history, level, cache=cache) == []
    assert pairs_checked[0] - before <= 2 * len(history)  # the next version: only the top-level pairs


def test_a_break_is_found_again_however_warm_the_cache() -> None:
    history = [(n, parsed(evolving(n))) for n in range(1, 11)]
    breaking = evolving(11)
    breaking["fields"][3] = {"name": "f3", "type": "string"}  # no longer optional, no longer a long
    cache = CompatibilityCache()
    level = CompatibilityLevel.FULL_TRANSITIVE
    assert check_compatibility(parsed(evolving(11)), history, level, cache=cache) == []
    expected = check_compatibility(parsed(breaking), history, level)
    assert expected
    assert check_compatibility(parsed(breaking), history, level, cache=cache) == expected
    assert check_compatibility(parsed(breaking), history, level, cache=cache) == expected


def test_the_cache_is_bounded() -> None:
    cache = CompatibilityCache(max_pairs=5)
    for n in range(2, 30):
        check_compatibility(parsed(evolving(n)), [(1, parsed(evolving(n - 1)))], CompatibilityLevel.FULL, cache=cache)
    assert 0 < len(cache) <= 2 * 5
