"""Benchmark: what a connector's spans cost per record, with tracing off, sampled out, and on.

Per record it does what the connector does: starts and finishes a ``send`` span, then enters and
leaves a ``process`` block with the send's ``traceparent`` (and, where the code has them, one batch
span per 100 records). Three ways, each in the same run (best of interleaved rounds, process CPU
time, so a busy neighbour inflates it less):

  off          OpenTelemetry unconfigured (``enlace up`` without ``OTEL_*`` variables);
  sampled out  an SDK provider with ``parentbased_traceidratio`` at 0: every trace is dropped at its
               root, and every consumer follows its sampled-out parent;
  on           an SDK provider sampling everything (``parentbased_always_on``, the SDK's default),
               spans handed to a ``BatchSpanProcessor`` whose exporter drops them.

The README's figures come from here; the test suite proves without a clock that nothing is made per
record when tracing is off.

Run: ``python -m ops.bench.tracing [--records 10000] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

from bus.tracing import Telemetry

_BATCH = 100


class _Dropped(SpanExporter):
    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _Polled:
    """What a batch span reads of a received record."""

    __slots__ = ("headers", "topic")

    def __init__(self, traceparent: str | None) -> None:
        self.topic = "t"
        self.headers = [("ce_id", b"m"), ("traceparent", traceparent.encode())] if traceparent else []


def per_record_s(telemetry: Telemetry, records: int) -> float:
    """Seconds per record of one round of ``records`` sends and processes (the benchmark's own
    stand-ins for polled records are made off the clock)."""
    batch = getattr(telemetry, "batch", None)
    spent = 0.0
    for first in range(0, records, _BATCH):
        started = time.process_time()
        sends = []
        for offset in range(first, min(first + _BATCH, records)):
            span = telemetry.start_send("t", key=b"k", message_id="m")
            span.finish(partition=0, offset=offset)
            sends.append(span.traceparent)
        spent += time.process_time() - started
        polled = [_Polled(t) for t in sends]
        started = time.process_time()
        if batch is not None:
            with batch(polled, group="g"):
                _process(telemetry, sends, first)
        else:
            _process(telemetry, sends, first)
        spent += time.process_time() - started
    return spent / records


def _process(telemetry: Telemetry, traceparents: list[str | None], first: int) -> None:
    for offset, traceparent in enumerate(traceparents, first):
        with telemetry.process(
            "t",
            traceparent=traceparent,
            tracestate=None,
            key=b"k",
            message_id="m",
            partition=0,
            offset=offset,
            group="g",
            sender="s",
        ):
            pass


def _provider(sampler: Any = None) -> TracerProvider:
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(BatchSpanProcessor(_Dropped(), max_queue_size=100_000))
    return provider


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    on, out = _provider(), _provider(ParentBasedTraceIdRatio(0.0))
    ways = {
        "off": Telemetry("urn:mx:gob:bench"),
        "sampled out": Telemetry("urn:mx:gob:bench", tracer_provider=out),
        "on": Telemetry("urn:mx:gob:bench", tracer_provider=on),
    }
    best = {name: float("inf") for name in ways}
    for _ in range(args.rounds):
        for name, telemetry in ways.items():
            best[name] = min(best[name], per_record_s(telemetry, args.records))
    print(f"µs per record (send span + process block), best of {args.rounds} interleaved rounds:")
    for name, seconds in best.items():
        print(f"    {name:<12} {seconds * 1e6:7.2f}")
    print(f"sampled out / on: {best['sampled out'] / best['on']:.2f}; off / on: {best['off'] / best['on']:.2f}")
    on.shutdown()
    out.shutdown()


if __name__ == "__main__":
    main()
