"""Credentials come first: a write without them is refused before its body is read or parsed, before
any lock is taken and before the log is caught up.

The order is pure logic of the service, so these tests run the real ``SchemaRegistry`` and
``create_app`` in-process on a log kept in memory that records what the registry asks of it (the
same answers against the real service on Kafka are in ``tests/corpus``).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from bus.policy import load_policy
from bus.registry.server import AgencyCredentials, SchemaRegistry, create_app, hash_token
from tests.bus.registry.conftest import TEST_POLICY

CT = "application/vnd.schemaregistry.v1+json"
OWNER, OTHER, ADMIN = "urn:mx:gob:pruebas", "urn:mx:gob:otra", "urn:mx:gob:interop"
DEEP_SCHEMA = '{"type":"array","items":' * 10_000 + '"int"' + "}" * 10_000


class RecordingLog:
    """A ``SchemaLog`` in memory that records every catch-up and write the registry asks for."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.writer = threading.Lock()
        self._apply: Callable[[bytes, bytes | None], None] | None = None

    def start(self, apply: Callable[[bytes, bytes | None], None]) -> None:
        self._apply = apply

    def sync(self, target: int | None = None) -> None:
        self.calls.append("sync")

    def write(self, decide: Callable[[], Sequence[tuple[bytes, bytes | None]]]) -> None:
        assert self._apply is not None
        with self.writer:
            self.calls.append("write")
            for key, value in decide():
                self._apply(key, value)

    def close(self) -> None:
        pass


@dataclass
class Service:
    http: TestClient
    log: RecordingLog
    registry: SchemaRegistry
    tokens: dict[str, str]

    def bearer(self, agency: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[agency]}"}


@pytest.fixture
def service() -> Iterator[Service]:
    tokens = {agency: secrets.token_urlsafe(32) for agency in (OWNER, OTHER, ADMIN)}
    credentials = AgencyCredentials({agency: [hash_token(token)] for agency, token in tokens.items()})
    log = RecordingLog()
    registry = SchemaRegistry(log, policy=load_policy(TEST_POLICY), credentials=credentials)
    registry.start()
    with TestClient(create_app(registry), headers={"Content-Type": CT}) as http:
        yield Service(http, log, registry, tokens)


HOSTILE_BODIES = {
    "schema 10,000 arrays deep": json.dumps({"schema": DEEP_SCHEMA}).encode(),
    "malformed JSON": b'{"schema": "{\\"type\\"',
    "body 10,000 arrays deep": b"[" * 10_000 + b"]" * 10_000,
    "not UTF-8": b'{"schema": "\xff\xfe"}',
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic !!!", "Token x"])
def test_an_unauthenticated_register_is_a_401_before_its_body_is_parsed_or_the_log_read(
    service, body, authorization
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = service.http.post("/subjects/mx.gob.pruebas.Case/versions", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error_code"] == 40101
    assert "urn:mx:gob:pruebas" in response.json()["message"]  # whose credential it needs
    assert service.log.calls == []


def test_a_wrong_content_type_without_credentials_is_still_a_401(service) -> None:
    response = service.http.post(
        "/subjects/mx.gob.pruebas.Case/versions", content=b"schema=x", headers={"Content-Type": "text/plain"}
    )
    assert (response.status_code, response.json()["error_code"]) == (401, 40101)


def test_another_agencys_write_is_a_403_before_its_body_is_parsed(service) -> None:
    response = service.http.post(
        "/subjects/mx.gob.pruebas.Case/versions",
        content=HOSTILE_BODIES["body 10,000 arrays deep"],
        headers=service.bearer(OTHER),
    )
    assert (response.status_code, response.json()["error_code"]) == (403, 40301)
    assert "urn:mx:gob:otra" in response.json()["message"] and OWNER in response.json()["message"]
    assert service.log.calls == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/subjects/mx.gob.pruebas.Case", None),
        ("DELETE", "/subjects/mx.gob.pruebas.Case/versions/1", None),
        ("PUT", "/config/mx.gob.pruebas.Case", b"{oops"),
        ("DELETE", "/config/mx.gob.pruebas.Case", None),
        ("PUT", "/mode/mx.gob.pruebas.Case", b"[" * 10_000),
        ("PUT", "/config", b"{oops"),
        ("PUT", "/mode", b"{oops"),
    ],
)
def test_every_write_route_asks_for_credentials_first(service, method, path, body) -> None:
    response = service.http.request(method, path, content=body)
    assert (response.status_code, response.json()["error_code"]) == (401, 40101), response.text
    assert service.log.calls == []


def test_an_unauthenticated_write_is_answered_while_a_write_holds_every_lock(service) -> None:
    # The test holds the writer's lock and the state's lock: a refusal that needed either would hang.
    service.log.writer.acquire()
    service.registry._lock.acquire()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(
                service.http.post, "/subjects/mx.gob.pruebas.Case/versions", content=HOSTILE_BODIES["malformed JSON"]
            )
            assert pending.result(timeout=30).status_code == 401
    finally:
        service.registry._lock.release()
        service.log.writer.release()


def test_the_owner_with_a_deep_schema_gets_the_limit_before_the_writers_turn(service) -> None:
    response = service.http.post(
        "/subjects/mx.gob.pruebas.Case/versions", json={"schema": DEEP_SCHEMA}, headers=service.bearer(OWNER)
    )
    assert (response.status_code, response.json()["error_code"]) == (422, 42209)
    assert response.json()["details"][0]["limit"] == "max_depth"
    assert service.log.calls == []


def test_anyone_learns_that_a_deep_schema_is_too_deep_without_credentials(service) -> None:
    for path in ("/compatibility/subjects/mx.gob.pruebas.Case/versions", "/subjects/mx.gob.pruebas.Case"):
        response = service.http.post(path, json={"schema": DEEP_SCHEMA})
        assert (response.status_code, response.json()["error_code"]) == (422, 42209), path


def test_an_owner_setting_import_mode_is_refused_before_the_writers_turn(service) -> None:
    for mode in ("IMPORT", "READONLY", "import"):
        response = service.http.put("/mode/mx.gob.pruebas.Case", json={"mode": mode}, headers=service.bearer(OWNER))
        assert (response.status_code, response.json()["error_code"]) == (403, 40301), mode
        assert "reserved to the policy's admins (urn:mx:gob:interop)" in response.json()["message"]
    assert service.log.calls == []
    admin = service.http.put("/mode/mx.gob.pruebas.Case", json={"mode": "IMPORT"}, headers=service.bearer(ADMIN))
    assert admin.json() == {"mode": "IMPORT"}


def test_an_owner_cannot_lift_a_global_freeze_with_its_subjects_own_mode(service) -> None:
    frozen = service.http.put("/mode", json={"mode": "READONLY"}, headers=service.bearer(ADMIN))
    assert frozen.json() == {"mode": "READONLY"}
    lifted = service.http.put("/mode/mx.gob.pruebas.Case", json={"mode": "READWRITE"}, headers=service.bearer(OWNER))
    assert (lifted.status_code, lifted.json()["error_code"]) == (403, 40301)
    assert "from READONLY to READWRITE" in lifted.json()["message"]
    assert service.http.get("/mode/mx.gob.pruebas.Case?defaultToGlobal=true").json() == {"mode": "READONLY"}
