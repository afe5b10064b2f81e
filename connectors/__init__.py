"""Connector libraries: how an agency system joins the bus.

The agency connector, in a few lines::

    from connectors import AgencyConnector
    from bus.records.models import CaseOpened

    crm = AgencyConnector("urn:mx:gob:crm", key="keys/crm.key")
    delivery = crm.publish(CaseOpened(...))        # validated, encoded, signed, acked by all replicas

    portal = AgencyConnector("urn:mx:gob:portal")
    def on_case(case: CaseOpened, received: Received) -> None:
        received.transaction.execute("INSERT INTO cases VALUES (?, ?)", (case.case_id, received.sender))
    portal.subscribe(CaseOpened, group="portal-cases", handler=on_case)
    portal.run()                                    # until SIGTERM / Ctrl-C

A record's path: ``_connector.AgencyConnector.publish`` → ``_outbound`` (policy, validation, codec,
envelope, signature) → Kafka → ``_subscriber.Subscription`` (verification, dedup, ``_inbound``
decoding, handler with retries, commit) → your handler; refusals go to ``_dead_letters``.
"""

from connectors._connector import AgencyConnector
from connectors._dead_letters import (
    DLQ_SUFFIX,
    DeadLetter,
    list_dead_letters,
    replay_dead_letters,
    replay_position,
)
from connectors._processed import ProcessedStore, Transaction
from connectors._received import Delivery, Received
from connectors._subscriber import Handler, Subscription

__all__ = [
    "DLQ_SUFFIX",
    "AgencyConnector",
    "DeadLetter",
    "Delivery",
    "Handler",
    "ProcessedStore",
    "Received",
    "Subscription",
    "Transaction",
    "list_dead_letters",
    "replay_dead_letters",
    "replay_position",
]
