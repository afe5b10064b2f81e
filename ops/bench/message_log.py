"""The message log's cost: the signed pipeline with the log against the same pipeline without it.

``python -m ops.bench.message_log [--records N] [--rounds R]`` starts one local node (secured, as
``enlace up`` runs it) and, in interleaved rounds, publishes N CaseOpened v2 records with one agency
connector and consumes them with another (signed and verified, as ``ops.bench.pipeline``'s (c)),
once with ``message_log`` off and once on (both agencies log every record; checkpoints every 1,000
entries to the checkpoints topic). It prints the median publish, consume and together rates of each,
their ratios (log on / log off), and the log's extra cost per record in microseconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bus import load_settings
from bus.records.models import CaseOpened
from bus.transport import Topics
from connectors import AgencyConnector
from ops.bench.pipeline import CASES_TOPIC as _CASES_TOPIC
from ops.bench.pipeline import CRM, PORTAL, _Bench, _records
from ops.kafka import start_cluster


class _LogBench(_Bench):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checkpoint_topic = f"bench-checkpoints-{self.run_id}"
        with Topics(self.kafka) as topics:
            topics.ensure(self.checkpoint_topic, partitions=1)

    def logged_connector(self, agency: str, prefix: str, *, message_log: bool) -> AgencyConnector:
        settings = load_settings({}).model_copy(
            update={
                **self.kafka.settings(),
                "trust_topic": self.trust_topic,
                "trust_anchor": self.anchor,
                "topic_prefix": prefix,
                "message_log": message_log,
                "checkpoint_topic": self.checkpoint_topic,
            }
        )
        return AgencyConnector(
            agency,
            key=self.keys[agency],
            settings=settings,
            schema_source=self.source,
            store_path=self.workdir / f"{prefix}{agency.rsplit(':', 1)[-1]}.sqlite3",
        )


def _run(bench: _LogBench, records: list[CaseOpened], name: str, *, message_log: bool) -> dict[str, float]:
    prefix = bench.prefix(name)
    started = time.perf_counter()
    publisher = bench.logged_connector(CRM, prefix, message_log=message_log)
    for record in records:
        publisher.publish_async(record)
    publisher.flush()
    publish_s = time.perf_counter() - started
    publisher.close()  # the log's last entries and checkpoint are written here: counted in "together"
    closed_s = time.perf_counter() - started

    receiver = bench.logged_connector(PORTAL, prefix, message_log=message_log)
    seen = {"count": 0, "first": 0.0}

    def handler(record: CaseOpened, received: Any) -> None:
        if seen["count"] == 0:
            seen["first"] = time.perf_counter()
        seen["count"] += 1

    subscription = receiver.subscribe(CaseOpened, group=f"bench-{name}", handler=handler)
    subscription.run(max_records=len(records))
    consume_s = time.perf_counter() - seen["first"]
    receiver.close()
    assert seen["count"] == len(records), f"{name}: handled {seen['count']} of {len(records)}"
    return {"publish_s": publish_s, "consume_s": consume_s, "together_s": closed_s + consume_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    assert _CASES_TOPIC
    cluster = start_cluster(load_settings(), nodes=1)
    try:
        with tempfile.TemporaryDirectory(prefix="enlace-bench-log-") as workdir:
            bench = _LogBench(cluster.client_config(), Path(workdir))
            records = _records(args.records)
            _run(bench, records[:1000], "warmup", message_log=True)
            results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
            for i in range(args.rounds):
                for logged in (False, True) if i % 2 == 0 else (True, False):
                    results[logged].append(_run(bench, records, f"r{i}-{int(logged)}", message_log=logged))
            n = args.records
            print(
                f"{n:,} CaseOpened v2 records, signed + verified, single secured node, median of {args.rounds} rounds"
            )
            medians = {
                logged: {k: statistics.median(r[k] for r in runs) for k in ("publish_s", "consume_s", "together_s")}
                for logged, runs in results.items()
            }
            for logged, label in ((False, "message log off"), (True, "message log on")):
                m = medians[logged]
                print(
                    f"{label:<16} publish {n / m['publish_s']:>8,.0f}/s  consume {n / m['consume_s']:>8,.0f}/s  "
                    f"together {n / m['together_s']:>8,.0f}/s"
                )
            off, on = medians[False], medians[True]
            print(
                "ratio on/off (records/s): publish {:.2f}  consume {:.2f}  together {:.2f}".format(
                    off["publish_s"] / on["publish_s"],
                    off["consume_s"] / on["consume_s"],
                    off["together_s"] / on["together_s"],
                )
            )
            print(
                "the log's cost per record (together, both agencies): "
                f"{(on['together_s'] - off['together_s']) / n * 1e6:.1f} µs"
            )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
