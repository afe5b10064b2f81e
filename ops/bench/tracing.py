"""Benchmark: what a connector's spans cost per record when no tracing or metrics are configured.

Starts and finishes a ``send`` span and enters and leaves a ``process`` block per record, as the
connector does, with OpenTelemetry unconfigured; prints the time per record (best of a few rounds,
process CPU time, so a busy neighbour inflates it less). The README's figure comes from here; the
test suite proves the same point without a clock (no span, context or propagation per record).

Run: ``python -m ops.bench.tracing [--records 10000] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import time

from bus.tracing import Telemetry


def per_record_s(records: int) -> float:
    """Seconds per record of one round of ``records`` sends and processes with tracing off."""
    telemetry = Telemetry("urn:mx:gob:bench")
    started = time.process_time()
    for offset in range(records):
        span = telemetry.start_send("t", key=b"k", message_id="m")
        span.finish(partition=0, offset=offset)
        with telemetry.process(
            "t",
            traceparent=None,
            tracestate=None,
            key=b"k",
            message_id="m",
            partition=0,
            offset=offset,
            group="g",
            sender="s",
        ):
            pass
    return (time.process_time() - started) / records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    best = min(per_record_s(args.records) for _ in range(args.rounds))
    print(f"tracing off: {best * 1e6:.2f} µs per record (send span + process block), best of {args.rounds}")


if __name__ == "__main__":
    main()
