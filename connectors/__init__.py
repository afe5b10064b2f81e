"""Connector libraries: how an agency system joins the bus.

The agency connector, in a few lines::

    from connectors import AgencyConnector, Received
    from bus.records.models import CaseOpened, DataAccessLogged

    crm = AgencyConnector("urn:mx:gob:crm", key="keys/crm.key")
    delivery = crm.publish(CaseOpened(...))        # validated, encoded, signed, acked by all replicas

    transparencia = AgencyConnector("urn:mx:gob:transparencia", key="keys/transparencia.key", store_schema=SCHEMA)
    def on_case(case: CaseOpened, received: Received) -> None:
        received.transaction.execute("INSERT INTO seen_cases VALUES (?)", (case.case_id,))
        received.transaction.emit(DataAccessLogged(...))   # sent after the commit, exactly once
    transparencia.subscribe(CaseOpened, group="transparencia", handler=on_case)
    transparencia.run()                                      # until SIGTERM / Ctrl-C

A record's path: ``_connector.AgencyConnector.publish`` → ``_outbound`` (policy, validation, codec,
envelope, signature) → Kafka → ``_subscriber.Subscription`` (verification, dedup, ``_inbound``
decoding, handler with retries, commit) → your handler; refusals go to ``_dead_letters`` (a handler
refuses a record for good by raising ``RecordRefused(reason, message)``). What a
handler (or ``connector.transaction()``) emits is prepared the same way, kept in the agency store's
outbox (``_store``) and sent after the commit by ``_outbox``. Every record sent and received is
appended to the agency's hash-chained message log (``_message_log``: checkpoints, witnessing,
``verify_log``); ``_evidence`` builds and checks offline proofs of one record. Unit-test handlers with
``connectors.testing``.
"""

from connectors._connector import AgencyConnector
from connectors._dead_letters import (
    DLQ_SUFFIX,
    DeadLetter,
    RefusedReplay,
    Replay,
    ReplayProgress,
    list_dead_letters,
    replay_dead_letters,
    replay_progress,
)
from connectors._evidence import PROOF_FORMAT, ProofError, ProofSummary, build_proof, check_proof
from connectors._message_log import (
    Checkpoint,
    CheckpointError,
    CheckpointWitness,
    LogEntry,
    LogProblem,
    LogVerification,
    MessageLog,
    WitnessedCheckpoint,
    log_path_for,
    read_checkpoint,
    verify_log,
    witnessed_in,
)
from connectors._received import Delivery, DeliveryFuture, Received, RecordRefused
from connectors._store import AgencyStore, Batch, Position, Transaction
from connectors._subscriber import Handler, Subscription

__all__ = [
    "DLQ_SUFFIX",
    "PROOF_FORMAT",
    "AgencyConnector",
    "AgencyStore",
    "Batch",
    "Checkpoint",
    "CheckpointError",
    "CheckpointWitness",
    "DeadLetter",
    "Delivery",
    "DeliveryFuture",
    "Handler",
    "LogEntry",
    "LogProblem",
    "LogVerification",
    "MessageLog",
    "Position",
    "ProofError",
    "ProofSummary",
    "Received",
    "RecordRefused",
    "RefusedReplay",
    "Replay",
    "ReplayProgress",
    "Subscription",
    "Transaction",
    "WitnessedCheckpoint",
    "build_proof",
    "check_proof",
    "list_dead_letters",
    "log_path_for",
    "read_checkpoint",
    "replay_dead_letters",
    "replay_progress",
    "verify_log",
    "witnessed_in",
]
