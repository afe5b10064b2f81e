"""Storage in the compacted ``_schemas`` topic: restarts, two instances, concurrent writers, exact keys."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from ops.registry import RegistryProcess
from tests.conftest import registry_client

pytestmark = pytest.mark.integration


def schema(i: int) -> str:
    return json.dumps({"type": "record", "name": f"R{i}", "namespace": "t", "fields": [{"name": "a", "type": "int"}]})


def snapshot(url: str, subjects: list[str]) -> dict:
    with httpx.Client(base_url=url, timeout=30) as http:
        answers = {
            "subjects": http.get("/subjects", params={"deleted": "true"}).json(),
            "config": http.get("/config").json(),
        }
        for subject in subjects:
            versions = http.get(f"/subjects/{subject}/versions", params={"deleted": "true"}).json()
            answers[subject] = [
                http.get(f"/subjects/{subject}/versions/{v}", params={"deleted": "true"}).json() for v in versions
            ]
            answers[subject + "/config"] = http.get(f"/config/{subject}").json()
            answers[subject + "/mode"] = http.get(f"/mode/{subject}").json()
        ids = sorted({e["id"] for s in subjects for e in answers[s]})
        answers["ids"] = {i: http.get(f"/schemas/ids/{i}").json() for i in ids}
    return answers


def test_a_restarted_instance_rebuilds_everything_from_the_topic(kafka) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:8]}"
    subjects = ["a-value", "b-value"]
    with (
        RegistryProcess(registry_client(kafka, topic), topic=topic) as first,
        httpx.Client(base_url=first.url, timeout=30) as http,
    ):
        for i, subject in enumerate(subjects):
            http.put(f"/config/{subject}", json={"compatibility": "NONE"})
            for j in range(3):
                assert (
                    http.post(f"/subjects/{subject}/versions", json={"schema": schema(10 * i + j)}).status_code == 200
                )
        http.delete("/subjects/a-value/versions/2")
        http.delete("/subjects/a-value/versions/2?permanent=true")
        http.delete("/subjects/b-value/versions/1")
        http.put("/mode/b-value", json={"mode": "READONLY"})
        http.put("/config", json={"compatibility": "FULL"})
        before = snapshot(first.url, subjects)
        first.kill()  # a crash, not a clean stop
    with RegistryProcess(registry_client(kafka, topic), topic=topic) as second:
        assert snapshot(second.url, subjects) == before
    assert [e["version"] for e in before["a-value"]] == [1, 3]


def test_two_instances_with_concurrent_writers_never_split_ids(kafka) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:8]}"
    with (
        RegistryProcess(registry_client(kafka, topic), topic=topic) as a,
        RegistryProcess(registry_client(kafka, topic), topic=topic) as b,
    ):
        httpx.put(f"{a.url}/config", json={"compatibility": "NONE"}, timeout=30)

        def register(job: tuple[str, str, int]) -> tuple[str, int, int]:
            url, subject, i = job
            response = httpx.post(f"{url}/subjects/{subject}/versions", json={"schema": schema(i)}, timeout=60)
            assert response.status_code == 200, response.text
            return subject, i, response.json()["id"]

        # The same 12 schemas go through both instances at once, into two subjects.
        jobs = [(url, subject, i) for i in range(12) for url in (a.url, b.url) for subject in ("x-value", "y-value")]
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(register, jobs))

        id_of_schema: dict[int, set[int]] = {}
        for _, i, schema_id in results:
            id_of_schema.setdefault(i, set()).add(schema_id)
        assert all(len(ids) == 1 for ids in id_of_schema.values()), id_of_schema  # one schema, one id
        assert len({next(iter(ids)) for ids in id_of_schema.values()}) == 12  # one id, one schema
        for subject in ("x-value", "y-value"):
            versions = httpx.get(f"{a.url}/subjects/{subject}/versions", timeout=30).json()
            assert versions == list(range(1, 13))  # each schema registered once per subject
        assert snapshot(a.url, ["x-value", "y-value"]) == snapshot(b.url, ["x-value", "y-value"])


def test_an_id_registered_through_one_instance_is_served_at_once_by_the_other(kafka) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:8]}"
    with (
        RegistryProcess(registry_client(kafka, topic), topic=topic) as a,
        RegistryProcess(registry_client(kafka, topic), topic=topic) as b,
    ):
        httpx.put(f"{a.url}/config/s-value", json={"compatibility": "NONE"}, timeout=30)
        for i in range(5):
            schema_id = httpx.post(f"{a.url}/subjects/s-value/versions", json={"schema": schema(i)}, timeout=30).json()[
                "id"
            ]
            assert httpx.get(f"{b.url}/schemas/ids/{schema_id}", timeout=30).status_code == 200


def test_keys_are_byte_exact_json_so_compaction_keeps_the_right_record(plain_registry, kafka) -> None:
    subject = f"k-{uuid.uuid4().hex[:6]}-value"
    with httpx.Client(base_url=plain_registry.url, timeout=30) as http:
        http.post(f"/subjects/{subject}/versions", json={"schema": schema(1)})
        http.put(f"/config/{subject}", json={"compatibility": "FULL"})
        http.delete(f"/subjects/{subject}/versions/1")
    consumer = KafkaConsumer(
        **kafka.client_config().client_settings(), isolation_level="read_committed", consumer_timeout_ms=3000
    )
    partition = TopicPartition(plain_registry.topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    keys = [m.key for m in consumer if subject.encode() in (m.key or b"")]
    consumer.close()
    schema_key = f'{{"keytype":"SCHEMA","subject":"{subject}","version":1,"magic":1}}'.encode()
    config_key = f'{{"keytype":"CONFIG","subject":"{subject}","magic":0}}'.encode()
    # Registration and soft delete wrote the same key: compaction keeps only the soft-deleted record.
    assert keys == [schema_key, config_key, schema_key]
