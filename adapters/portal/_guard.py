"""What every request to the portal passes before the application sees it (an ASGI middleware).

In order: the ``Host`` header must name this portal (a page on another name cannot reach a loopback
portal through DNS rebinding); a state-changing request must come from the portal's own pages
(``Sec-Fetch-Site``, ``Origin``: no cross-site request forgery); the body is read up to a limit and
never echoed. Every response, refusals included, carries the security headers.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from adapters.portal._config import LOOPBACK_HOSTS

__all__ = ["SECURITY_HEADERS", "RequestGuard", "refusal"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The page loads its script and style from the portal itself; nothing may frame it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_NO_STORE = (b"cache-control", b"no-store")
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,252})$")
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SAME_SITE_FETCHES = frozenset({b"same-origin", b"none"})


def refusal(status: int, rule: str, message: str) -> tuple[int, bytes]:
    """A refusal's status and JSON body, in the portal's error shape (never the request's content)."""
    body = {"errors": [{"field": "request", "message": message, "rule": rule}]}
    return status, json.dumps(body).encode()


def _host_name(host: str) -> str | None:
    """The name part of a ``Host`` header (``[::1]:80`` -> ``::1``), or None when it is not one."""
    try:
        parts = urlsplit(f"//{host}")
        name, _ = parts.hostname, parts.port  # .port raises on a bad port
    except ValueError:
        return None
    if not name or parts.username is not None or parts.password is not None or parts.path or parts.query:
        return None
    if _NAME.match(name):
        return name
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return None


class RequestGuard:
    """The portal's outermost middleware.

    Args:
        app: the application.
        allowed_hosts: host names answered besides loopback names and the bound address.
        allowed_origins: origins (``https://portal.example``) whose pages may POST besides the
            request's own ``Host``.
        max_body_bytes: the largest body read; larger is 413 before reading (or as soon as the
            reading passes it, for a body without ``Content-Length``).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: frozenset[str] = frozenset(),
        allowed_origins: frozenset[str] = frozenset(),
        max_body_bytes: int = 1024 * 1024,
    ) -> None:
        self.app = app
        self.allowed_hosts = LOOPBACK_HOSTS | {h.lower() for h in allowed_hosts}
        self.allowed_origins = {o.lower() for o in allowed_origins}
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(scope, send)
        headers = _headers(scope)
        refused = self._check_host(scope, headers) or self._check_origin(scope, headers)
        if refused is None:
            body, refused = await self._read_body(headers, receive)
        if refused is not None:
            await _answer(send, *refused)
            return
        await self.app(scope, _replay(body, receive), send)

    def _check_host(self, scope: Scope, headers: dict[bytes, list[bytes]]) -> tuple[int, bytes] | None:
        values = headers.get(b"host", [])
        if len(values) != 1:
            return refusal(400, "host.missing", "a request needs exactly one Host header")
        name = _host_name(values[0].decode("latin-1"))
        if name is None:
            return refusal(400, "host.malformed", "the Host header is not a host name with an optional port")
        server = scope.get("server") or ("", 0)
        if name.lower() in self.allowed_hosts or name == str(server[0]):
            return None
        return refusal(
            421, "host.not-allowed", "this portal does not answer to that host name (see ENLACE_PORTAL_ALLOWED_HOSTS)"
        )

    def _check_origin(self, scope: Scope, headers: dict[bytes, list[bytes]]) -> tuple[int, bytes] | None:
        if scope["method"] not in _UNSAFE_METHODS:
            return None
        fetch_site = headers.get(b"sec-fetch-site", [])
        if any(value.lower() not in _SAME_SITE_FETCHES for value in fetch_site):
            return refusal(
                403, "origin.cross-site", "the portal takes requests from its own pages only (Sec-Fetch-Site)"
            )
        origins = headers.get(b"origin", [])
        if not origins:
            return None  # not a browser's cross-origin request (browsers send Origin on every POST)
        origin = origins[0].decode("latin-1").lower()
        own = headers[b"host"][0].decode("latin-1").lower()
        if (
            len(origins) == 1
            and origin != "null"
            and (urlsplit(origin).netloc == own or origin in self.allowed_origins)
        ):
            return None
        return refusal(403, "origin.cross-site", "the portal takes requests from its own pages only (Origin)")

    async def _read_body(
        self, headers: dict[bytes, list[bytes]], receive: Receive
    ) -> tuple[bytes, tuple[int, bytes] | None]:
        too_large = refusal(413, "body.too-large", f"the body is larger than {self.max_body_bytes} bytes")
        lengths = headers.get(b"content-length", [])
        if lengths:
            if len(lengths) != 1 or not lengths[0].isdigit():
                return b"", refusal(400, "body.length", "Content-Length is not one whole number")
            if int(lengths[0]) > self.max_body_bytes:
                return b"", too_large
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return b"", refusal(400, "body.incomplete", "the body ended before it was complete")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None

    @staticmethod
    def _with_headers(scope: Scope, send: Send) -> Send:
        static = scope.get("path", "").startswith("/static/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in SECURITY_HEADERS if h[0] not in given]
                if not static and _NO_STORE[0] not in given:
                    extra.append(_NO_STORE)  # answers hold personal data: no cache keeps them
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        return sending


def _headers(scope: Scope) -> dict[bytes, list[bytes]]:
    found: dict[bytes, list[bytes]] = {}
    for name, value in scope.get("headers", []):
        found.setdefault(name.lower(), []).append(value)
    return found


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then waits on the real one (for a disconnect)."""
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replaying


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))  # the rest of the body is not read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
