"""Spans and metrics for records sent and processed, after the OpenTelemetry messaging conventions.

A PRODUCER span ``send <topic>`` around each publish (ended when Kafka acknowledges) and a CONSUMER
span ``process <topic>`` around each handler call, whose parent is the producer span carried in the
record's W3C ``traceparent`` header; and a CONSUMER span ``process <topic>`` per batch of polled records
(``messaging.batch.message_count``), linked to each record's producer span, as the messaging conventions
describe batch processing. Attribute names come from ``opentelemetry.semconv``. With no tracer or meter
provider configured, every call here returns at once: tracing costs next to nothing.

A record that is not sampled costs little more: the attributes known per topic are built once, given at
span creation for samplers to read, and the per-record ones are set only on a span that records; a
record whose sender's span was sampled out makes no span at all when the provider's sampler is one of
the SDK's parent-based ones (which drop such a record without looking further): its context becomes
the current one, so the handler's own spans follow it and are dropped too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.semconv._incubating.attributes import messaging_attributes as msg
from opentelemetry.semconv._incubating.metrics import messaging_metrics
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import (
    NonRecordingSpan,
    NoOpTracerProvider,
    ProxyTracerProvider,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

__all__ = ["DEAD_LETTER_REASON", "RECEIVER_AGENCY", "SENDER_AGENCY", "SendSpan", "Telemetry"]

# Enlace's own attributes (no semantic convention names a sending or receiving organisation).
SENDER_AGENCY = "enlace.sender.agency"
RECEIVER_AGENCY = "enlace.receiver.agency"
DEAD_LETTER_REASON = "enlace.dead_letter.reason"

_KAFKA = msg.MessagingSystemValues.KAFKA.value


def _is_configured(provider: Any, noop_types: tuple[type, ...]) -> bool:
    return not isinstance(provider, noop_types)


def _drops_unsampled_parents(provider: Any) -> bool:
    """Whether the provider's sampler is sure to drop a span whose remote parent was not sampled.

    True only for the SDK's own parent-based samplers left with their default for such a parent
    (what every ``parentbased_*`` value of ``OTEL_TRACES_SAMPLER`` builds); any other sampler decides
    for itself, so it is asked per record.
    """
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

    sampler = getattr(provider, "sampler", None)
    return isinstance(sampler, ParentBased) and getattr(sampler, "_remote_parent_not_sampled", None) is ALWAYS_OFF


def _traceparent(span: Any) -> tuple[str | None, str | None]:
    """W3C ``traceparent`` and ``tracestate`` of a span, as the trace-context propagator writes them."""
    context = span.get_span_context()
    if not context.is_valid:
        return None, None
    traceparent = f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    return traceparent, (context.trace_state.to_header() or None)


def _remote_context(traceparent: str, tracestate: str | None) -> SpanContext | None:
    """The producer's span context in a record's ``traceparent`` (checked W3C form, by the envelope)."""
    parts = traceparent.split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16 or len(parts[3]) != 2:
        return None
    try:
        trace_id, span_id, flags = int(parts[1], 16), int(parts[2], 16), int(parts[3], 16)
    except ValueError:
        return None
    state = TraceState.from_header([tracestate]) if tracestate else None
    context = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags), trace_state=state)
    return context if context.is_valid else None


class _Current:
    """Makes a (non-recording) span the current one for a block: cheaper than ``trace.use_span``."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: Any) -> None:
        self._span = span

    def __enter__(self) -> Any:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self._span

    def __exit__(self, *exc: object) -> None:
        otel_context.detach(self._token)


class SendSpan:
    """A started ``send <topic>`` span; :meth:`finish` ends it with the broker's answer."""

    __slots__ = ("_span", "_started", "_telemetry", "topic", "traceparent", "tracestate")

    def __init__(self, telemetry: Telemetry | None, span: Any, topic: str) -> None:
        self._telemetry, self._span, self.topic = telemetry, span, topic
        self._started = time.perf_counter()
        self.traceparent: str | None = None
        self.tracestate: str | None = None
        if span is not None:
            self.traceparent, self.tracestate = _traceparent(span)

    def finish(
        self, *, partition: int | None = None, offset: int | None = None, error: BaseException | None = None
    ) -> None:
        """End the span (and count the record) once Kafka acknowledged or refused it."""
        telemetry = self._telemetry
        if telemetry is None:
            return
        if telemetry.metering:
            attributes = {msg.MESSAGING_SYSTEM: _KAFKA, msg.MESSAGING_DESTINATION_NAME: self.topic}
            if error is not None:
                attributes[ERROR_TYPE] = type(error).__name__
            telemetry._send_duration.record(time.perf_counter() - self._started, attributes)
            if error is None:
                telemetry._sent.add(1, attributes)
        span = self._span
        if span is None or not span.is_recording():
            return
        if partition is not None:
            span.set_attribute(msg.MESSAGING_DESTINATION_PARTITION_ID, str(partition))
        if offset is not None:
            span.set_attribute(msg.MESSAGING_KAFKA_OFFSET, offset)
        if error is not None:
            span.set_attribute(ERROR_TYPE, type(error).__name__)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))  # a message may quote a value
        span.end()


_NO_SEND_SPAN = SendSpan(None, None, "")
_NO_PROCESS_SPAN: AbstractContextManager[None] = nullcontext()


class Telemetry:
    """The spans and metrics of one agency's connector.

    Args:
        agency: the agency's URN, set on every span.
        tracer_provider: where spans go; the global provider when omitted.
        meter_provider: where metrics go; the global provider when omitted.
    """

    def __init__(
        self,
        agency: str,
        *,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        public_key_topics: frozenset[str] = frozenset(),
    ) -> None:
        self.agency = agency
        # Kafka keys are often personal identifiers (a CURP): a span names a record's key only on a
        # topic whose key field the catalog classifies public (a case id). Spans go to dashboards
        # that hold no personal data.
        self.public_key_topics = public_key_topics
        tracer_provider = tracer_provider or trace.get_tracer_provider()
        meter_provider = meter_provider or metrics.get_meter_provider()
        self.tracing = _is_configured(tracer_provider, (NoOpTracerProvider, ProxyTracerProvider))
        self._skip_unsampled = self.tracing and _drops_unsampled_parents(tracer_provider)
        # Per topic (and group and sender): a span's name and the attributes it has whatever the record.
        self._send_spans: dict[str, tuple[str, dict[str, Any]]] = {}
        self._process_spans: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
        self.metering = _is_configured(
            meter_provider, (metrics.NoOpMeterProvider, metrics._internal._ProxyMeterProvider)
        )
        self._tracer = tracer_provider.get_tracer("enlace.connector")
        meter = meter_provider.get_meter("enlace.connector")
        self._sent = messaging_metrics.create_messaging_client_sent_messages(meter)
        self._consumed = messaging_metrics.create_messaging_client_consumed_messages(meter)
        self._send_duration = messaging_metrics.create_messaging_client_operation_duration(meter)
        self._process_duration = messaging_metrics.create_messaging_process_duration(meter)
        self._dead_letters = meter.create_counter(
            "enlace.dead_letters", unit="{message}", description="Records sent to a dead-letter topic"
        )
        self._retries = meter.create_counter(
            "enlace.handler.retries", unit="{retry}", description="Handler calls retried after an exception"
        )

    def start_send(self, topic: str, *, key: bytes | None, message_id: str) -> SendSpan:
        """Start a PRODUCER span ``send <topic>``; its ``traceparent`` goes into the record's headers."""
        if not self.tracing:
            return SendSpan(self, None, topic) if self.metering else _NO_SEND_SPAN
        known = self._send_spans.get(topic)
        if known is None:
            known = self._send_spans[topic] = (
                f"send {topic}",
                {
                    msg.MESSAGING_SYSTEM: _KAFKA,
                    msg.MESSAGING_OPERATION_NAME: "send",
                    msg.MESSAGING_OPERATION_TYPE: msg.MessagingOperationTypeValues.SEND.value,
                    msg.MESSAGING_DESTINATION_NAME: topic,
                    SENDER_AGENCY: self.agency,
                },
            )
        span = self._tracer.start_span(known[0], kind=SpanKind.PRODUCER, attributes=known[1])
        if span.is_recording():
            span.set_attribute(msg.MESSAGING_MESSAGE_ID, message_id)
            if key is not None and topic in self.public_key_topics:
                span.set_attribute(msg.MESSAGING_KAFKA_MESSAGE_KEY, key.decode("utf-8", "replace"))
        return SendSpan(self, span, topic)

    def process(
        self,
        topic: str,
        *,
        traceparent: str | None,
        tracestate: str | None,
        key: bytes | None,
        message_id: str,
        partition: int,
        offset: int,
        group: str,
        sender: str,
    ) -> AbstractContextManager[Any]:
        """A CONSUMER span ``process <topic>`` around a handler call, child of the sender's span.

        The span is current inside the block, so spans the handler starts are its children. With
        neither tracing nor metrics configured, a shared do-nothing block (no generator per record).
        """
        if not self.tracing and not self.metering:
            return _NO_PROCESS_SPAN
        remote = _remote_context(traceparent, tracestate) if self.tracing and traceparent else None
        if remote is not None and not remote.trace_flags.sampled and self._skip_unsampled and not self.metering:
            # The sender's span was sampled out and the sampler follows it: no span, the context only.
            return _Current(NonRecordingSpan(remote))
        return self._process(
            topic,
            remote=remote,
            key=key,
            message_id=message_id,
            partition=partition,
            offset=offset,
            group=group,
            sender=sender,
        )

    @contextmanager
    def _process(
        self,
        topic: str,
        *,
        remote: SpanContext | None,
        key: bytes | None,
        message_id: str,
        partition: int,
        offset: int,
        group: str,
        sender: str,
    ) -> Iterator[Any]:
        if not self.tracing:
            started = time.perf_counter()
            try:
                yield None
            finally:
                self._count_processed(topic, group, started)
            return
        # The sender's span is the parent; a record without one starts a trace (not the current one's).
        parent = trace.set_span_in_context(NonRecordingSpan(remote)) if remote is not None else otel_context.Context()
        known = self._process_spans.get((topic, group, sender))
        if known is None:
            known = self._process_spans[(topic, group, sender)] = (
                f"process {topic}",
                {
                    msg.MESSAGING_SYSTEM: _KAFKA,
                    msg.MESSAGING_OPERATION_NAME: "process",
                    msg.MESSAGING_OPERATION_TYPE: msg.MessagingOperationTypeValues.PROCESS.value,
                    msg.MESSAGING_DESTINATION_NAME: topic,
                    msg.MESSAGING_CONSUMER_GROUP_NAME: group,
                    SENDER_AGENCY: sender,
                    RECEIVER_AGENCY: self.agency,
                },
            )
        started = time.perf_counter()
        with self._tracer.start_as_current_span(
            known[0],
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes=known[1],
            # No exception event and no status text: an exception's message may quote a personal
            # value (a CURP that failed its check digit); error.type names what went wrong.
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            if span.is_recording():
                span.set_attributes(
                    {
                        msg.MESSAGING_DESTINATION_PARTITION_ID: str(partition),
                        msg.MESSAGING_KAFKA_OFFSET: offset,
                        msg.MESSAGING_MESSAGE_ID: message_id,
                    }
                )
                if key is not None and topic in self.public_key_topics:
                    span.set_attribute(msg.MESSAGING_KAFKA_MESSAGE_KEY, key.decode("utf-8", "replace"))
            try:
                yield span
            except BaseException as exc:
                span.set_attribute(ERROR_TYPE, type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            finally:
                if self.metering:
                    self._count_processed(topic, group, started)

    def batch(self, records: Sequence[Any], *, group: str) -> AbstractContextManager[Any]:
        """A CONSUMER span ``process <topic>`` around the processing of one poll's records.

        It carries ``messaging.batch.message_count`` and a link to each record's producer span (read from
        its ``traceparent`` header, and only when the span is sampled: a batch that is not reads no
        header). It is not the records' parent: each record's own span continues its sender's trace.
        A poll of several topics names none (``process``). With tracing off, a shared do-nothing block.

        Args:
            records: the polled records (``topic`` and ``headers``, as ``bus.transport.Record``).
            group: the consumer group.
        """
        if not self.tracing or not records:
            return _NO_PROCESS_SPAN
        return self._batch(records, group)

    @contextmanager
    def _batch(self, records: Sequence[Any], group: str) -> Iterator[Any]:
        topics = {record.topic for record in records}
        attributes: dict[str, Any] = {
            msg.MESSAGING_SYSTEM: _KAFKA,
            msg.MESSAGING_OPERATION_NAME: "process",
            msg.MESSAGING_OPERATION_TYPE: msg.MessagingOperationTypeValues.PROCESS.value,
            msg.MESSAGING_CONSUMER_GROUP_NAME: group,
            msg.MESSAGING_BATCH_MESSAGE_COUNT: len(records),
            RECEIVER_AGENCY: self.agency,
        }
        name = "process"
        if len(topics) == 1:
            (topic,) = topics
            attributes[msg.MESSAGING_DESTINATION_NAME], name = topic, f"process {topic}"
        # Not current: the records' spans have their senders' spans as parents, not this one.
        span = self._tracer.start_span(
            name, context=otel_context.Context(), kind=SpanKind.CONSUMER, attributes=attributes
        )
        try:
            if span.is_recording():
                for record in records:
                    linked = _linked_context(record.headers)
                    if linked is not None:
                        span.add_link(linked)
            yield span
        except BaseException as exc:
            span.set_attribute(ERROR_TYPE, type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            span.end()

    def _count_processed(self, topic: str, group: str, started: float) -> None:
        attributes = {
            msg.MESSAGING_SYSTEM: _KAFKA,
            msg.MESSAGING_DESTINATION_NAME: topic,
            msg.MESSAGING_CONSUMER_GROUP_NAME: group,
        }
        self._process_duration.record(time.perf_counter() - started, attributes)
        self._consumed.add(1, attributes)

    def dead_lettered(self, topic: str, reason: str) -> None:
        """Count a record sent to ``<topic>.dlq``, and mark the current span."""
        if self.metering:
            self._dead_letters.add(1, {msg.MESSAGING_DESTINATION_NAME: topic, DEAD_LETTER_REASON: reason})
        if self.tracing:
            trace.get_current_span().add_event("dead-lettered", {DEAD_LETTER_REASON: reason})

    def retried(self, topic: str, attempt: int) -> None:
        """Count a handler retry."""
        if self.metering:
            self._retries.add(1, {msg.MESSAGING_DESTINATION_NAME: topic})
        if self.tracing:
            trace.get_current_span().add_event("retry", {"enlace.attempt": attempt})


def _linked_context(headers: Sequence[tuple[str, bytes]]) -> SpanContext | None:
    """The producer span context of a record, from its headers (None when it has none or a bad one)."""
    traceparent = tracestate = None
    for name, value in headers:
        if name == "traceparent":
            traceparent = value
        elif name == "tracestate":
            tracestate = value
    if traceparent is None:
        return None
    try:
        return _remote_context(traceparent.decode("ascii"), tracestate.decode("ascii") if tracestate else None)
    except (UnicodeDecodeError, ValueError):
        return None
