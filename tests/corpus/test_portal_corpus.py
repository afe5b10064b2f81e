"""The portal's bad-input corpus (``portal_api.yaml``) against the real portal app, in one test.

Each row is sent as raw ASGI (so headers may be missing, doubled or not text, which an HTTP client
would not send) to the portal's application, signed in through the real development provider where
the row says ``as: citizen``. For every row: the expected status and rule, never a server error, an
error body in the portal's shape that does not repeat what was sent, and the security headers.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from adapters.portal import SESSION_COOKIE, Rate

CORPUS = Path(__file__).with_name("portal_api.yaml")
MIN_CASES = 60


def _templates(dev_sign_in, portal) -> dict[str, str]:
    curps = [a.curp for a in dev_sign_in.accounts]
    body = {"curp": curps[4], "agency": "urn:mx:gob:sat", "question": "tracked?", "consent": True}
    tracked = portal.new_client().post("/api/information-requests", json=body).json()
    values = {f"curp{i}": curp for i, curp in enumerate(curps)}
    values |= {f"curp{i}_lower": curp.lower() for i, curp in enumerate(curps)}
    return values | {
        "origin": portal.base_url.rstrip("/"),
        "tracked_id": tracked["request"]["request_id"],
        "tracked_code": tracked["tracking_code"],
        "long_101": "q" * 101,
        "long_4001": "q" * 4001,
        "dots_email": "a@" + "." * 150 + "@",
    }


def _fill(value: Any, templates: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, text in templates.items():
            value = value.replace("{" + name + "}", text)
        return value
    if isinstance(value, list):
        return [_fill(v, templates) for v in value]
    if isinstance(value, dict):
        return {_fill(k, templates): _fill(v, templates) for k, v in value.items()}
    return value


def _raw(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("latin-1")


def _request(case: dict[str, Any], host: str, cookie: str | None) -> tuple[dict[str, Any], bytes]:
    """The ASGI scope and body of one row."""
    method, target = case["request"].split(" ", 1)
    parts = urlsplit(target)
    headers: dict[str, Any] = {"host": host}
    body = b""
    if "json" in case:
        body = json.dumps(case["json"]).encode()
        headers["content-type"] = "application/json"
    elif "body" in case:
        body = case["body"].encode()
    elif "body_hex" in case:
        body = bytes.fromhex(case["body_hex"])
    elif "nested" in case:
        body = b"[" * case["nested"] + b"]" * case["nested"]
    elif "big_body" in case:
        body = b'{"question": "' + b"x" * case["big_body"] + b'"}'
        headers["content-type"] = "application/json"
    if cookie and case.get("as") == "citizen":
        headers["cookie"] = cookie
    headers.update(case.get("headers") or {})
    listed = [(_raw(k), _raw(v)) for k, v in headers.items() if v is not None]
    listed += [(_raw(k), _raw(v)) for k, v in case.get("header_list") or []]
    if body and not any(name.lower() == b"content-length" for name, _ in listed):
        listed.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(parts.path),
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": listed,
        "client": ("127.0.0.1", 50123),
        "server": ("127.0.0.1", int(host.rsplit(":", 1)[1])),
    }
    return scope, body


async def _call(app, scope: dict[str, Any], body: bytes) -> tuple[int, dict[str, str], bytes]:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # the client stays connected until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, content


def _problems_of(case: dict[str, Any], status: int, headers: dict[str, str], content: bytes) -> list[str]:
    """What is wrong with one answer (empty when the row passes)."""
    problems = []
    if status >= 500:
        problems.append(f"server error {status}")
    if status != case["expect"]:
        problems.append(f"status {status}, expected {case['expect']}: {content[:200]!r}")
    if "frame-ancestors 'none'" not in headers.get("content-security-policy", ""):
        problems.append("no CSP with frame-ancestors 'none'")
    if headers.get("x-content-type-options") != "nosniff" or headers.get("x-frame-options") != "DENY":
        problems.append("no nosniff / X-Frame-Options")
    if "referrer-policy" not in headers:
        problems.append("no Referrer-Policy")
    if status >= 400:
        try:
            errors = json.loads(content)["errors"]
            assert all({"field", "message", "rule"} <= set(e) for e in errors) and errors
        except (ValueError, KeyError, TypeError, AssertionError):
            return [*problems, f"the refusal is not the portal's error shape: {content[:200]!r}"]
        if case.get("rule") and errors[0]["rule"] != case["rule"]:
            problems.append(f"rule {errors[0]['rule']!r}, expected {case['rule']!r}")
        if len(content) > 4096:
            problems.append(f"a {len(content)}-byte refusal")
    if case.get("echo") and case["echo"].encode() in content:
        problems.append(f"the answer repeats {case['echo']!r}")
    return problems


def test_every_portal_corpus_row_gets_its_expected_answer(make_portal, sign_in_as, dev_sign_in):
    cases = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    assert len(cases) >= MIN_CASES
    assert len({c["name"] for c in cases}) == len(cases), "two rows share a name"
    # Per-client limiting is its own test: here one client sends every row.
    portal = make_portal(per_client=Rate(10_000, 60.0))
    sign_in_as(portal.client, 0)
    cookie = f"{SESSION_COOKIE}={portal.client.cookies[SESSION_COOKIE]}"
    templates = _templates(dev_sign_in, portal)
    host = urlsplit(portal.base_url).netloc
    failures: dict[str, list[str]] = {}
    statuses: list[int] = []
    for case in cases:
        case = _fill(case, templates)
        for _ in range(case.get("repeat", 1)):
            scope, body = _request(case, host, cookie)
            status, headers, content = asyncio.run(_call(portal.app, scope, body))
        statuses.append(status)
        problems = _problems_of(case, status, headers, content)
        if problems:
            failures[case["name"]] = problems
    assert failures == {}
    assert {200, 202, 400, 401, 403, 404, 405, 413, 415, 421, 422, 429} <= set(statuses)
