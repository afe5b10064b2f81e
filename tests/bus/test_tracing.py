"""Spans and metrics after the OpenTelemetry messaging conventions; nothing when unconfigured."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from bus import ConfigError
from bus.tracing import RECEIVER_AGENCY, SENDER_AGENCY, Telemetry, configure_from_env


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_process_span_is_child_of_send_span_through_traceparent(spans):
    provider, exporter = spans
    public = frozenset({"crm.case-opened"})  # the catalog classifies this topic's key field public
    sender = Telemetry("urn:mx:gob:portal", tracer_provider=provider, public_key_topics=public)
    receiver = Telemetry("urn:mx:gob:crm", tracer_provider=provider, public_key_topics=public)
    send = sender.start_send("crm.case-opened", key=b"CASE-1", message_id="id-1")
    send.finish(partition=2, offset=41)
    with receiver.process(
        "crm.case-opened",
        traceparent=send.traceparent,
        tracestate=None,
        key=b"CASE-1",
        message_id="id-1",
        partition=2,
        offset=41,
        group="g",
        sender="urn:mx:gob:portal",
    ):
        pass
    produced, processed = exporter.get_finished_spans()
    assert (produced.name, produced.kind) == ("send crm.case-opened", SpanKind.PRODUCER)
    assert (processed.name, processed.kind) == ("process crm.case-opened", SpanKind.CONSUMER)
    assert processed.parent.span_id == produced.context.span_id
    assert processed.context.trace_id == produced.context.trace_id
    assert produced.attributes["messaging.system"] == "kafka"
    assert produced.attributes["messaging.destination.partition.id"] == "2"
    assert processed.attributes["messaging.message.id"] == "id-1"
    assert processed.attributes["messaging.kafka.message.key"] == "CASE-1"
    assert processed.attributes["messaging.kafka.offset"] == 41
    assert processed.attributes["messaging.consumer.group.name"] == "g"
    assert processed.attributes[SENDER_AGENCY] == "urn:mx:gob:portal"
    assert processed.attributes[RECEIVER_AGENCY] == "urn:mx:gob:crm"


def test_a_failing_handler_marks_the_process_span(spans):
    provider, exporter = spans
    telemetry = Telemetry("urn:mx:gob:crm", tracer_provider=provider)
    with (
        pytest.raises(KeyError),
        telemetry.process(
            "t",
            traceparent=None,
            tracestate=None,
            key=None,
            message_id="m",
            partition=0,
            offset=0,
            group="g",
            sender="s",
        ),
    ):
        raise KeyError("boom")
    (span,) = exporter.get_finished_spans()
    assert span.attributes["error.type"] == "KeyError" and not span.status.is_ok


def test_a_personal_key_and_an_exceptions_message_never_reach_a_span(spans):
    provider, exporter = spans
    telemetry = Telemetry("urn:mx:gob:sat", tracer_provider=provider, public_key_topics=frozenset({"crm.case-opened"}))
    curp = b"PEGL031108MDFRNCA0"
    telemetry.start_send("sat.taxpayer-status-reported", key=curp, message_id="m").finish(
        partition=0, offset=0, error=ValueError(f"CURP {curp.decode()!r} is wrong")
    )
    with (
        pytest.raises(ValueError),
        telemetry.process(
            "sat.taxpayer-status-reported",
            traceparent=None,
            tracestate=None,
            key=curp,
            message_id="m",
            partition=0,
            offset=0,
            group="g",
            sender="s",
        ),
    ):
        raise ValueError(f"CURP {curp.decode()!r}: check digit is 0, expected 4")
    for span in exporter.get_finished_spans():
        assert "messaging.kafka.message.key" not in span.attributes
        shown = repr(dict(span.attributes)) + repr(span.status.description) + repr([e.attributes for e in span.events])
        assert curp.decode() not in shown, span.name
        assert span.attributes["error.type"] == "ValueError"


def test_only_topics_whose_key_field_is_public_name_their_key():
    from bus.records import catalog

    public = {rt.full_name for rt in catalog().records() if rt.topic and rt.key_is_public}
    assert "mx.gob.crm.CaseOpened" in public  # keyed by the case id
    assert not {"mx.gob.sat.TaxpayerStatusReported", "mx.gob.transparencia.DataAccessLogged"} & public  # by CURP


def test_counters_count_published_consumed_dead_lettered_and_retried():
    reader = InMemoryMetricReader()
    telemetry = Telemetry("urn:mx:gob:crm", meter_provider=MeterProvider(metric_readers=[reader]))
    telemetry.start_send("t", key=None, message_id="m").finish(partition=0, offset=0)
    with telemetry.process(
        "t",
        traceparent=None,
        tracestate=None,
        key=None,
        message_id="m",
        partition=0,
        offset=0,
        group="g",
        sender="s",
    ):
        telemetry.retried("t", 1)
        telemetry.dead_lettered("t", "bad-signature")
    names = {m.name for rm in reader.get_metrics_data().resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert {
        "messaging.client.sent.messages",
        "messaging.client.consumed.messages",
        "enlace.dead_letters",
        "enlace.handler.retries",
        "messaging.process.duration",
    } <= names


def test_unconfigured_tracing_is_off_and_makes_nothing_per_record(monkeypatch):
    # Cheap without a clock: no span, no context, no propagation and no object per record. The
    # figure itself (well under a microsecond) is measured by ``python -m ops.bench.tracing``.
    import bus.tracing._telemetry as telemetry_module

    def forbidden(*args, **kwargs):
        raise AssertionError("tracing off touched OpenTelemetry on the per-record path")

    telemetry = Telemetry("urn:mx:gob:crm")
    assert not telemetry.tracing and not telemetry.metering
    monkeypatch.setattr(telemetry._tracer, "start_span", forbidden)
    monkeypatch.setattr(telemetry_module, "_traceparent", forbidden)
    monkeypatch.setattr(telemetry_module, "_remote_context", forbidden)
    monkeypatch.setattr(telemetry_module.trace, "set_span_in_context", forbidden)
    sends, blocks = set(), set()
    for i in range(3):
        span = telemetry.start_send("t", key=b"k", message_id="m")
        span.finish(partition=0, offset=i)
        block = telemetry.process(
            "t",
            traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01",
            tracestate=None,
            key=b"k",
            message_id="m",
            partition=0,
            offset=i,
            group="g",
            sender="s",
        )
        with block:
            pass
        sends.add(id(span))
        blocks.add(id(block))
    assert span.traceparent is None and span.tracestate is None
    assert len(sends) == 1 and len(blocks) == 1, "one shared do-nothing span and block for every record"


def test_an_exporter_that_is_not_installed_is_named(monkeypatch):
    import bus.tracing._configure as configure

    monkeypatch.setattr(configure, "_done", False)
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER=jaeger-thrift"):
        configure_from_env("svc", {"OTEL_TRACES_EXPORTER": "jaeger-thrift"})


def test_no_otel_variables_install_nothing(monkeypatch):
    import bus.tracing._configure as configure

    monkeypatch.setattr(configure, "_done", False)
    assert configure_from_env("svc", {}) is False


def _process(telemetry: Telemetry, traceparent: str | None, offset: int = 0):
    return telemetry.process(
        "t",
        traceparent=traceparent,
        tracestate=None,
        key=b"k",
        message_id=f"m{offset}",
        partition=0,
        offset=offset,
        group="g",
        sender="urn:mx:gob:portal",
    )


def _sdk(sampler=None):
    from opentelemetry.sdk.trace import TracerProvider

    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_the_sampler_comes_from_the_standard_variables():
    from opentelemetry.sdk.trace import sampling

    from bus.tracing._configure import _sampler

    assert _sampler({}).get_description() == sampling.ParentBased(sampling.ALWAYS_ON).get_description()
    ratio = _sampler({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"})
    assert isinstance(ratio, sampling.ParentBasedTraceIdRatio) and "0.25" in ratio.get_description()
    assert _sampler({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}).rate == 0.0
    assert _sampler({"OTEL_TRACES_SAMPLER": "always_off"}) is sampling.ALWAYS_OFF
    for bad in ("1.5", "-0.1", "nan", "a tenth"):
        with pytest.raises(ConfigError, match=r"OTEL_TRACES_SAMPLER_ARG=.*from 0 to 1"):
            _sampler({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": bad})
    with pytest.raises(ConfigError, match=r"OTEL_TRACES_SAMPLER=sometimes: no such sampler \(known: always_off"):
        _sampler({"OTEL_TRACES_SAMPLER": "sometimes"})


def test_a_record_sampled_out_by_its_sender_makes_no_span_and_its_handler_follows(monkeypatch):
    from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

    provider, exporter = _sdk(ParentBasedTraceIdRatio(0.0))
    sender, receiver = (
        Telemetry("urn:mx:gob:portal", tracer_provider=provider),
        Telemetry("c", tracer_provider=provider),
    )
    send = sender.start_send("t", key=b"k", message_id="m0")
    send.finish(partition=0, offset=0)
    assert send.traceparent is not None and not int(send.traceparent[-2:], 16) & 1  # propagated, as sampled out

    def forbidden(*args, **kwargs):
        raise AssertionError("a span was started for a record its sender's trace sampled out")

    monkeypatch.setattr(receiver._tracer, "start_as_current_span", forbidden)
    with _process(receiver, send.traceparent):
        current = trace.get_current_span().get_span_context()
        assert format(current.trace_id, "032x") == send.traceparent.split("-")[1]  # the sender's trace
        handler_span = provider.get_tracer("handler").start_span("handler work")
        assert not handler_span.is_recording()  # the handler's own spans are sampled out with it
        handler_span.end()
    assert exporter.get_finished_spans() == ()


def test_a_sampler_that_does_not_follow_the_parent_is_still_asked():
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON

    provider, exporter = _sdk(ALWAYS_ON)
    receiver = Telemetry("urn:mx:gob:crm", tracer_provider=provider)
    with _process(receiver, "00-" + "a" * 32 + "-" + "b" * 16 + "-00"):
        pass
    (processed,) = exporter.get_finished_spans()
    assert processed.parent.span_id == int("b" * 16, 16) and processed.attributes["messaging.kafka.offset"] == 0


class _Polled:
    def __init__(self, topic: str, headers: list) -> None:
        self.topic, self.headers = topic, headers


def test_a_poll_is_a_batch_span_linked_to_each_records_sender(spans):
    provider, exporter = spans
    sender, receiver = (
        Telemetry("urn:mx:gob:portal", tracer_provider=provider),
        Telemetry("c", tracer_provider=provider),
    )
    sends = [sender.start_send("t", key=b"k", message_id=f"m{i}") for i in range(3)]
    for i, send in enumerate(sends):
        send.finish(partition=0, offset=i)
    records = [_Polled("t", [("ce_id", b"x"), ("traceparent", s.traceparent.encode())]) for s in sends]
    records.append(_Polled("t", [("traceparent", b"\xff not W3C")]))  # a hostile header: no link, no error
    records.append(_Polled("t", []))
    with receiver.batch(records, group="g"):
        for i, send in enumerate(sends):
            with _process(receiver, send.traceparent, i):
                pass
    finished = exporter.get_finished_spans()
    (batch,) = [s for s in finished if "messaging.batch.message_count" in s.attributes]
    assert (batch.name, batch.kind, batch.parent) == ("process t", SpanKind.CONSUMER, None)
    assert batch.attributes["messaging.batch.message_count"] == 5
    assert [link.context.span_id for link in batch.links] == [s._span.get_span_context().span_id for s in sends]
    processed = [s for s in finished if s.name == "process t" and s is not batch]
    assert [p.parent.span_id for p in processed] == [link.context.span_id for link in batch.links]


def test_a_batch_that_is_not_sampled_reads_no_header():
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    provider, exporter = _sdk(ALWAYS_OFF)

    class Unread:
        topic = "t"

        @property
        def headers(self):
            raise AssertionError("a sampled-out batch read a record's headers")

    with Telemetry("urn:mx:gob:crm", tracer_provider=provider).batch([Unread()], group="g"):
        pass
    assert exporter.get_finished_spans() == ()
