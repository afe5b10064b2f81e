"""Dead letters: records that can never succeed, kept in ``<topic>.dlq`` with why and where from.

A dead letter is the original record (same key, value and headers, so its signature still verifies)
plus unsigned ``enlace_dlq_*`` headers (``enlace_dlq_null_headers`` names the headers that were NULL,
since the producer sends them empty): the reason slug, the error's class and a message that names
fields and rules but never a record's values, the original topic, partition and offset, the consumer
group and agency that refused it, when, and after how many attempts. A record too large to keep
(over the dead-letter topic's limit) is dead-lettered without its key, value and headers, with its
size and SHA-256 instead (``enlace_dlq_omitted``); Kafka still holds it at its original position.

:func:`replay_dead_letters` sends a dead letter back only to the topic its signature names
(``enlace_topic``, signed form 2) and only after verifying the signature again: the unsigned
``enlace_dlq_topic`` is for people, never a destination. :func:`list_dead_letters` reads any header
values (NULL, binary, not numbers) without failing.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bus import EnlaceError, SignatureError, TransportError, ValidationError
from bus.envelope import EnvelopeError
from bus.identity import TrustStore
from bus.transport import (
    Consumer,
    KafkaClientConfig,
    Partition,
    Producer,
    Record,
    SendFuture,
    Topics,
    UnreadableRecord,
)

__all__ = [
    "DLQ_SUFFIX",
    "DeadLetter",
    "DeadLetterWriter",
    "RefusedReplay",
    "Replay",
    "ReplayProgress",
    "describe",
    "fingerprint",
    "list_dead_letters",
    "replay_dead_letters",
    "replay_progress",
]

DLQ_SUFFIX = ".dlq"
_PREFIX = "enlace_dlq_"
_MAX_MESSAGE = 2000  # an error message longer than this is cut: a header is not a log file
_MAX_PROBLEMS = 20
_BROKER_DEFAULT_MAX_BYTES = 1_048_588  # a broker's default max.message.bytes (1 MiB + 12)
_FRAMING_BYTES = 256  # record batch and record framing, with room to spare
_U32 = struct.Struct(">I")
_REFUSED_NOTE = "refused:"
# Kept in the replay group's offset commit metadata, which brokers bound (offset.metadata.max.bytes,
# 4096 by default): the latest 300 offsets of up to 12 digits fit.
_NOTED_REFUSALS = 300


def describe(error: BaseException) -> str:
    """What went wrong, in words that never repeat a record's values.

    Dead-letter headers and log lines must not carry personal data (a CURP, an RFC, a name): a
    validation error names its fields and rules; Enlace's other errors are worded without values;
    any other exception (a handler's, a library's) is named by its type only, since its text may
    hold anything.
    """
    if isinstance(error, ValidationError) and not isinstance(error, EnvelopeError):
        problems = error.problems or [error]
        where = "; ".join(f"{p.path or '/'} [{p.rule or 'invalid'}]" for p in problems[:_MAX_PROBLEMS])
        more = f"; and {len(problems) - _MAX_PROBLEMS} more" if len(problems) > _MAX_PROBLEMS else ""
        what = f"{error.record} " if error.record else ""
        return f"{what}breaks {len(problems)} rule(s): {where}{more}"[:_MAX_MESSAGE]
    if isinstance(error, EnlaceError):
        return str(error)[:_MAX_MESSAGE]
    return f"{type(error).__name__} raised (its text is not kept: it may hold personal data)"


def fingerprint(record: Record) -> bytes:
    """SHA-256 of everything a record holds (key, value, every header): tells two records at one
    position apart, so dead-letter bookkeeping never mistakes one for the other."""
    digest = hashlib.sha256()
    for part in (record.key, record.value):
        digest.update(b"\x00" if part is None else b"\x01" + _U32.pack(len(part)) + part)
    for name, value in record.headers or ():
        encoded = name.encode("utf-8", "surrogateescape")
        digest.update(_U32.pack(len(encoded)) + encoded)
        digest.update(b"\x00" if value is None else b"\x01" + _U32.pack(len(value)) + bytes(value))
    return digest.digest()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _names(text: str) -> set[str]:
    """The header names a JSON list holds; nothing from anything else."""
    try:
        names = json.loads(text) if text else []
    except (ValueError, RecursionError):
        return set()
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


def _number(value: object, default: int = -1) -> int:
    text = _text(value).strip()
    return int(text) if text.isascii() and text.lstrip("-").isdigit() and len(text) <= 19 else default


@dataclass(frozen=True)
class DeadLetter:
    """One record in a dead-letter topic.

    Fields read from the unsigned ``enlace_dlq_*`` headers describe what the refusing consumer said;
    ``key``, ``value`` and ``original_headers`` are the original record (empty when ``omitted``).
    """

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
    original_headers: list[tuple[str, bytes | None]]
    omitted: str = ""

    @classmethod
    def from_record(cls, record: Record) -> DeadLetter:
        """Read a dead-letter topic's record, whatever its headers hold."""
        if isinstance(record, UnreadableRecord):
            return cls(
                dlq_offset=record.offset,
                dlq_partition=record.partition,
                reason="unreadable-record",
                error_class="UnreadableRecord",
                error_message=record.problem,
                topic="",
                partition=-1,
                offset=-1,
                group="",
                agency="",
                at="",
                attempts=0,
                ce_id="",
                key=None,
                value=None,
                original_headers=[],
                omitted="key,value,headers",
            )
        headers = list(record.headers or [])
        meta = {n[len(_PREFIX) :]: _text(v) for n, v in headers if n.startswith(_PREFIX)}
        nulls = _names(meta.get("null_headers", ""))
        original = [(n, None if n in nulls and not v else v) for n, v in headers if not n.startswith(_PREFIX)]
        ce_id = next((_text(v) for n, v in original if n == "ce_id"), "")
        return cls(
            dlq_offset=record.offset,
            dlq_partition=record.partition,
            reason=meta.get("reason") or "?",
            error_class=meta.get("error_class") or "?",
            error_message=meta.get("error_message", ""),
            topic=meta.get("topic", ""),
            partition=_number(meta.get("partition")),
            offset=_number(meta.get("offset")),
            group=meta.get("group", ""),
            agency=meta.get("agency", ""),
            at=meta.get("time", ""),
            attempts=_number(meta.get("attempts"), 0),
            ce_id=ce_id,
            key=record.key,
            value=record.value,
            original_headers=original,
            omitted=meta.get("omitted", ""),
        )


class DeadLetterWriter:
    """Sends refused records to ``<topic>.dlq`` (creating it on first use)."""

    def __init__(self, producer: Producer, topics: Topics, *, group: str, agency: str) -> None:
        self._producer, self._topics = producer, topics
        self._group, self._agency = group, agency
        self._limits: dict[str, int] = {}

    def send(self, record: Record, *, reason: str, error: BaseException, attempts: int) -> SendFuture:
        """Queue the dead letter; returns the send future (the caller waits before committing)."""
        dlq = record.topic + DLQ_SUFFIX
        limit = self._limit(dlq)
        headers = [
            (_PREFIX + "reason", reason.encode()),
            (_PREFIX + "error_class", type(error).__name__.encode()),
            (_PREFIX + "error_message", describe(error).encode("utf-8", "replace")),
            (_PREFIX + "topic", record.topic.encode()),
            (_PREFIX + "partition", str(record.partition).encode()),
            (_PREFIX + "offset", str(record.offset).encode()),
            (_PREFIX + "group", self._group.encode()),
            (_PREFIX + "agency", self._agency.encode()),
            (_PREFIX + "time", datetime.now(UTC).isoformat(timespec="milliseconds").encode()),
            (_PREFIX + "attempts", str(attempts).encode()),
        ]
        original = [(n, v) for n, v in (record.headers or []) if not n.startswith(_PREFIX)]
        nulls = sorted({n for n, v in original if v is None})
        if nulls:  # the producer sends NULL as empty: which were NULL, for replay and for people
            headers.append((_PREFIX + "null_headers", json.dumps(nulls).encode()))
        size = _size(record.key, record.value, original) + _size(None, None, headers) + _FRAMING_BYTES
        if size <= limit and not isinstance(record, UnreadableRecord):
            return self._producer.send(dlq, key=record.key, value=record.value, headers=[*original, *headers])
        # Too large to keep whole (or nothing could be read): where it is, how big, and its digest.
        headers += [
            (_PREFIX + "omitted", b"key,value,headers"),
            (_PREFIX + "record_bytes", str(_size(record.key, record.value, original)).encode()),
            (_PREFIX + "record_sha256", fingerprint(record).hex().encode()),
        ]
        return self._producer.send(dlq, key=None, value=b"", headers=headers)  # Kafka needs a key or a value

    def _limit(self, dlq: str) -> int:
        limit = self._limits.get(dlq)
        if limit is None:
            self._topics.ensure(dlq)
            topic_limit = self._topics.max_message_bytes(dlq) or _BROKER_DEFAULT_MAX_BYTES
            limit = self._limits[dlq] = min(topic_limit, self._producer.max_request_size)
        return limit


def _size(key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]) -> int:
    return len(key or b"") + len(value or b"") + sum(len(n) + len(v or b"") for n, v in headers)


def _read_all(consumer: Consumer, partitions: Sequence[Partition], timeout_s: float) -> Iterator[Record]:
    ends = consumer.end_offsets(partitions)
    deadline = time.monotonic() + timeout_s
    while any(consumer.position(tp) < end for tp, end in ends.items()):
        if time.monotonic() > deadline:
            raise TransportError(f"could not read {partitions[0].topic} to its end within {timeout_s}s")
        yield from consumer.poll(500)


def _dlq_of(topic: str) -> str:
    return topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX


def list_dead_letters(kafka: KafkaClientConfig | str, topic: str, *, timeout_s: float = 30) -> list[DeadLetter]:
    """Every dead letter of ``topic`` (the original topic's name, or its ``.dlq``), oldest first.

    Args:
        kafka: the Kafka client configuration (or a bare ``host:port`` for a PLAINTEXT cluster).
        topic: the original topic (or its ``.dlq``).
        timeout_s: bound on reading the dead-letter topic.
    """
    dlq = _dlq_of(topic)
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


@dataclass(frozen=True)
class RefusedReplay:
    """A dead letter replay would not send: ``reason`` is a signature failure's slug (``bad-signature``,
    ``wrong-topic``, ``missing-signature``...) or ``not-kept`` for a dead letter without its record."""

    letter: DeadLetter
    reason: str
    message: str


@dataclass(frozen=True)
class Replay:
    """What a replay did: dead letters sent back, and those refused with why."""

    replayed: list[DeadLetter] = field(default_factory=list)
    refused: list[RefusedReplay] = field(default_factory=list)


def replay_dead_letters(
    kafka: KafkaClientConfig | str,
    topic: str,
    *,
    trust: TrustStore,
    group: str | None = None,
    only_offsets: set[int] | None = None,
    timeout_s: float = 30,
) -> Replay:
    """Send dead letters not replayed yet back to their original topic, unchanged, once re-verified.

    A dead letter goes back only to the topic its signature names, and only if that is the topic
    whose ``.dlq`` holds it; any other (unsigned, altered, signed for another topic, by a key no
    longer trusted, or not kept whole) is refused and reported, and replay goes on. Progress is kept
    as the committed offsets of the consumer group ``group`` (default ``enlace.dlq-replay.<topic>``),
    past refused letters too (their offsets noted with it: :func:`replay_progress`), so replaying
    twice does not send a record twice; replay a refused one later by its offset (``only_offsets``).

    Args:
        kafka: the Kafka client configuration (or a bare ``host:port`` for a PLAINTEXT cluster).
        topic: the original topic (or its ``.dlq``).
        trust: the trusted keys to verify signatures with (kept up to date by a ``TrustTopicReader``).
        group: the replay's consumer group.
        only_offsets: replay only dead letters at these ``.dlq`` offsets (the others are skipped and
            stay listed, not replayed).
        timeout_s: bound on reading the dead-letter topic and on each send.
    """
    dlq = _dlq_of(topic)
    original = dlq.removesuffix(DLQ_SUFFIX)
    group = group or f"enlace.dlq-replay.{original}"
    refused = {n: sorted(p.refused) for n, p in replay_progress(kafka, dlq, group=group).items()}
    consumer = Consumer(kafka, group=group)
    producer = Producer(kafka)
    replay = Replay()
    try:
        partitions = consumer.partitions_for(dlq)
        if not partitions:
            return replay
        consumer.assign(partitions)
        for record in _read_all(consumer, partitions, timeout_s):
            letter = DeadLetter.from_record(record)
            if only_offsets is not None and letter.dlq_offset not in only_offsets:
                continue
            refusal = _refusal(letter, original, trust)
            if refusal is None:
                producer.send(original, key=letter.key, value=letter.value, headers=letter.original_headers).get(
                    timeout=timeout_s
                )
                replay.replayed.append(letter)
            else:
                replay.refused.append(refusal)
                refused.setdefault(record.partition, []).append(record.offset)
            if only_offsets is None:  # a hand-picked replay leaves the group's progress alone
                at = Partition(dlq, record.partition)
                consumer.commit({at: record.offset + 1}, notes={at: _note(refused.get(record.partition, []))})
        return replay
    finally:
        producer.close()
        consumer.close()


def _refusal(letter: DeadLetter, original: str, trust: TrustStore) -> RefusedReplay | None:
    if letter.omitted or letter.value is None:
        return RefusedReplay(
            letter,
            "not-kept",
            f"the dead letter does not hold the record ({letter.omitted or 'no value'}); "
            f"Kafka may still hold it at {letter.topic or original}[{letter.partition}]@{letter.offset}",
        )
    try:
        trust.verify(letter.original_headers, letter.key, letter.value, topic=original)
    except SignatureError as exc:
        return RefusedReplay(letter, getattr(exc, "reason", "bad-signature"), str(exc))
    return None


@dataclass(frozen=True)
class ReplayProgress:
    """How far replay went in one ``.dlq`` partition.

    Attributes:
        next_offset: dead letters below it were replayed or refused by a replay.
        refused: the offsets of those refused (the latest :data:`_NOTED_REFUSALS`, kept with the
            replay group's committed offset).
    """

    next_offset: int
    refused: frozenset[int]

    def state_of(self, offset: int) -> str:
        """``replayed``, ``refused`` or ``pending`` for the dead letter at ``offset``."""
        if offset >= self.next_offset:
            return "pending"
        return "refused" if offset in self.refused else "replayed"


def replay_progress(
    kafka: KafkaClientConfig | str, topic: str, *, group: str | None = None
) -> dict[int, ReplayProgress]:
    """Per ``.dlq`` partition, how far replay went and which dead letters it refused."""
    dlq = _dlq_of(topic)
    group = group or f"enlace.dlq-replay.{dlq.removesuffix(DLQ_SUFFIX)}"
    topics = Topics(kafka)
    try:
        committed = topics.committed_with_notes(group)
    finally:
        topics.close()
    return {
        p.partition: ReplayProgress(offset, frozenset(_refused_in(note)))
        for p, (offset, note) in committed.items()
        if p.topic == dlq
    }


def _refused_in(note: str) -> list[int]:
    """The refused offsets a replay noted (``refused:3,9,12``); nothing from a note it did not write."""
    if not note.startswith(_REFUSED_NOTE):
        return []
    return [int(n) for n in note[len(_REFUSED_NOTE) :].split(",") if n.isdigit()]


def _note(refused: list[int]) -> str:
    return _REFUSED_NOTE + ",".join(str(n) for n in refused[-_NOTED_REFUSALS:])
