"""What the bridge does for the agencies it serves, HTTP aside: publish, subscribe, fetch, acknowledge.

For each agency the bridge holds an :class:`~connectors.AgencyConnector` with that agency's own Kafka
credentials and signing key, so a request through the bridge can do exactly what the agency's own
connector could: the connector checks the policy, validates, signs, and its subscriptions verify,
deduplicate (by ce_id, per consumer group) and dead-letter as they do for every agency.

A pull subscription's handler offers one record at a time and waits until the agency acknowledges it
(fetch leases it for ``ack_deadline_s``; a record not acknowledged in time is offered again, with the
same ce_id): the connector commits its offset only after that, so delivery is at least once and in
order. A webhook subscription's handler POSTs the record, signed; a failed POST is an ordinary handler
failure, retried with backoff and then dead-lettered by the connector.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bus import EnlaceError, EnlaceSettings, PolicyViolation, SchemaError, TransportError, ValidationError
from bus.identity import AgencyKey
from bus.records import Catalog, RecordType, catalog, from_json
from bus.transport import agency_group
from connectors._connector import AgencyConnector
from connectors._received import Delivery, DeliveryFuture, Received
from connectors._subscriber import Subscription
from connectors.bridge._callbacks import CallbackSigner
from connectors.bridge._store import BridgeStore

__all__ = ["AgencySetup", "Bridge", "BridgeRefusal", "LineResult", "Problem"]

_log = logging.getLogger("connectors.bridge")
_IDS = uuid.UUID("6f1c2b9e-5a43-4c55-9d0e-0b7d1f3a8e21")  # the namespace of ce_ids derived from idempotency keys
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_STOPPING = "the bridge is stopping"


@dataclass(frozen=True)
class Problem:
    """One problem of a request, as ``enlace publish`` and ``enlace records validate`` report them: a JSON
    pointer (into the record for a record's problem), the rule's id and a sentence. No value: what the
    agency sent may be personal data, and answers travel through proxies and logs."""

    path: str
    rule: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "rule": self.rule, "message": self.message}


def problems_of(error: ValidationError) -> list[Problem]:
    """The problems a ValidationError lists, one per problem (as the CLI prints them)."""
    return [Problem(p.path or "/", p.rule or "record", p.message) for p in (error.problems or [error])]


class BridgeRefusal(EnlaceError):
    """A request the bridge refuses: the HTTP status, Confluent's error code, and its problems."""

    def __init__(self, status: int, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems or []


@dataclass(frozen=True)
class LineResult:
    """One record's outcome: where it was stored, or its problems."""

    line: int
    delivery: Delivery | None = None
    error_code: int = 200
    message: str = ""
    problems: list[Problem] = field(default_factory=list)

    def as_json(self, cluster: str) -> dict[str, Any]:
        if self.delivery is None:
            return {
                "line": self.line,
                "error_code": self.error_code,
                "message": self.message,
                "problems": [p.as_json() for p in self.problems],
            }
        d = self.delivery
        return {
            "line": self.line,
            "error_code": 200,
            "cluster_id": cluster,
            "topic_name": d.topic,
            "partition_id": d.partition,
            "offset": d.offset,
            "ce_id": d.ce_id,
        }


@dataclass
class AgencySetup:
    """One agency the bridge serves: its signing key, its settings (its own Kafka credentials), and the
    webhook URL its operator registered (callbacks go nowhere else)."""

    key: AgencyKey | str | Path | None
    settings: EnlaceSettings
    webhook_url: str | None = None


class _Offered:
    __slots__ = ("acked", "item", "leased_until")

    def __init__(self, item: dict[str, Any]) -> None:
        self.item, self.acked, self.leased_until = item, False, 0.0


class PullQueue:
    """The hand-over between a pull subscription's handler (the consumer thread) and HTTP fetches."""

    def __init__(self, ack_deadline_s: float) -> None:
        self._cond = threading.Condition()
        self._offered: _Offered | None = None
        self._stopping = False
        self.ack_deadline_s = ack_deadline_s

    def handle(self, item: dict[str, Any]) -> None:
        offered = _Offered(item)
        with self._cond:
            self._offered = offered
            self._cond.notify_all()
            while not offered.acked:
                if self._stopping:
                    self._offered = None
                    raise TransportError(_STOPPING, retriable=True)  # left for redelivery, not applied
                self._cond.wait(0.5)
            self._offered = None

    def fetch(self, wait_s: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + wait_s
        with self._cond:
            while True:
                now = time.monotonic()
                offered = self._offered
                if offered is not None and not offered.acked and offered.leased_until <= now:
                    offered.leased_until = now + self.ack_deadline_s
                    return [offered.item]
                if now >= deadline or self._stopping:
                    return []
                lease_left = offered.leased_until - now if offered is not None else 0.5
                self._cond.wait(max(0.01, min(deadline - now, lease_left, 0.5)))

    def acknowledge(self, ce_ids: set[str]) -> int:
        with self._cond:
            offered = self._offered
            if offered is not None and offered.item["ce_id"] in ce_ids and offered.leased_until > 0:
                offered.acked = True
                self._cond.notify_all()
                return 1
            return 0

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()


@dataclass
class _Running:
    definition: dict[str, Any]
    subscription: Subscription
    thread: threading.Thread
    queue: PullQueue | None


def _item(record: Any, received: Received) -> dict[str, Any]:
    data = record.model_dump(mode="json", by_alias=True) if hasattr(record, "model_dump") else record
    return {
        "ce_id": received.ce_id,
        "type": received.ce_type,
        "sender": received.sender,
        "subject": received.subject,
        "time": received.time,
        "topic_name": received.topic,
        "partition_id": received.partition,
        "offset": received.offset,
        "attempt": received.attempt,
        "value": {"type": "JSON", "data": data},
    }


class Bridge:
    """The HTTP bridge's state: one connector per agency, the idempotency store, the subscriptions.

    Args:
        agencies: the agencies served, by URN.
        store_path: the bridge's SQLite file (idempotency keys, subscriptions).
        cluster_id: the cluster id the URLs name (REST Proxy v3's ``{cluster_id}``).
        records: the record catalog (the shared one by default).
        ack_deadline_s: how long a fetched record stays leased before it is offered again.
        signer: the callbacks' signer (a new key when omitted).
        webhook_timeout_s: how long one callback may take.
        schema_source: the connectors' schema source (a registry client on each agency's
            ``registry_url`` by default; benchmarks pass an in-memory one).
    """

    def __init__(
        self,
        agencies: dict[str, AgencySetup],
        *,
        store_path: str | Path,
        cluster_id: str = "enlace",
        records: Catalog | None = None,
        ack_deadline_s: float = 30.0,
        signer: CallbackSigner | None = None,
        webhook_timeout_s: float = 10.0,
        schema_source: Any = None,
    ) -> None:
        self.agencies = agencies
        self.cluster_id = cluster_id
        self.catalog = records or catalog()
        self.store = BridgeStore(store_path)
        self.signer = signer or CallbackSigner()
        self.ack_deadline_s = ack_deadline_s
        self._store_dir = Path(store_path).parent
        self._connectors: dict[str, AgencyConnector] = {}
        self._running: dict[tuple[str, str], _Running] = {}
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=webhook_timeout_s, follow_redirects=False)
        self._schema_source = schema_source

    # -- agencies ----------------------------------------------------------------------------------
    def connector(self, agency: str) -> AgencyConnector:
        """The agency's connector (made on first use)."""
        with self._lock:
            if agency not in self._connectors:
                setup = self.agencies[agency]
                name = agency.rsplit(":", 1)[-1]
                self._connectors[agency] = AgencyConnector(
                    agency,
                    key=setup.key,
                    settings=setup.settings,
                    store_path=self._store_dir / f"bridge-{name}.sqlite3",
                    records=self.catalog,
                    schema_source=self._schema_source,
                )
            return self._connectors[agency]

    def record_type(self, name: str) -> RecordType:
        try:
            record_type = self.catalog.get(name)
        except SchemaError as exc:
            raise BridgeRefusal(404, str(exc)) from None
        if record_type.topic is None or record_type.model is None:
            raise BridgeRefusal(404, f"{record_type.full_name} is a shared type, not a record with a topic")
        return record_type

    def visible_records(self, agency: str) -> list[dict[str, Any]]:
        """The records ``agency`` may publish (it owns them) or read (the policy names it a reader)."""
        listed = []
        for name in self.catalog.names():
            latest = self.catalog.get(name)
            if latest.topic is None:
                continue
            purposes = self.catalog.policy.readers_of(name).get(agency, ())
            may_publish = latest.owner == agency
            if may_publish or purposes:
                listed.append(
                    {
                        "record": name,
                        "version": latest.version,
                        "owner": latest.owner,
                        "topic_name": latest.topic,
                        "key_field": latest.key_field,
                        "may_publish": may_publish,
                        "may_read": bool(purposes),
                        "purposes": list(purposes),
                    }
                )
        return listed

    # -- publishing ---------------------------------------------------------------------------------
    def publish(
        self, agency: str, record_name: str, lines: list[tuple[int, Any]], *, idempotency_key: str | None, body: bytes
    ) -> tuple[int, list[LineResult]]:
        """Publish each line's record; returns the HTTP status and one result per line.

        With an idempotency key, a retry of the same request gets the first answer and publishes nothing;
        the ce_ids are derived from the key and the line, so a request the bridge could not finish is
        published again under the same ids.
        """
        record_type = self.record_type(record_name)
        if record_type.owner != agency:
            raise BridgeRefusal(
                403,
                f"{agency} may not publish {record_type.full_name}: its namespace is {record_type.owner}'s",
                [Problem("/", "policy.owner", "only the namespace's owner publishes its records")],
            )
        if idempotency_key is None:
            return self._publish(agency, record_type, lines, None)
        digest = hashlib.sha256(record_type.full_name.encode() + b"\0" + body).hexdigest()
        claim = self.store.claim(agency, idempotency_key, digest)
        if claim.outcome == "done":
            return claim.status or 200, [_replayed(r) for r in claim.answer]
        if claim.outcome == "conflict":
            raise BridgeRefusal(
                422,
                "this Idempotency-Key was used with another request: use a new key for a new request",
                [Problem("/", "idempotency-key.reused", "the key names an earlier, different request")],
            )
        if claim.outcome == "busy":
            raise BridgeRefusal(409, "a request with this Idempotency-Key is still in progress: retry later")
        try:
            status, results = self._publish(agency, record_type, lines, idempotency_key)
        except BaseException:
            self.store.release(agency, idempotency_key)
            raise
        if any(r.error_code >= 500 for r in results):
            self.store.release(agency, idempotency_key)  # a retry publishes again, under the same ce_ids
        else:
            self.store.finish(agency, idempotency_key, status, [_saved(r) for r in results])
        return status, results

    def _publish(
        self, agency: str, record_type: RecordType, lines: list[tuple[int, Any]], key: str | None
    ) -> tuple[int, list[LineResult]]:
        connector = self.connector(agency)
        model = record_type.model
        assert model is not None
        pending: list[tuple[int, DeliveryFuture | LineResult]] = []
        for index, (line, data) in enumerate(lines):
            try:
                record = model.from_avro(from_json(record_type, data))
            except ValidationError as exc:
                pending.append(
                    (
                        line,
                        LineResult(line, error_code=422, message="the record is not valid", problems=problems_of(exc)),
                    )
                )
                continue
            ce_id = str(uuid.uuid5(_IDS, f"{agency}\0{key}\0{index}")) if key is not None else None
            try:
                pending.append((line, connector.publish_async(record, ce_id=ce_id)))
            except PolicyViolation as exc:
                pending.append((line, LineResult(line, error_code=403, message=str(exc))))
            except ValidationError as exc:  # too large for its topic
                pending.append(
                    (
                        line,
                        LineResult(line, error_code=422, message="the record is not valid", problems=problems_of(exc)),
                    )
                )
            except SchemaError as exc:
                pending.append((line, LineResult(line, error_code=503, message=str(exc))))
            except TransportError as exc:
                pending.append((line, LineResult(line, error_code=503, message=str(exc))))
        results = []
        for line, outcome in pending:
            if isinstance(outcome, LineResult):
                results.append(outcome)
                continue
            try:
                results.append(LineResult(line, outcome.result(timeout=60)))
            except Exception as exc:  # TransportError, or no answer in time
                results.append(LineResult(line, error_code=503, message=f"Kafka did not acknowledge the record: {exc}"))
        codes = {r.error_code for r in results}
        status = codes.pop() if len(codes) == 1 else 207
        return status, results

    # -- subscriptions -------------------------------------------------------------------------------
    def subscribe(self, agency: str, name: str, records: list[Any], *, delivery: str) -> dict[str, Any]:
        """Create (or find) the agency's named subscription to ``records`` (``pull`` or ``webhook``); a new
        subscription starts from the oldest record its topics still hold.

        Raises:
            BridgeRefusal: a name, record or delivery the bridge cannot take, or a record the policy does
                not let the agency read.
        """
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise BridgeRefusal(
                422,
                "a subscription's name is 1-63 lowercase letters, digits and hyphens",
                [Problem("/name", "subscription.name", "lowercase letters, digits, hyphens")],
            )
        full_names = []
        for index, wanted in enumerate(records):
            record_type = self.record_type(wanted) if isinstance(wanted, str) else None
            if record_type is None:
                raise BridgeRefusal(
                    422, "records are names", [Problem(f"/records/{index}", "record.name", "a record name")]
                )
            if not self.catalog.policy.readers_of(record_type.full_name).get(agency):
                raise BridgeRefusal(
                    403,
                    f"the policy does not name {agency} a reader of {record_type.full_name}",
                    [Problem(f"/records/{index}", "policy.reader", "only the policy's readers receive a record")],
                )
            full_names.append(record_type.full_name)
        if delivery == "webhook" and not self.agencies[agency].webhook_url:
            raise BridgeRefusal(
                422,
                f"no webhook URL is registered for {agency} on this bridge (its operator sets it)",
                [Problem("/delivery", "webhook.unregistered", "the bridge calls only registered URLs")],
            )
        definition = {"records": sorted(set(full_names)), "delivery": delivery}
        with self._lock:
            running = self._running.get((agency, name))
        if running is not None:
            if running.definition != definition:
                raise BridgeRefusal(409, f"subscription {name} exists with another definition: delete it first")
            return self.describe(agency, name)
        self.store.save_subscription(agency, name, definition)
        self._start(agency, name, definition)
        return self.describe(agency, name)

    def describe(self, agency: str, name: str) -> dict[str, Any]:
        running = self._get(agency, name)
        return {"name": name, "group": running.subscription.group, **running.definition}

    def resume(self) -> None:
        """Start the subscriptions saved by an earlier run (of agencies still served)."""
        for saved in self.store.subscriptions():
            if saved.agency in self.agencies:
                self._start(saved.agency, saved.name, saved.definition)

    def _start(self, agency: str, name: str, definition: dict[str, Any]) -> None:
        connector = self.connector(agency)
        queue = PullQueue(self.ack_deadline_s) if definition["delivery"] == "pull" else None
        webhook = self.agencies[agency].webhook_url

        def handler(record: Any, received: Received) -> None:
            item = _item(record, received)
            if queue is not None:
                queue.handle(item)
            else:
                assert webhook is not None
                self._call_back(webhook, item)

        group = agency_group(agency, f"bridge.{name}")
        subscription = connector.subscribe(definition["records"], group=group, handler=handler, commit_interval_s=0)
        thread = threading.Thread(target=subscription.run, name=f"bridge-{name}", daemon=True)
        with self._lock:
            self._running[(agency, name)] = _Running(definition, subscription, thread, queue)
        thread.start()

    def _call_back(self, url: str, item: dict[str, Any]) -> None:
        body = json.dumps(item, ensure_ascii=False).encode()
        headers = self.signer.headers(url, body, ce_id=item["ce_id"])
        response = self._http.post(url, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise TransportError(f"the webhook answered {response.status_code}", retriable=True)

    def _get(self, agency: str, name: str) -> _Running:
        with self._lock:
            running = self._running.get((agency, name))
        if running is None:
            raise BridgeRefusal(404, f"{agency} has no subscription named {name}")
        return running

    def fetch(self, agency: str, name: str, *, wait_s: float) -> list[dict[str, Any]]:
        running = self._get(agency, name)
        if running.queue is None:
            raise BridgeRefusal(409, f"subscription {name} delivers by webhook; there is nothing to fetch")
        return running.queue.fetch(wait_s)

    def acknowledge(self, agency: str, name: str, ce_ids: set[str]) -> int:
        running = self._get(agency, name)
        if running.queue is None:
            raise BridgeRefusal(409, f"subscription {name} delivers by webhook; there is nothing to acknowledge")
        return running.queue.acknowledge(ce_ids)

    def unsubscribe(self, agency: str, name: str) -> None:
        running = self._get(agency, name)
        self.store.delete_subscription(agency, name)
        self._stop(running)
        with self._lock:
            self._running.pop((agency, name), None)

    def _stop(self, running: _Running) -> None:
        if running.queue is not None:
            running.queue.stop()
        running.subscription.stop()
        running.thread.join(timeout=30)

    def close(self) -> None:
        """Stop every subscription (each finishes or leaves its record in hand), close the connectors."""
        with self._lock:
            running = list(self._running.values())
            self._running.clear()
        for each in running:
            self._stop(each)
        for connector in self._connectors.values():
            connector.close()
        self._http.close()
        self.store.close()


def _saved(result: LineResult) -> dict[str, Any]:
    d = result.delivery
    return {
        "line": result.line,
        "error_code": result.error_code,
        "message": result.message,
        "problems": [p.as_json() for p in result.problems],
        "delivery": None if d is None else [d.topic, d.partition, d.offset, d.ce_id],
    }


def _replayed(saved: dict[str, Any]) -> LineResult:
    d = saved["delivery"]
    return LineResult(
        saved["line"],
        Delivery(*d) if d else None,
        saved["error_code"],
        saved["message"],
        [Problem(**p) for p in saved["problems"]],
    )
