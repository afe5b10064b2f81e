"""The registry's bad-input corpus against the real service on a real broker, in one run: every row
gets its status and Confluent error body, nothing gets a 5xx, and the registry serves a good write
after all of them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from bus.registry import RegistryClient
from tests.corpus.registry_cases import CASE_ID, CASES, CT, Case, probe_schema

pytestmark = pytest.mark.integration

AGENCIES = {
    "crm": "urn:mx:gob:crm",
    "sat": "urn:mx:gob:sat",
    "portal": "urn:mx:gob:portal",
    "transparencia": "urn:mx:gob:transparencia",
    "interop": "urn:mx:gob:interop",
}
MAX_MESSAGE_CHARS = 10_001  # the registry's cap, plus its ellipsis


def test_the_corpus_has_at_least_ninety_distinct_cases() -> None:
    assert len(CASES) >= 90
    assert len({case.name for case in CASES}) == len(CASES)


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), 64 * 1024):
        yield data[start : start + 64 * 1024]


def _send(http: httpx.Client, case: Case, names: dict[str, str], tokens: dict[str, str]) -> httpx.Response:
    def fill(text: str) -> str:
        for placeholder, value in names.items():
            text = text.replace(placeholder, value)
        return text

    headers = {}
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    if case.agency is not None:
        headers["Authorization"] = f"Bearer {tokens[case.agency]}"
    if case.authorization is not None:
        headers["Authorization"] = case.authorization
    content: bytes | Iterator[bytes] | None = None
    if case.raw is not None:
        content = _chunks(case.raw) if case.chunked else case.raw
    elif case.json is not None:
        content = fill(json.dumps(case.json)).encode("utf-8")
    # The path goes as written (percent escapes included), not re-encoded by httpx.
    url = httpx.URL(http.base_url, raw_path=fill(case.path).encode("ascii"))
    return http.request(case.method, url, content=content, headers=headers)


def _mismatch(case: Case, response: httpx.Response) -> str | None:
    where = f"{case.name}: {case.method} {case.path[:80]}"
    got = f"{response.status_code} {response.text[:300]}"
    if response.status_code != case.status:
        return f"{where}: expected {case.status}/{case.error_code}, got {got}"
    if not response.headers.get("content-type", "").startswith(CT):
        return f"{where}: answered {response.headers.get('content-type')}, not {CT}"
    try:
        body = response.json()
    except ValueError:
        return f"{where}: the answer is not JSON: {got}"
    if case.error_code is None:
        if case.answer is not None and body != case.answer:
            return f"{where}: expected {case.answer}, got {body}"
        return None
    if not isinstance(body, dict) or body.get("error_code") != case.error_code:
        return f"{where}: expected error_code {case.error_code}, got {got}"
    message = body.get("message")
    if not isinstance(message, str) or not message.strip() or len(message) > MAX_MESSAGE_CHARS:
        return f"{where}: the message is missing, empty or unbounded ({len(str(message))} characters)"
    if case.says is not None and case.says not in message:
        return f"{where}: the message does not say {case.says!r}: {message[:300]}"
    return None


def test_every_bad_request_gets_its_confluent_error_and_the_registry_keeps_serving(registry) -> None:
    tokens = {short: registry.token(urn) for short, urn in AGENCIES.items()}
    tag = uuid.uuid4().hex[:8].upper()
    names = {
        "@probe@": f"mx.gob.crm.CorpusProbe{tag}",
        "@frozen@": f"mx.gob.crm.CorpusFrozen{tag}",
        "@fresh@": f"mx.gob.crm.CorpusFresh{tag}",
    }
    with RegistryClient(registry.url, credential=tokens["crm"]) as owner:
        for placeholder in ("@probe@", "@frozen@"):
            owner.register(names[placeholder], probe_schema(names[placeholder].rpartition(".")[2]))

    mismatches: list[str] = []
    server_errors: list[str] = []
    with httpx.Client(base_url=registry.url, timeout=60) as http:
        for case in CASES:
            response = _send(http, case, names, tokens)
            if response.status_code >= 500:
                server_errors.append(f"{case.name}: {response.status_code} {response.text[:300]}")
            problem = _mismatch(case, response)
            if problem:
                mismatches.append(problem)

        # Still serving, and a good write after all of them is taken.
        assert http.get("/").status_code == 200
        evolved = json.loads(probe_schema(names["@probe@"].rpartition(".")[2]))
        evolved["fields"].append({**CASE_ID, "name": "note", "type": ["null", "string"], "default": None})
        good = http.post(
            f"/subjects/{names['@probe@']}/versions",
            json={"schema": json.dumps(evolved)},
            headers={"Content-Type": CT, "Authorization": f"Bearer {tokens['crm']}"},
        )
        assert good.status_code == 200, good.text
        assert http.get(f"/subjects/{names['@probe@']}/versions").json() == [1, 2]
    assert server_errors == []
    assert mismatches == [], "\n".join(mismatches)
