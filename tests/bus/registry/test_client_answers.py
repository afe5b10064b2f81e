"""The client against a registry that answers garbage: every bad answer is a ``RegistryError``.

The peer here is a hostile HTTP server on loopback sending exactly the bytes each test sets, since
what is under test is the client's reading of answers no real registry should send.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bus.registry import ErrorCode, RegistryClient, RegistryError

DEEP = 10_000


class HostileRegistry:
    """Answers each path with the status and body set in ``answers``; 404 otherwise."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, bytes]] = {}
        answers = self.answers

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                status, body = answers.get(self.path.split("?")[0], (404, b'{"error_code":40401,"message":"no"}'))
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str, body: object, status: int = 200) -> None:
        self.answers[path] = (status, body if isinstance(body, bytes) else json.dumps(body).encode())


@pytest.fixture
def hostile() -> Iterator[HostileRegistry]:
    registry = HostileRegistry()
    registry.thread.start()
    try:
        yield registry
    finally:
        registry.server.shutdown()
        registry.server.server_close()


def refused(call) -> RegistryError:
    with pytest.raises(RegistryError) as caught:
        call()
    return caught.value


def test_a_good_answer_is_read(hostile) -> None:
    hostile.answer("/schemas/ids/1", {"schema": '"int"'})
    with RegistryClient(hostile.url) as client:
        assert client.schema_by_id(1) == "int"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * DEEP + b"]" * DEEP,
        b"not json",
        b'{"schema": 5}',
        b'["schema"]',
        json.dumps({"schema": '{"type":"array","items":' * DEEP + '"int"' + "}" * DEEP}).encode(),
        json.dumps({"schema": "{not json"}).encode(),
        json.dumps({"schema": '"int"', "references": "x"}).encode(),
        json.dumps({"schema": '"int"', "references": [{"name": "a.B", "subject": "s", "version": "1"}]}).encode(),
    ],
    ids=[
        "answer too deep",
        "not JSON",
        "schema a number",
        "a list",
        "schema too deep",
        "schema not JSON",
        "references a string",
        "reference version a string",
    ],
)
def test_a_schema_answer_that_is_not_the_registrys_is_a_registry_error(hostile, body) -> None:
    hostile.answer("/schemas/ids/1", body)
    with RegistryClient(hostile.url) as client:
        error = refused(lambda: client.schema_by_id(1))
    assert error.error_code == ErrorCode.UNKNOWN and hostile.url in error.message


def test_references_that_loop_are_a_registry_error(hostile) -> None:
    looping = {"name": "a.B", "subject": "a.B", "version": 1}
    hostile.answer(
        "/schemas/ids/1",
        {"schema": '{"type":"record","name":"R","fields":[{"name":"b","type":"a.B"}]}', "references": [looping]},
    )
    hostile.answer(
        "/subjects/a.B/versions/1", {"schema": '{"type":"record","name":"a.B","fields":[]}', "references": [looping]}
    )
    with RegistryClient(hostile.url) as client:
        error = refused(lambda: client.schema_by_id(1))
    assert error.error_code == ErrorCode.UNKNOWN and "loop" in error.message


def test_an_error_answer_without_a_numeric_code_keeps_the_http_status(hostile) -> None:
    hostile.answer("/schemas/ids/1", {"error_code": "bad", "message": "x"}, status=503)
    hostile.answer("/schemas/ids/2", b"[" * DEEP, status=500)
    with RegistryClient(hostile.url) as client:
        assert (
            refused(lambda: client.schema_by_id(1)).error_code,
            refused(lambda: client.schema_by_id(2)).http_status,
        ) == (503, 500)


def test_a_registration_answer_without_an_id_is_a_registry_error(hostile) -> None:
    hostile.answer("/subjects/s/versions", {"id": "seven"})
    with RegistryClient(hostile.url, credential="t") as client:
        assert refused(lambda: client.register("s", '"int"')).error_code == ErrorCode.UNKNOWN
