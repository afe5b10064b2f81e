"""One agency as a process: its desk's handlers on the agency connector, a health endpoint, a clean shutdown.

The connector does the rest: each handler's writes, the records it emits and the handled record's
id commit together in the agency store, and the connector publishes the outbox after the commit,
off the consumer thread.

Shutdown (SIGTERM or Ctrl-C): the connector finishes the record in hand and commits, then the web
server stops, the outbox is flushed (bounded) and the store closes. Several processes of one agency
share its store file and its consumer group, so the agency scales by starting more of them.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bus.transport import agency_group
from connectors import AgencyConnector, AgencyStore, Handler, Received, RecordRefused

__all__ = ["AgencySpec", "Desk", "run_agency"]

_log = logging.getLogger("enlace.adapters")


class Desk(Protocol):
    """What every agency's desk offers the runtime."""

    def handlers(self) -> dict[type, Handler]: ...


@dataclass(frozen=True)
class AgencySpec:
    """How to build one agency.

    Attributes:
        urn: the agency's URN.
        name: a short name (files, the consumer group, logs).
        schema: the agency's own tables (SQL), created in its agency store.
        make_desk: builds the desk from the agency store and the parsed command line.
        make_app: builds the agency's web application (the portal) from the desk and the health
            body; None for a health endpoint only.
        describe: extra fields for ``GET /health`` (counts an operator wants to see).
    """

    urn: str
    name: str
    schema: str
    make_desk: Callable[[AgencyStore, argparse.Namespace], Desk]
    make_app: Callable[[Desk, Callable[[], dict[str, Any]]], FastAPI] | None = None
    describe: Callable[[Desk], dict[str, Any]] = lambda desk: {}


class _Agency:
    """The running parts of one agency process."""

    def __init__(self, spec: AgencySpec, args: argparse.Namespace) -> None:
        self.spec = spec
        data = Path(args.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        self.connector = AgencyConnector(
            spec.urn, key=args.key_file, store_path=data / f"{spec.name}.sqlite3", store_schema=spec.schema
        )
        self.desk = spec.make_desk(self.connector.store, args)
        self.handlers = self.desk.handlers()
        self.started = time.time()
        self._stopping = threading.Event()

    def handle(self, record: Any, received: Received) -> None:
        """The connector's handler: the desk's handler of the record's type.

        Raises:
            RecordRefused: no handler reads this record's type (``unhandled-type``): it becomes a dead
                letter, never a silent drop.
        """
        handler = self.handlers.get(type(record))
        if handler is None:
            raise RecordRefused(
                "unhandled-type",
                f"{self.spec.urn} has no handler for {received.ce_type} read from {received.topic}: "
                f"it reads {', '.join(sorted(model.__name__ for model in self.handlers))}",
            )
        handler(record, received)

    def health(self) -> dict[str, Any]:
        stopping = self._stopping.is_set()
        return {
            "status": "DOWN" if stopping else "UP",
            "agency": self.spec.urn,
            "uptime_s": round(time.time() - self.started, 1),
            "records_read": sorted(model.avro_name for model in self.handlers),  # type: ignore[attr-defined]
            "outbox": self.connector.outbox_counts(),
            **self.spec.describe(self.desk),
        }

    def app(self) -> FastAPI:
        if self.spec.make_app is not None:
            return self.spec.make_app(self.desk, self.health)
        app = FastAPI(title=f"{self.spec.urn} health", docs_url=None, redoc_url=None)

        @app.get("/health")
        def health() -> JSONResponse:
            body = self.health()
            return JSONResponse(body, status_code=200 if body["status"] == "UP" else 503)

        return app

    def run(self, *, host: str, port: int) -> None:
        import uvicorn

        # proxy_headers off: no proxy stands in front, so a client's X-Forwarded-For is not believed
        # (the portal limits submissions per client address).
        config = uvicorn.Config(
            self.app(), host=host, port=port, log_level="warning", access_log=False, proxy_headers=False
        )
        server = uvicorn.Server(config)
        web = threading.Thread(target=server.run, name=f"{self.spec.name}-http", daemon=True)
        self.connector.subscribe(
            list(self.handlers), group=agency_group(self.spec.urn, self.spec.name), handler=self.handle
        )
        web.start()
        _log.info("%s on http://%s:%d", self.spec.urn, host, port)
        try:
            self.connector.run()  # until SIGTERM / Ctrl-C: finishes the record in hand, commits
        finally:
            self._stopping.set()
            server.should_exit = True
            web.join(timeout=10)
            self.connector.close()  # sends what the outbox holds (bounded), closes the store
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
