"""The CRM as its own process, for crash tests of the outbox: each CaseOpened it reads makes it emit a
CaseUpdated through ``received.transaction.emit``.

With ``hold`` the outbox publisher never starts, so every emitted record stays committed but unsent
(and unclaimed): the test kills the process in exactly the window between the commit and the
publish. (A process killed while sending holds its claims until they expire; that takeover is tested
in test_outbox.py.) With ``send`` it publishes normally and exits once idle and its outbox is empty.

Usage: python -m tests.connectors.outbox_worker BOOTSTRAP TRUST_TOPIC PREFIX REGISTRY DB GROUP KEY_FILE hold|send
"""

from __future__ import annotations

import os
import sys

from bus import load_settings
from bus.records.models import CaseOpened, CaseUpdated
from bus.registry import RegistryClient
from connectors import AgencyConnector, Received
from connectors._outbox import OutboxPublisher

CRM = "urn:mx:gob:crm"


def updated(case: CaseOpened) -> CaseUpdated:
    return CaseUpdated.from_avro(
        {
            "caseId": case.case_id,
            "citizenCurp": case.citizen_curp,
            "channel": "PORTAL",
            "category": case.category,
            "status": "IN_PROGRESS",
            "previousStatus": case.status,
            "slaDueDate": case.sla_due_date,
            "updatedAt": case.opened_at,
            "note": "taken",
        }
    )


def main() -> None:
    kafka_config, trust_topic, prefix, registry_url, db, group, key_file, mode = sys.argv[1:9]
    settings = load_settings({}).model_copy(
        update={
            "kafka_config": kafka_config,
            "trust_topic": trust_topic,
            "trust_anchor": os.environ["ENLACE_TRUST_ANCHOR"],  # the test pins its authority
            "topic_prefix": prefix,
        }
    )
    if mode == "hold":
        OutboxPublisher.start = lambda self: self  # type: ignore[method-assign]
    connector = AgencyConnector(
        CRM,
        key=key_file,
        settings=settings,
        schema_source=RegistryClient(registry_url),
        store_path=db,
        consumer_config={"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000},
    )

    def on_case(case: CaseOpened, received: Received) -> None:
        received.transaction.emit(updated(case))

    connector.subscribe(CaseOpened, group=group, handler=on_case, commit_interval_s=0.2)
    print("ready", flush=True)
    if mode == "hold":
        connector.run()  # until SIGKILLed
    else:
        connector.run(idle_timeout_s=4.0)
        connector.close()


if __name__ == "__main__":
    main()
