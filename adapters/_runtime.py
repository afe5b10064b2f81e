"""One agency as a process: its desk on the agency connector, a health endpoint, a clean shutdown.

The only module of ``adapters`` that knows the connector. It turns received models into the Avro dicts
desks read, and desks' outbox rows into models the connector publishes; everything else an agency
does lives in its desk and mapping modules.

Shutdown (SIGTERM or Ctrl-C): the connector finishes the record in hand and commits, then the web
server stops and the databases close. Several processes of one agency share its SQLite files and
its consumer group, so the agency scales by starting more of them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import inspect
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from adapters._ledger import Ledger
from adapters._seam import Delivery

__all__ = ["AgencySpec", "ConnectorOutbound", "Desk", "main", "run_agency"]

_log = logging.getLogger("enlace.adapters")
# How often leftovers in the outbox (a publish that failed while the broker was away) are retried.
_DRAIN_EVERY_S = 2.0


class Desk(Protocol):
    """What every agency's desk offers the runtime."""

    ledger: Ledger

    def handlers(self) -> dict[str, Callable[[dict[str, Any], Delivery], None]]: ...


@dataclass(frozen=True)
class AgencySpec:
    """How to build one agency.

    Attributes:
        urn: the agency's URN.
        name: a short name (files, the consumer group, logs).
        schema: the agency's own tables (SQL), created in its ledger.
        make_desk: builds the desk from the ledger and the parsed command line.
        make_app: builds the agency's web application (the portal); None for a health endpoint only.
        describe: extra fields for ``GET /health`` (counts an operator wants to see).
    """

    urn: str
    name: str
    schema: str
    make_desk: Callable[[Ledger, argparse.Namespace], Desk]
    make_app: Callable[[Desk, Callable[[], None], Callable[[], dict[str, Any]]], FastAPI] | None = None
    describe: Callable[[Desk], dict[str, Any]] = lambda desk: {}


class ConnectorOutbound:
    """Publishes desks' records through the agency connector (validated, signed, traced, acked).

    The outbox fixes each record's ce_id before it is sent, so a resend after a crash (between
    Kafka's acknowledgement and the outbox bookkeeping) carries the same ce_id and receivers drop
    it. That needs a connector whose ``publish`` takes ``ce_id``; with one that does not,
    :attr:`keeps_ce_id` is false and such a resend is a second record under a new ce_id, which the
    receiving desks still apply once (by request id, case id, folio).
    """

    def __init__(self, connector: Any) -> None:
        self._connector = connector
        self.keeps_ce_id = "ce_id" in inspect.signature(connector.publish).parameters

    def publish(self, record_name: str, record: dict[str, Any], *, ce_id: str) -> None:
        """Publish one record and wait for all in-sync replicas."""
        model = self._connector.catalog.get(record_name).model.from_avro(record)
        if self.keeps_ce_id:
            self._connector.publish(model, ce_id=ce_id)
        else:
            self._connector.publish(model)


def _plain(value: Any) -> Any:
    """Avro dicts as desks read them: UUID logical values as their canonical strings."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _trace_id(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 else None


def _delivery(received: Any) -> Delivery:
    time_ = None
    if getattr(received, "time", None):
        with contextlib.suppress(ValueError):
            time_ = dt.datetime.fromisoformat(received.time.replace("Z", "+00:00"))
    return Delivery(
        ce_id=received.ce_id,
        sender=received.sender,
        subject=received.subject or "",
        time=time_,
        trace_id=_trace_id(received.traceparent),
    )


class _Agency:
    """The running parts of one agency process."""

    def __init__(self, spec: AgencySpec, args: argparse.Namespace) -> None:
        # The connector is the transport; only this module knows it.
        from connectors import AgencyConnector  # type: ignore[attr-defined,unused-ignore]

        self.spec = spec
        data = Path(args.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(data / f"{spec.name}.sqlite3", schema=spec.schema)
        self.desk = spec.make_desk(self.ledger, args)
        self.connector = AgencyConnector(
            spec.urn, key=args.key_file, processed_db=data / f"{spec.name}-processed.sqlite3"
        )
        self.outbound = ConnectorOutbound(self.connector)
        self.handlers = self.desk.handlers()
        self.catalog = self.connector.catalog
        self.started = time.time()
        self.consuming = threading.Event()
        self._stopping = threading.Event()

    def handle(self, record: Any, received: Any) -> None:
        """The connector's handler: the desk applies the record, then its outbox is published."""
        self.consuming.set()
        name = self.catalog.for_model(type(record)).full_name
        handler = self.handlers.get(name)
        if handler is None:
            return  # a record on a subscribed topic this agency does not read (a newer record type)
        handler(_plain(record.to_avro()), _delivery(received))
        # Published inside the consumer's span, so each record sent continues the received trace.
        self.ledger.drain(self.outbound)

    def publish_pending(self) -> None:
        """Publish the outbox now (after a web submission); failures are retried by the drain loop."""
        self.ledger.drain(self.outbound)

    def drain_loop(self) -> None:
        while not self._stopping.wait(_DRAIN_EVERY_S):
            try:
                self.ledger.drain(self.outbound)
            except Exception as exc:  # the rows stay pending; logged, and tried again
                _log.warning("%s: outbox not published yet: %s", self.spec.name, exc)

    def health(self) -> dict[str, Any]:
        stopping = self._stopping.is_set()
        return {
            "status": "DOWN" if stopping else "UP",
            "agency": self.spec.urn,
            "uptime_s": round(time.time() - self.started, 1),
            "records_read": sorted(self.handlers),
            "outbox": self.ledger.outbox_counts(),
            "resends_keep_ce_id": self.outbound.keeps_ce_id,
            **self.spec.describe(self.desk),
        }

    def app(self) -> FastAPI:
        if self.spec.make_app is not None:
            return self.spec.make_app(self.desk, self.publish_pending, self.health)
        app = FastAPI(title=f"{self.spec.urn} health", docs_url=None, redoc_url=None)

        @app.get("/health")
        def health() -> JSONResponse:
            body = self.health()
            return JSONResponse(body, status_code=200 if body["status"] == "UP" else 503)

        return app

    def run(self, *, host: str, port: int) -> None:
        import uvicorn

        server = uvicorn.Server(uvicorn.Config(self.app(), host=host, port=port, log_level="warning", access_log=False))
        web = threading.Thread(target=server.run, name=f"{self.spec.name}-http", daemon=True)
        drainer = threading.Thread(target=self.drain_loop, name=f"{self.spec.name}-outbox", daemon=True)
        self.connector.subscribe(list(self.handlers), group=self.spec.name, handler=self.handle)
        web.start()
        drainer.start()
        with contextlib.suppress(Exception):
            self.ledger.drain(self.outbound)  # what a previous run left unpublished
        _log.info("%s on http://%s:%d", self.spec.urn, host, port)
        try:
            self.connector.run()  # until SIGTERM / Ctrl-C: finishes the record in hand, commits
        finally:
            self._stopping.set()
            server.should_exit = True
            web.join(timeout=10)
            drainer.join(timeout=5)
            self.connector.close()
            self.ledger.close()
            _log.info("%s stopped cleanly", self.spec.urn)


def _arguments(spec: AgencySpec, argv: list[str] | None) -> argparse.Namespace:
    """The command line every agency takes, plus the options its declaration adds (fiscal's ``--register``)."""
    from adapters._agencies import agency

    declared = agency(spec.urn)
    parser = argparse.ArgumentParser(
        prog=f"python -m {declared.module}", description=f"Run {spec.urn} on the Enlace bus."
    )
    parser.add_argument("--key-file", required=True, help="the agency's private key (enlace agency keygen)")
    parser.add_argument("--data-dir", required=True, help="folder of the agency's SQLite files")
    parser.add_argument("--port", type=int, required=True, help="HTTP port of the health endpoint (and web page)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    for option in declared.options:
        parser.add_argument(option.flag, dest=option.dest, help=option.help)
    return parser.parse_args(argv)


def run_agency(spec: AgencySpec, argv: list[str] | None = None) -> None:
    """Run one agency process until SIGTERM or Ctrl-C (``python -m adapters.<name>``).

    Settings come from ``ENLACE_*`` (Kafka, registry) and ``OTEL_*`` (tracing exporters).
    """
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {spec.name} %(levelname)s %(message)s")
    args = _arguments(spec, argv)
    _Agency(spec, args).run(host=args.host, port=args.port)


main = run_agency
