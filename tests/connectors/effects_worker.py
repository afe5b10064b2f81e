"""A receiving agency as its own process, for crash tests: applies CaseOpened records exactly once.

Each record's effect is a row in the ``effects`` table, written through the connector's transaction.
The table has no unique constraint on purpose: a record applied twice shows up as two rows.

Usage: python -m tests.connectors.effects_worker BOOTSTRAP TRUST_TOPIC PREFIX REGISTRY DB GROUP DELAY_S IDLE_S
"""

from __future__ import annotations

import sqlite3
import sys
import time

from bus import load_settings
from bus.records.models import CaseOpened
from bus.registry import RegistryClient
from connectors import AgencyConnector


def main() -> None:
    kafka_config, trust_topic, prefix, registry_url, db, group, delay_s, idle_s, anchor = sys.argv[1:10]
    source = RegistryClient(registry_url)  # reads only: the writer's schema by id
    with sqlite3.connect(db) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS effects (ce_id TEXT, case_id TEXT)")
    settings = load_settings({}).model_copy(
        update={
            "kafka_config": kafka_config,
            "trust_topic": trust_topic,
            "trust_anchor": anchor,
            "topic_prefix": prefix,
        }
    )
    # A short session: after a SIGKILL the group gives the dead member's partitions away sooner.
    connector = AgencyConnector(
        "urn:mx:gob:portal",
        settings=settings,
        schema_source=source,
        store_path=db,
        consumer_config={"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000},
    )

    def apply(record: CaseOpened, received) -> None:
        received.transaction.execute("INSERT INTO effects VALUES (?, ?)", (received.ce_id, record.case_id))
        time.sleep(float(delay_s))

    connector.subscribe(CaseOpened, group=group, handler=apply, commit_interval_s=0.2)
    print("ready", flush=True)
    connector.run(idle_timeout_s=float(idle_s))
    connector.close()


if __name__ == "__main__":
    main()
