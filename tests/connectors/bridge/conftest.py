"""A served bridge for tests: real uvicorn over mutual TLS, on the session's broker and registry, acting
for agencies of the test's bus; httpx clients holding each agency's client certificate."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from bus.records import catalog
from connectors.bridge import AgencySetup, Bridge, BridgeCertificates, ClientCertificateH11, create_app, server_ssl
from ops.process import free_port
from tests.connectors.conftest import make_bus

CRM, PORTAL, SAT, TRANSPARENCIA = "urn:mx:gob:crm", "urn:mx:gob:portal", "urn:mx:gob:sat", "urn:mx:gob:transparencia"
CASES = catalog().get("CaseOpened")


def case_json(i: int) -> dict:
    """A valid CaseOpened, as JSON (the form ``enlace publish`` reads)."""
    return CASES.example() | {
        "caseId": f"CRM-2025-{i:06d}",
        "openedAt": "2025-06-02T15:10:00Z",
        "slaDueDate": "2025-06-06",
    }


@dataclass
class ServedBridge:
    url: str
    bridge: Bridge
    certificates: BridgeCertificates
    directory: Path
    bus: object

    def client(self, agency: str, **kwargs) -> httpx.Client:
        """An httpx client presenting ``agency``'s bridge certificate (issued on first use)."""
        cert, key = self.certificates.issue(agency, self.directory / "clients")
        return httpx.Client(base_url=self.url, verify=self.certificates.client_context(cert, key), timeout=40, **kwargs)

    @property
    def records_url(self) -> str:
        return f"/v3/clusters/enlace/catalog/{CASES.full_name}/records"


@pytest.fixture
def served_bridge(kafka, registered, unique_name, tmp_path, authority) -> Iterator[Callable[..., ServedBridge]]:
    """Start a bridge for the given agencies ({urn: webhook URL or None}); stopped at the end."""
    started: list[tuple[uvicorn.Server, threading.Thread, Bridge]] = []
    bus = make_bus(kafka, registered, unique_name, tmp_path, authority, prefix="bridge")

    def start(agencies: dict[str, str | None], **options) -> ServedBridge:
        certificates = BridgeCertificates.create(tmp_path / f"tls-{len(started)}")
        setups = {
            urn: AgencySetup(key=bus.key(urn), settings=bus.settings(), webhook_url=hook)
            for urn, hook in agencies.items()
        }
        bridge = Bridge(setups, store_path=tmp_path / f"bridge-{len(started)}" / "bridge.sqlite3", **options)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(bridge),
                host="127.0.0.1",
                port=port,
                http=ClientCertificateH11,
                log_level="warning",
                **server_ssl(certificates),
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started.append((server, thread, bridge))
        ready = threading.Event()
        for _ in range(200):
            if server.started:
                ready.set()
                break
            ready.wait(0.05)
        assert server.started, "the bridge did not start"
        return ServedBridge(f"https://127.0.0.1:{port}", bridge, certificates, tmp_path, bus)

    yield start
    for server, thread, bridge in started:
        server.should_exit = True
        bridge.close()
        thread.join(timeout=30)
