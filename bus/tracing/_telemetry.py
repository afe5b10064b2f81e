"""Spans and metrics for records sent and processed, after the OpenTelemetry messaging conventions.

A PRODUCER span ``send <topic>`` around each publish (ended when Kafka acknowledges) and a CONSUMER
span ``process <topic>`` around each handler call, whose parent is the producer span carried in the
record's W3C ``traceparent`` header. Attribute names come from ``opentelemetry.semconv``. With no
tracer or meter provider configured, every call here returns at once: tracing costs next to nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.semconv._incubating.attributes import messaging_attributes as msg
from opentelemetry.semconv._incubating.metrics import messaging_metrics
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["DEAD_LETTER_REASON", "RECEIVER_AGENCY", "SENDER_AGENCY", "SendSpan", "Telemetry"]

# Enlace's own attributes (no semantic convention names a sending or receiving organisation).
SENDER_AGENCY = "enlace.sender.agency"
RECEIVER_AGENCY = "enlace.receiver.agency"
DEAD_LETTER_REASON = "enlace.dead_letter.reason"

_PROPAGATOR = TraceContextTextMapPropagator()
_KAFKA = msg.MessagingSystemValues.KAFKA.value


def _is_configured(provider: Any, noop_types: tuple[type, ...]) -> bool:
    return not isinstance(provider, noop_types)


class SendSpan:
    """A started ``send <topic>`` span; :meth:`finish` ends it with the broker's answer."""

    __slots__ = ("_span", "_started", "_telemetry", "topic", "traceparent", "tracestate")

    def __init__(self, telemetry: Telemetry | None, span: Any, topic: str) -> None:
        self._telemetry, self._span, self.topic = telemetry, span, topic
        self._started = time.perf_counter()
        self.traceparent: str | None = None
        self.tracestate: str | None = None
        if span is not None:
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
            self.traceparent, self.tracestate = carrier.get("traceparent"), carrier.get("tracestate")

    def finish(
        self, *, partition: int | None = None, offset: int | None = None, error: BaseException | None = None
    ) -> None:
        """End the span (and count the record) once Kafka acknowledged or refused it."""
        telemetry = self._telemetry
        if telemetry is None:
            return
        attributes = {msg.MESSAGING_SYSTEM: _KAFKA, msg.MESSAGING_DESTINATION_NAME: self.topic}
        if error is not None:
            attributes[ERROR_TYPE] = type(error).__name__
        if telemetry.metering:
            telemetry._send_duration.record(time.perf_counter() - self._started, attributes)
            if error is None:
                telemetry._sent.add(1, attributes)
        span = self._span
        if span is None:
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
        attributes: dict[str, Any] = {
            msg.MESSAGING_SYSTEM: _KAFKA,
            msg.MESSAGING_OPERATION_NAME: "send",
            msg.MESSAGING_OPERATION_TYPE: msg.MessagingOperationTypeValues.SEND.value,
            msg.MESSAGING_DESTINATION_NAME: topic,
            msg.MESSAGING_MESSAGE_ID: message_id,
            SENDER_AGENCY: self.agency,
        }
        if key is not None and topic in self.public_key_topics:
            attributes[msg.MESSAGING_KAFKA_MESSAGE_KEY] = key.decode("utf-8", "replace")
        span = self._tracer.start_span(f"send {topic}", kind=SpanKind.PRODUCER, attributes=attributes)
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
        return self._process(
            topic,
            traceparent=traceparent,
            tracestate=tracestate,
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
        traceparent: str | None,
        tracestate: str | None,
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
        carrier = {"traceparent": traceparent} if traceparent else {}
        if traceparent and tracestate:
            carrier["tracestate"] = tracestate
        parent = _PROPAGATOR.extract(carrier)
        attributes: dict[str, Any] = {
            msg.MESSAGING_SYSTEM: _KAFKA,
            msg.MESSAGING_OPERATION_NAME: "process",
            msg.MESSAGING_OPERATION_TYPE: msg.MessagingOperationTypeValues.PROCESS.value,
            msg.MESSAGING_DESTINATION_NAME: topic,
            msg.MESSAGING_DESTINATION_PARTITION_ID: str(partition),
            msg.MESSAGING_KAFKA_OFFSET: offset,
            msg.MESSAGING_CONSUMER_GROUP_NAME: group,
            msg.MESSAGING_MESSAGE_ID: message_id,
            SENDER_AGENCY: sender,
            RECEIVER_AGENCY: self.agency,
        }
        if key is not None and topic in self.public_key_topics:
            attributes[msg.MESSAGING_KAFKA_MESSAGE_KEY] = key.decode("utf-8", "replace")
        started = time.perf_counter()
        with self._tracer.start_as_current_span(
            f"process {topic}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            # No exception event and no status text: an exception's message may quote a personal
            # value (a CURP that failed its check digit); error.type names what went wrong.
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except BaseException as exc:
                span.set_attribute(ERROR_TYPE, type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            finally:
                if self.metering:
                    self._count_processed(topic, group, started)

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
