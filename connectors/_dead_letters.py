"""Dead letters: records that can never succeed, kept in ``<topic>.dlq`` with why and where from.

A dead letter is the original record (same key, value and headers, so its signature still verifies)
plus unsigned ``enlace_dlq_*`` headers: the reason slug, the error's class and message, the original
topic, partition and offset, the consumer group and agency that refused it, when, and after how
many attempts. :func:`replay_dead_letters` strips those headers and sends the record back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bus import TransportError
from bus.transport import Consumer, KafkaClientConfig, Partition, Producer, Record, SendFuture, Topics

__all__ = [
    "DLQ_SUFFIX",
    "DeadLetter",
    "DeadLetterWriter",
    "list_dead_letters",
    "replay_dead_letters",
    "replay_position",
]

DLQ_SUFFIX = ".dlq"
_PREFIX = "enlace_dlq_"
_MAX_MESSAGE = 2000  # an error message longer than this is cut: a header is not a log file


@dataclass(frozen=True)
class DeadLetter:
    """One record in a dead-letter topic."""

    dlq_offset: int
    dlq_partition: int
    reason: str
    error_class: str
    error_message: str
    topic: str
    partition: int
    offset: int
    group: str
    agency: str
    at: str
    attempts: int
    ce_id: str
    key: bytes | None
    value: bytes | None
    original_headers: list[tuple[str, bytes]]

    @classmethod
    def from_record(cls, record: Record) -> DeadLetter:
        meta = {n[len(_PREFIX) :]: v.decode("utf-8", "replace") for n, v in record.headers if n.startswith(_PREFIX)}
        original = [(n, v) for n, v in record.headers if not n.startswith(_PREFIX)]
        ce_id = next((v.decode("utf-8", "replace") for n, v in original if n == "ce_id"), "")
        return cls(
            dlq_offset=record.offset,
            dlq_partition=record.partition,
            reason=meta.get("reason", "?"),
            error_class=meta.get("error_class", "?"),
            error_message=meta.get("error_message", ""),
            topic=meta.get("topic", ""),
            partition=int(meta.get("partition", -1)),
            offset=int(meta.get("offset", -1)),
            group=meta.get("group", ""),
            agency=meta.get("agency", ""),
            at=meta.get("time", ""),
            attempts=int(meta.get("attempts", 0)),
            ce_id=ce_id,
            key=record.key,
            value=record.value,
            original_headers=original,
        )


class DeadLetterWriter:
    """Sends refused records to ``<topic>.dlq`` (creating it on first use)."""

    def __init__(self, producer: Producer, topics: Topics, *, group: str, agency: str) -> None:
        self._producer, self._topics = producer, topics
        self._group, self._agency = group, agency
        self._ready: set[str] = set()

    def send(self, record: Record, *, reason: str, error: BaseException, attempts: int) -> SendFuture:
        """Queue the dead letter; returns the send future (the caller waits before committing)."""
        dlq = record.topic + DLQ_SUFFIX
        if dlq not in self._ready:
            self._topics.ensure(dlq)
            self._ready.add(dlq)
        message = str(error)[:_MAX_MESSAGE]
        headers = [(n, v) for n, v in (record.headers or []) if not n.startswith(_PREFIX)]
        headers += [
            (_PREFIX + "reason", reason.encode()),
            (_PREFIX + "error_class", type(error).__name__.encode()),
            (_PREFIX + "error_message", message.encode("utf-8", "replace")),
            (_PREFIX + "topic", record.topic.encode()),
            (_PREFIX + "partition", str(record.partition).encode()),
            (_PREFIX + "offset", str(record.offset).encode()),
            (_PREFIX + "group", self._group.encode()),
            (_PREFIX + "agency", self._agency.encode()),
            (_PREFIX + "time", datetime.now(UTC).isoformat(timespec="milliseconds").encode()),
            (_PREFIX + "attempts", str(attempts).encode()),
        ]
        return self._producer.send(dlq, key=record.key, value=record.value, headers=headers)


def _read_all(consumer: Consumer, partitions: Sequence[Partition], timeout_s: float) -> Iterator[Record]:
    ends = consumer.end_offsets(partitions)
    deadline = time.monotonic() + timeout_s
    while any(consumer.position(tp) < end for tp, end in ends.items()):
        if time.monotonic() > deadline:
            raise TransportError(f"could not read {partitions[0].topic} to its end within {timeout_s}s")
        yield from consumer.poll(500)


def list_dead_letters(kafka: KafkaClientConfig | str, topic: str, *, timeout_s: float = 30) -> list[DeadLetter]:
    """Every dead letter of ``topic`` (the original topic's name, or its ``.dlq``), oldest first.

    Args:
        kafka: the Kafka client configuration (or a bare ``host:port`` for a PLAINTEXT cluster).
        topic: the original topic (or its ``.dlq``).
        timeout_s: bound on reading the dead-letter topic.
    """
    dlq = topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX
    consumer = Consumer(kafka, group=None)
    try:
        partitions = consumer.partitions_for(dlq)
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        return [DeadLetter.from_record(r) for r in _read_all(consumer, partitions, timeout_s)]
    finally:
        consumer.close()


def replay_dead_letters(
    kafka: KafkaClientConfig | str,
    topic: str,
    *,
    group: str | None = None,
    only_offsets: set[int] | None = None,
    timeout_s: float = 30,
) -> list[DeadLetter]:
    """Send dead letters not replayed yet back to their original topic, unchanged.

    Progress is kept as the committed offsets of the consumer group ``group`` (default
    ``enlace.dlq-replay.<topic>``), so replaying twice does not send a record twice.

    Args:
        kafka: the Kafka client configuration (or a bare ``host:port`` for a PLAINTEXT cluster).
        topic: the original topic (or its ``.dlq``).
        group: the replay's consumer group.
        only_offsets: replay only dead letters at these ``.dlq`` offsets (the others are skipped and
            stay listed, not replayed).
        timeout_s: bound on reading the dead-letter topic.

    Returns:
        The dead letters sent back.
    """
    dlq = topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX
    group = group or f"enlace.dlq-replay.{dlq.removesuffix(DLQ_SUFFIX)}"
    consumer = Consumer(kafka, group=group)
    producer = Producer(kafka)
    replayed: list[DeadLetter] = []
    try:
        partitions = consumer.partitions_for(dlq)
        if not partitions:
            return []
        consumer.assign(partitions)
        for record in _read_all(consumer, partitions, timeout_s):
            letter = DeadLetter.from_record(record)
            if only_offsets is not None and letter.dlq_offset not in only_offsets:
                continue
            producer.send(letter.topic, key=letter.key, value=letter.value, headers=letter.original_headers).get(
                timeout=timeout_s
            )
            if only_offsets is None:  # a hand-picked replay leaves the group's progress alone
                consumer.commit({Partition(dlq, record.partition): record.offset + 1})
            replayed.append(letter)
        return replayed
    finally:
        producer.close()
        consumer.close()


def replay_position(kafka: KafkaClientConfig | str, topic: str, *, group: str | None = None) -> dict[int, int]:
    """Per ``.dlq`` partition, the offset up to which dead letters were replayed."""
    dlq = topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX
    group = group or f"enlace.dlq-replay.{dlq.removesuffix(DLQ_SUFFIX)}"
    topics = Topics(kafka)
    try:
        committed = topics.committed(group)
    finally:
        topics.close()
    return {p.partition: offset for p, offset in committed.items() if p.topic == dlq}
