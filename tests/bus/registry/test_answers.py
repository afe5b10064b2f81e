"""The hot reads answered from prepared bytes: the same bytes as before, on the event loop, dropped
when the log changes them; an unknown id costs one catch-up with the log, however often it is asked."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.encoders import jsonable_encoder

from bus.registry._canonical import Reference
from bus.registry.server import KafkaSchemaLog, RegistryResponse, SchemaRegistry, create_app
from bus.registry.server._answers import (
    MAX_MISSING,
    MAX_MISSING_BYTES,
    MISSING_SECONDS,
    Answer,
    HotRead,
    PreparedAnswers,
    Read,
)
from bus.registry.server._state import Change


def rec(name: str, *fields: dict[str, Any], doc: str = "") -> str:
    schema: dict[str, Any] = {"type": "record", "name": name, "namespace": "t", "fields": list(fields)}
    if doc:
        schema["doc"] = doc
    return json.dumps(schema, ensure_ascii=False)


ADDRESS = rec("Address", {"name": "street", "type": "string"})
V1 = rec("Person", {"name": "curp", "type": "string"}, {"name": "home", "type": "t.Address"}, doc="Año — señal ✓")
V2 = rec(
    "Person",
    {"name": "curp", "type": "string"},
    {"name": "home", "type": "t.Address"},
    {"name": "email", "type": ["null", "string"], "default": None},
    doc="Año — señal ✓",
)
V3 = rec(
    "Person",
    {"name": "curp", "type": "string"},
    {"name": "home", "type": "t.Address"},
    {"name": "email", "type": ["null", "string"], "default": None},
    {"name": "phone", "type": ["null", "string"], "default": None},
)
HOME = [Reference("t.Address", "address-value", 1)]


class CountingLog(KafkaSchemaLog):
    """The real ``_schemas`` log, counting its catch-ups: each asks Kafka for the end offset."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catch_ups = 0
        self._counting = threading.Lock()

    def end_offset(self) -> int:
        with self._counting:
            self.catch_ups += 1
        return super().end_offset()


class CountingRegistry(SchemaRegistry):
    """The real registry, counting the answers the service had to prepare in a thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared_in_a_thread = 0

    def answer(self, question: HotRead) -> Answer:
        self.prepared_in_a_thread += 1
        return super().answer(question)


class Served:
    def __init__(self, registry: CountingRegistry, log: CountingLog) -> None:
        self.registry = registry
        self.log = log
        self.app = create_app(registry)

    def get(self, *paths: str) -> list[httpx.Response]:
        """GET every path at once, concurrently, through the real ASGI app."""

        async def run() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http:
                return list(await asyncio.gather(*(http.get(p) for p in paths)))

        return asyncio.run(run())

    def one(self, path: str) -> httpx.Response:
        return self.get(path)[0]


@pytest.fixture
def topic(new_topic) -> str:
    return new_topic("_schemas", **{"cleanup.policy": "compact"})


@pytest.fixture
def served(kafka, topic) -> Iterator[Served]:
    log = CountingLog(kafka.client_config(), topic, timeout=30)
    registry = CountingRegistry(log)
    registry.start()
    try:
        yield Served(registry, log)
    finally:
        registry.close()


@pytest.fixture
def other(kafka, topic, served) -> Iterator[SchemaRegistry]:
    """A second instance on the same topic: what it writes reaches ``served`` only through the log."""
    registry = SchemaRegistry(KafkaSchemaLog(kafka.client_config(), topic, timeout=30))
    registry.start()
    try:
        yield registry
    finally:
        registry.close()


def old_route_bytes(value: Any) -> bytes:
    """What the synchronous routes answered: FastAPI's encoder, then the registry's response class."""
    return RegistryResponse(jsonable_encoder(value)).body


@pytest.mark.integration
def test_every_hot_read_answers_the_bytes_the_old_routes_gave(served: Served) -> None:
    registry = served.registry
    registry.register("address-value", ADDRESS)
    first = registry.register("person-value", V1, HOME)
    second = registry.register("person-value", V2, HOME)
    old = {
        f"/schemas/ids/{second}": registry.schema_by_id(second),
        f"/schemas/ids/{second}/schema": json.loads(registry.schema_by_id(second)["schema"]),
        "/subjects": registry.subjects(),
        "/subjects?deleted=true": registry.subjects(deleted=True),
        "/subjects/person-value/versions": registry.versions("person-value"),
        "/subjects/person-value/versions/1": registry.version("person-value", 1),
        "/subjects/person-value/versions/latest": registry.version("person-value", "latest"),
        "/subjects/person-value/versions/-1/schema": json.loads(registry.version("person-value", -1)["schema"]),
    }
    for path, value in old.items():
        miss, hit = served.one(path), served.one(path)  # prepared, then served as prepared
        assert miss.status_code == hit.status_code == 200, (path, miss.text)
        assert miss.content == hit.content == old_route_bytes(value), path
        assert hit.headers["content-type"] == "application/vnd.schemaregistry.v1+json"
    home = [{"name": "t.Address", "subject": "address-value", "version": 1}]
    assert served.one(f"/schemas/ids/{second}").json() == {"schema": V2, "references": home}
    assert served.one(f"/schemas/ids/{second}/schema").json() == json.loads(V2)
    assert "Año — señal ✓".encode() in served.one(f"/schemas/ids/{first}").content  # UTF-8, not \\u escapes
    assert served.one("/subjects").json() == ["address-value", "person-value"]
    assert served.one("/subjects/person-value/versions/latest").json() == {
        "subject": "person-value",
        "version": 2,
        "id": second,
        "schema": V2,
        "references": home,
    }


@pytest.mark.integration
def test_a_prepared_answer_is_served_without_a_thread(served: Served) -> None:
    served.registry.register("address-value", ADDRESS)
    paths = ["/schemas/ids/1", "/schemas/ids/1/schema", "/subjects", "/subjects/address-value/versions"]
    paths += ["/subjects/address-value/versions/1", "/subjects/address-value/versions/latest/schema"]
    for path in paths:
        assert served.one(path).status_code == 200
    prepared = served.registry.prepared_in_a_thread
    assert prepared == len(paths)
    answers = served.get(*(paths * 25))
    assert {r.status_code for r in answers} == {200}
    assert served.registry.prepared_in_a_thread == prepared


@pytest.mark.integration
def test_a_new_version_a_soft_and_a_hard_delete_and_a_level_show_on_the_next_read(served: Served) -> None:
    registry = served.registry
    registry.register("address-value", ADDRESS)
    registry.register("person-value", V1, HOME)
    assert served.one("/subjects/person-value/versions/latest").json()["version"] == 1
    assert served.one("/subjects/person-value/versions").json() == [1]

    second = registry.register("person-value", V2, HOME)
    assert served.one("/subjects/person-value/versions/latest").json()["id"] == second
    assert served.one("/subjects/person-value/versions").json() == [1, 2]
    assert served.one(f"/schemas/ids/{second}").status_code == 200

    registry.delete_version("person-value", 2, permanent=False, authorization=None)
    assert served.one("/subjects/person-value/versions").json() == [1]
    assert served.one("/subjects/person-value/versions?deleted=true").json() == [1, 2]
    assert served.one("/subjects/person-value/versions/latest").json()["version"] == 1
    assert served.one("/subjects/person-value/versions/2").json()["error_code"] == 40402
    assert served.one("/subjects/person-value/versions/2?deleted=true").json()["id"] == second

    registry.delete_version("person-value", 2, permanent=True, authorization=None)
    assert served.one("/subjects/person-value/versions?deleted=true").json() == [1]
    gone = served.one(f"/schemas/ids/{second}")  # no version uses the id any more
    assert (gone.status_code, gone.json()["error_code"]) == (404, 40403)

    registry.delete_subject("person-value", permanent=False, authorization=None)
    assert served.one("/subjects").json() == ["address-value"]
    assert served.one("/subjects?deleted=true").json() == ["address-value", "person-value"]

    assert served.one("/config/address-value").json()["error_code"] == 40408
    registry.set_compatibility("address-value", "FULL", authorization=None)
    assert served.one("/config/address-value").json() == {"compatibilityLevel": "FULL"}


@pytest.mark.integration
def test_what_another_instance_writes_shows_once_the_log_brings_it(served: Served, other: SchemaRegistry) -> None:
    other.register("address-value", ADDRESS)
    served.log.sync()
    assert served.one("/subjects/address-value/versions/latest").json()["version"] == 1  # now prepared
    other.set_compatibility("address-value", "NONE", authorization=None)
    moved = other.register("address-value", rec("Address", {"name": "street", "type": "int"}))
    served.log.sync()  # waits until this instance has folded everything committed
    assert served.one("/subjects/address-value/versions/latest").json()["id"] == moved
    assert served.one("/subjects/address-value/versions").json() == [1, 2]


@pytest.mark.integration
def test_concurrent_misses_for_an_unknown_id_make_one_catch_up(served: Served) -> None:
    served.registry.register("address-value", ADDRESS)
    before = served.log.catch_ups
    answers = served.get(*["/schemas/ids/404404"] * 40)
    assert {(r.status_code, r.json()["error_code"]) for r in answers} == {(404, 40403)}
    assert answers[0].json()["message"] == "Schema 404404 not found"
    assert served.log.catch_ups == before + 1
    again = served.get(*["/schemas/ids/404404"] * 40, "/schemas/ids/404404/versions")
    assert {r.status_code for r in again} == {404}
    assert served.log.catch_ups == before + 1  # remembered: no Kafka round trip per request


@pytest.mark.integration
def test_misses_for_different_questions_each_catch_up_once(served: Served) -> None:
    before = served.log.catch_ups
    paths = ["/schemas/ids/7", "/schemas/ids/8", "/subjects/nobody-value/versions"]
    answers = served.get(*(paths * 10))
    assert {r.json()["error_code"] for r in answers} == {40403, 40401}
    assert served.log.catch_ups == before + len(paths)


@pytest.mark.integration
def test_a_remembered_unknown_id_is_found_once_the_log_moves(served: Served, other: SchemaRegistry) -> None:
    served.registry.register("address-value", ADDRESS)  # id 1: the next one is 2
    assert served.one("/schemas/ids/2").status_code == 404
    asked = served.log.catch_ups
    assert served.one("/schemas/ids/2").status_code == 404  # remembered
    assert served.log.catch_ups == asked
    assert other.register("person-value", V1, HOME) == 2  # written by the other instance
    served.log.sync()
    found = served.one("/schemas/ids/2")
    assert found.status_code == 200 and found.json()["schema"] == V1


@pytest.mark.integration
def test_an_invalid_version_is_refused_before_any_answer_is_looked_up(served: Served) -> None:
    for bad in ("0", "one", "99999999999", "¹"):
        response = served.one(f"/subjects/any-value/versions/{bad}")
        assert (response.status_code, response.json()["error_code"]) == (422, 42202)
    assert served.registry.prepared_in_a_thread == 0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


NOT_FOUND = Answer(404, b'{"error_code":40403,"message":"Schema 9 not found"}')
FOUND = Answer(200, b'{"schema":"\\"int\\""}')


def test_a_remembered_not_found_lasts_until_the_log_moves_or_its_time_is_up() -> None:
    clock = Clock()
    answers = PreparedAnswers(clock=clock)
    unknown = HotRead(Read.SCHEMA_BY_ID, schema_id=9)
    answers.keep(unknown, NOT_FOUND)
    assert answers.get(unknown) is NOT_FOUND
    clock.now += MISSING_SECONDS
    assert answers.get(unknown) is None
    answers.keep(unknown, NOT_FOUND)
    answers.applied(Change.NOTHING)  # even a record the state skipped moves the log
    assert answers.get(unknown) is None


def test_a_change_drops_only_the_answers_it_may_have_changed() -> None:
    answers = PreparedAnswers()
    by_id = HotRead(Read.SCHEMA_BY_ID, schema_id=1)
    latest = HotRead(Read.VERSION, subject="s", version=None)
    answers.keep(by_id, FOUND)
    answers.keep(latest, FOUND)
    answers.applied(Change.SETTINGS)
    assert answers.get(by_id) is FOUND and answers.get(latest) is FOUND
    answers.applied(Change.SUBJECTS)
    assert answers.get(by_id) is FOUND and answers.get(latest) is None
    answers.applied(Change.SUBJECTS | Change.IDS)
    assert answers.get(by_id) is None


def test_remembered_not_founds_are_bounded_in_number_and_in_bytes() -> None:
    answers = PreparedAnswers()
    for schema_id in range(20_000):
        answers.keep(HotRead(Read.SCHEMA_BY_ID, schema_id=schema_id), NOT_FOUND)
    assert len(answers) == MAX_MISSING
    assert answers.get(HotRead(Read.SCHEMA_BY_ID, schema_id=19_999)) is NOT_FOUND
    assert answers.get(HotRead(Read.SCHEMA_BY_ID, schema_id=0)) is None  # the oldest went first
    long_subject = "s" * 16_000  # about what a request line may hold, quoted back in the 404
    quoted = Answer(404, b'{"error_code":40401,"message":"Subject \'' + long_subject.encode()[:10_000] + b'"}')
    for n in range(1_000):
        answers.keep(HotRead(Read.VERSIONS, subject=f"{n}{long_subject}"), quoted)
    held = [a for a in range(1_000) if answers.get(HotRead(Read.VERSIONS, subject=f"{a}{long_subject}"))]
    assert 0 < len(held) * (16_000 + len(quoted.body)) <= MAX_MISSING_BYTES
    assert held[-1] == 999
