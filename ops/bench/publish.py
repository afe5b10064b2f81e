"""Benchmark: a publish's own work per record before anything is sent, validating once or twice.

Times, per CaseOpened v2 record, without a broker (best of interleaved rounds, process CPU time):

  make      ``CaseOpened.from_avro(dict)``: what an agency system pays to build the record;
  twice     ``Outbound.prepare`` of the record's Avro dict, validated again (the publish path before
            the models were known valid, and still the path of a model made with ``model_construct``);
  once      ``Outbound.prepare_record``: the record is known valid, so it is not validated again.

``prepare`` is policy, validation, encoding, envelope and size check; signing is the batcher's, after
(``ops.bench.pipeline`` times it). Tracing is off. Run on code without ``prepare_record`` the "once"
row is skipped, so the same script measures an older checkout (``PYTHONPATH=that/checkout``).

Run: ``python -m ops.bench.publish [--records 5000] [--rounds 7]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from bus.codec import Codec, InMemorySchemaSource
from bus.records import catalog
from bus.records.models import CaseOpened
from bus.tracing import Telemetry
from connectors._outbound import Outbound

CRM = "urn:mx:gob:crm"


def _outbound() -> Outbound:
    return Outbound(
        agency=CRM,
        codec=Codec(InMemorySchemaSource()),
        catalog=catalog(),
        signing_key=None,
        telemetry=Telemetry(CRM),
        size_limit=lambda topic: 1_048_576,
    )


def _micros(step: Callable[[int], Any], count: int) -> float:
    started = time.process_time()
    for i in range(count):
        step(i)
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    cases = catalog().get("CaseOpened")
    datas = [cases.example() | {"caseId": f"CRM-2025-{i:07d}"} for i in range(args.records)]
    records = [CaseOpened.from_avro(d) for d in datas]
    outbound = _outbound()
    steps: dict[str, Callable[[int], Any]] = {
        "make: CaseOpened.from_avro(dict)": lambda i: CaseOpened.from_avro(datas[i]),
        "publish, validated again: prepare(to_avro())": lambda i: outbound.prepare(cases, records[i].to_avro()),
    }
    if hasattr(outbound, "prepare_record"):
        steps["publish, validated once: prepare_record"] = lambda i: outbound.prepare_record(records[i])
    best = {name: float("inf") for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            best[name] = min(best[name], _micros(step, args.records))
    print(f"{args.records:,} CaseOpened v2 records, µs per record, best of {args.rounds} interleaved rounds:")
    for name, micros in best.items():
        print(f"    {name:<48} {micros:>6.1f}")
    make, twice, *once_if_any = best.values()
    once = once_if_any[0] if once_if_any else None
    if once is not None:
        print(f"once / twice: {once / twice:.2f}; make + publish, once / twice: {(make + once) / (make + twice):.2f}")


if __name__ == "__main__":
    main()
