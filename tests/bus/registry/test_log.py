"""The ``_schemas`` log's start and writes: a fresh topic's partition, oversized records, unreadable records."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from bus.registry import ErrorCode, RegistryError
from bus.registry.server import KafkaSchemaLog
from bus.registry.server._state import RegistryState, SchemaEntry, schema_key
from bus.transport import Partition


class SlowMetadata:
    """Topics whose metadata lists a new topic's partition only on the third asking, as a broker may."""

    def __init__(self, empty_answers: int) -> None:
        self.asked = 0
        self.empty_answers = empty_answers

    def partitions(self, topic: str) -> list[Partition]:
        self.asked += 1
        return [] if self.asked <= self.empty_answers else [Partition(topic, 0)]


def test_a_topic_listed_without_partitions_is_asked_again_until_its_partition_appears() -> None:
    log = KafkaSchemaLog("127.0.0.1:9", "_schemas", timeout=10)
    metadata = SlowMetadata(empty_answers=2)
    assert log._partitions_once_listed(metadata) == [Partition("_schemas", 0)]
    assert metadata.asked == 3


def test_a_partition_that_never_appears_ends_the_wait_within_the_timeout() -> None:
    log = KafkaSchemaLog("127.0.0.1:9", "_schemas", timeout=0.5)
    started = time.monotonic()
    assert log._partitions_once_listed(SlowMetadata(empty_answers=10**9)) == []
    assert time.monotonic() - started < 2


def entry(subject: str, version: int, schema_id: int, text: str = '"int"') -> tuple[bytes, bytes]:
    return schema_key(subject, version), SchemaEntry(subject, version, schema_id, text, ()).to_value()


@pytest.mark.integration
def test_two_instances_starting_together_on_a_fresh_topic_both_serve(kafka) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:10]}"
    logs = [KafkaSchemaLog(kafka.client_config(), topic, timeout=30) for _ in range(2)]
    states = [RegistryState() for _ in logs]
    together = threading.Barrier(len(logs))

    def start(index: int) -> None:
        together.wait()
        logs[index].start(states[index].apply)

    try:
        with ThreadPoolExecutor(max_workers=len(logs)) as pool:
            for started in [pool.submit(start, i) for i in range(len(logs))]:
                started.result(timeout=90)
        logs[0].write(lambda: [entry("s-value", 1, 1)])
        logs[1].sync()
        assert states[1].subjects["s-value"][1].id == 1
    finally:
        for log in logs:
            log.close()


@pytest.mark.integration
def test_a_record_over_the_topics_max_message_bytes_is_a_42209_before_it_is_sent(kafka, new_topic) -> None:
    topic = new_topic("_schemas", **{"cleanup.policy": "compact", "max.message.bytes": "4096"})
    log = KafkaSchemaLog(kafka.client_config(), topic, timeout=30)
    state = RegistryState()
    log.start(state.apply)
    try:
        with pytest.raises(RegistryError) as caught:
            log.write(lambda: [entry("big-value", 1, 1, '"' + "x" * 5_000 + '"')])
        assert (caught.value.http_status, caught.value.error_code) == (422, ErrorCode.SCHEMA_TOO_LARGE)
        assert "max.message.bytes" in caught.value.message and "4096" in caught.value.message
        log.write(lambda: [entry("small-value", 1, 1)])  # the log still writes what fits
        assert list(state.subjects) == ["small-value"]
    finally:
        log.close()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (b"not json", b"{}"),
        (b'{"keytype":"SCHEMA","subject":"s","version":"one","magic":1}', b"{}"),
        (b'{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}', b'{"id":1}'),
        (b'{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}', b'{"id":1,"schema":5}'),
        (b'{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}', b'{"id":1,"schema":"{not json"}'),
        (
            b'{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}',
            b'{"id":1,"schema":"' + b"[" * 10_000 + b"]" * 10_000 + b'"}',
        ),
        (b'{"keytype":"SCHEMA","subject":["s"],"version":1,"magic":1}', b'{"id":1,"schema":"\\"int\\""}'),
        (b'{"keytype":"MODE","subject":"s","magic":0}', b'{"mode":"SOMETIMES"}'),
        (b'{"keytype":"CONFIG","subject":null,"magic":0}', b'{"compatibilityLevel":7}'),
        (b'{"keytype":"ID_WATERMARK","magic":0}', b'{"maxId":"lots"}'),
        (b"[" * 10_000 + b"]" * 10_000, None),
    ],
)
def test_an_unreadable_record_in_the_topic_is_skipped_and_the_state_stays_whole(key, value) -> None:
    state = RegistryState()
    state.apply(*entry("kept-value", 1, 1))
    state.apply(key, value)
    assert list(state.subjects) == ["kept-value"] and state.subjects["kept-value"][1].id == 1
    assert state.mode == {} and state.config == {} and state.max_id == 1
