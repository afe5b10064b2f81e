"""Benchmark: the codec and envelope against bare fastavro, record by record, in the same run.

For every record version's example (``schemas/**/vN.example.json``) it times three ways of sending
and receiving one record:

- ``bare``: fastavro's ``schemaless_writer`` and ``schemaless_reader`` with the parsed schema;
- ``codec``: ``Codec.encode`` + ``Codec.decode`` (wire-format framing, cached schema id);
- ``codec+env``: the codec, plus the Kafka key, ``new_envelope`` + ``to_headers`` on the way out and
  ``Envelope.from_headers`` on the way in — everything Enlace adds per message before Kafka.

Each variant runs in short interleaved rounds timed in process CPU time and keeps its best round,
so a noisy neighbour on a shared machine slows all three alike rather than one. The target: framing
and envelope cost at most 25% over bare fastavro (``codec+env / bare`` at most 1.25 in time).

Run: ``python -m ops.bench.codec [--rounds 7] [--min-time 0.2] [--record CaseOpened]``
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from typing import Any

import fastavro

from bus.codec import Codec, InMemorySchemaSource
from bus.envelope import Envelope, kafka_key, new_envelope
from bus.records import RecordType, catalog

TARGET = 1.25


def _bare(record_type: RecordType, data: dict[str, Any]) -> Callable[[], object]:
    parsed = record_type.parsed
    writer, reader, buffer_of = fastavro.schemaless_writer, fastavro.schemaless_reader, io.BytesIO

    def run() -> object:
        buffer = buffer_of()
        writer(buffer, parsed, data)
        return reader(buffer_of(buffer.getvalue()), parsed)

    return run


def _codec(codec: Codec, record_type: RecordType, data: dict[str, Any]) -> Callable[[], object]:
    encode, decode = codec.encode, codec.decode

    def run() -> object:
        return decode(encode(record_type, data), record_type)

    return run


def _codec_and_envelope(codec: Codec, record_type: RecordType, data: dict[str, Any]) -> Callable[[], object]:
    encode, decode, from_headers = codec.encode, codec.decode, Envelope.from_headers
    source = record_type.owner or "urn:mx:gob:bench"

    def run() -> object:
        key = kafka_key(record_type, data)
        headers = new_envelope(record_type, source=source, subject=key.decode()).to_headers()
        payload = encode(record_type, data)
        # ... Kafka carries key, headers and payload ...
        from_headers(headers)
        return decode(payload, record_type)

    return run


def _calibrate(run: Callable[[], object], min_time: float) -> int:
    loops = 1
    while True:
        started = time.process_time()
        for _ in range(loops):
            run()
        if time.process_time() - started >= min_time:
            return loops
        loops *= 2


def _best_seconds_per_call(variants: dict[str, Callable[[], object]], rounds: int, min_time: float) -> dict[str, float]:
    loops = _calibrate(variants["bare"], min_time)
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(rounds):
        for name, run in variants.items():  # interleaved: a slow moment hits every variant
            started = time.process_time()
            for _ in range(loops):
                run()
            best[name] = min(best[name], (time.process_time() - started) / loops)
    return best


def main(argv: list[str] | None = None) -> None:
    """Print records/s per record and variant, and the ratios against bare fastavro."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per record (best kept)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per round and variant")
    parser.add_argument("--record", default=None, help="only records whose name contains this")
    args = parser.parse_args(argv)

    codec = Codec(InMemorySchemaSource())
    types = [t for t in catalog().records() if not t.shared and (args.record or "") in t.full_name]
    header = (
        f"{'record':<44} {'bytes':>5} {'bare rec/s':>11} {'codec rec/s':>12} {'+env rec/s':>11} "
        f"{'codec/bare':>10} {'+env/bare':>9}"
    )
    print("encode+decode of one record, best of interleaved rounds; ratios are time ratios (lower is better)")
    print(header)
    print("-" * len(header))
    totals = dict.fromkeys(("bare", "codec", "codec+env"), 0.0)
    worst = 0.0
    for record_type in types:
        data = record_type.example()
        size = len(codec.encode(record_type, data))
        variants = {
            "bare": _bare(record_type, data),
            "codec": _codec(codec, record_type, data),
            "codec+env": _codec_and_envelope(codec, record_type, data),
        }
        best = _best_seconds_per_call(variants, args.rounds, args.min_time)
        for name, seconds in best.items():
            totals[name] += seconds
        ratio_codec, ratio_full = best["codec"] / best["bare"], best["codec+env"] / best["bare"]
        worst = max(worst, ratio_full)
        label = f"{record_type.full_name} v{record_type.version}"[:44]
        print(
            f"{label:<44} {size:>5} {1 / best['bare']:>11,.0f} {1 / best['codec']:>12,.0f} "
            f"{1 / best['codec+env']:>11,.0f} {ratio_codec:>10.3f} {ratio_full:>9.3f}"
        )
    print("-" * len(header))
    overall_codec, overall_full = totals["codec"] / totals["bare"], totals["codec+env"] / totals["bare"]
    print(
        f"{'all records (one of each)':<44} {'':>5} {len(types) / totals['bare']:>11,.0f} "
        f"{len(types) / totals['codec']:>12,.0f} {len(types) / totals['codec+env']:>11,.0f} "
        f"{overall_codec:>10.3f} {overall_full:>9.3f}"
    )
    print(
        f"framing overhead {100 * (overall_codec - 1):+.1f}%, framing+envelope overhead "
        f"{100 * (overall_full - 1):+.1f}% over bare fastavro (target at most {100 * (TARGET - 1):.0f}%); "
        f"worst single record {100 * (worst - 1):+.1f}%"
    )


if __name__ == "__main__":
    main()
