"""The portal's web page and JSON API (FastAPI), bound to 127.0.0.1 by the runtime.

Nothing about a citizen is served without proof: one request's status needs its id and the tracking
code given once when it was submitted; a citizen's requests and access log need them signed in
(OpenID Connect), and are always the signed-in citizen's own (no URL names another CURP). Service
requests act on the citizen's own records, so they need a signed-in citizen too; information requests
(public information) may be made without signing in. ``RequestGuard`` checks host, origin and body
size before any of this, and adds the security headers to every answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from opentelemetry import trace
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from adapters.portal._config import PortalConfig
from adapters.portal._desk import PortalDesk, Submission
from adapters.portal._forms import SERVICES, addressable_agencies, check_curp
from adapters.portal._guard import RequestGuard
from adapters.portal._limits import RateLimiter
from adapters.portal._signin import SESSION_COOKIE, SESSION_LIFETIME_S, CitizenSignIn
from adapters.portal._store import Citizen

__all__ = ["create_app", "current_trace_id"]

_tracer = trace.get_tracer("enlace.adapters.portal")
_log = logging.getLogger("enlace.adapters.portal")
_MAX_ID_LENGTH = 100


def current_trace_id() -> str | None:
    """The trace id of the span in progress, as 32 hex digits, or None when not traced."""
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


def _static(name: str) -> str:
    return resources.files("adapters.portal").joinpath(f"static/{name}").read_text(encoding="utf-8")


def _errors(status: int, field: str, rule: str, message: str, **headers: str) -> JSONResponse:
    body = {"errors": [{"field": field, "message": message, "rule": rule}]}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


async def _payload(request: Request) -> dict[str, Any] | JSONResponse:
    """The request's JSON object, or the refusal: 415 for another media type, 400 for bad JSON."""
    if not _is_json(request):
        return _errors(415, "request", "content-type.json", "send the body as application/json")
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser's stack
        return _errors(400, "form", "json", "the body is not JSON")
    if not isinstance(body, dict):
        return _errors(400, "form", "json", "send a JSON object")
    return body


def _text_schema(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, **extra}


_SERVICE_REQUEST_BODY = {
    "type": "object",
    "required": ["given_names", "first_surname", "service", "consent"],
    "properties": {
        "curp": _text_schema(18, description="the signed-in citizen's CURP (may be left out)"),
        "given_names": _text_schema(100),
        "first_surname": _text_schema(100),
        "second_surname": _text_schema(100),
        "email": _text_schema(200),
        "phone": _text_schema(20),
        "service": {"type": "string", "enum": sorted(SERVICES)},
        "details": _text_schema(2000),
        "consent": {"type": "boolean"},
    },
}
_INFORMATION_REQUEST_BODY = {
    "type": "object",
    "required": ["curp", "agency", "question", "consent"],
    "properties": {
        "curp": _text_schema(18),
        "agency": _text_schema(200),
        "question": _text_schema(4000),
        "email": _text_schema(200),
        "consent": {"type": "boolean"},
    },
}
_STATUS_BODY = {
    "type": "object",
    "required": ["request_id", "tracking_code"],
    "properties": {"request_id": _text_schema(_MAX_ID_LENGTH), "tracking_code": _text_schema(_MAX_ID_LENGTH)},
}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def create_app(
    desk: PortalDesk,
    *,
    health: Callable[[], dict[str, Any]] = lambda: {"status": "UP"},
    config: PortalConfig | None = None,
) -> FastAPI:
    """The portal's HTTP application.

    A request is stored with its record in the outbox in one transaction; the connector's outbox
    publisher sends the record once that commits, so answering never waits for Kafka.

    Args:
        desk: the portal's business logic.
        health: the body of ``GET /health``; a ``status`` other than ``UP`` answers 503.
        config: limits and sign-in (``PortalConfig.from_settings``); the defaults, without sign-in,
            when omitted.
    """
    config = config or PortalConfig()
    app = FastAPI(
        title="Citizen's portal (urn:mx:gob:portal)",
        docs_url=None,  # the interactive page loads scripts from elsewhere, which the CSP forbids
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    sign_in = CitizenSignIn(config.oidc, desk.store) if config.oidc else None
    per_client, per_curp = RateLimiter(config.per_client), RateLimiter(config.per_curp)

    def signed_in(request: Request) -> Citizen | None:
        return sign_in.citizen(request) if sign_in else None

    def sign_in_first() -> JSONResponse:
        how = "sign in first (/auth/login)" if sign_in else "sign-in is not configured on this portal"
        return _errors(401, "sign-in", "signin.required", how)

    def limited(limiter: RateLimiter, key: str, what: str) -> JSONResponse | None:
        wait_s = limiter.take(key)
        if not wait_s:
            return None
        return _errors(
            429,
            "request",
            "rate-limit",
            f"too many submissions {what}; try again later",
            **{"Retry-After": str(wait_s)},
        )

    async def submission(request: Request, *, needs_citizen: bool) -> tuple[dict[str, Any], str] | JSONResponse:
        """The checks every submission passes, in order: the per-client limit, the body, the sign-in,
        the per-CURP limit. Returns the payload with its CURP settled (and the CURP counted, or ""), or
        the refusal."""
        refused = limited(per_client, request.client.host if request.client else "", "from this address")
        if refused:
            return refused
        body = await _payload(request)
        if isinstance(body, JSONResponse):
            return body
        citizen = signed_in(request)
        if citizen is None and needs_citizen:
            return sign_in_first()
        curp = body.get("curp")
        if citizen is not None:
            if curp not in (None, "") and (not isinstance(curp, str) or curp.strip().upper() != citizen.curp):
                return _errors(
                    403, "curp", "signin.curp", "you are signed in as another citizen: ask only for yourself"
                )
            body["curp"] = curp = citizen.curp
        counted = curp.strip().upper() if isinstance(curp, str) else ""
        if counted and check_curp(counted) is None:
            refused = limited(per_curp, counted, "for this CURP")
            if refused:
                return refused
            return body, counted
        return body, ""

    def answer(
        span_name: str, submit: Callable[[dict[str, Any]], Submission], checked: tuple[dict[str, Any], str]
    ) -> JSONResponse:
        body, counted = checked
        # INTERNAL: FastAPI (0.160+) opens the SERVER span itself when a tracer provider is set.
        with _tracer.start_as_current_span(span_name, kind=trace.SpanKind.INTERNAL):
            accepted, problems = submit(body)
        if accepted is None:
            if counted:  # a form to correct is no submission: the citizen may try again at once
                per_curp.give_back(counted)
            return JSONResponse({"errors": [p.as_json() for p in problems]}, status_code=422)
        return JSONResponse(accepted.as_json(), status_code=202)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        rule = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http")
        return _errors(exc.status_code, "request", rule, str(exc.detail), **(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer repeats the input; this one names the place and the rule only.
        problems = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())),
                "message": str(e.get("msg", "")),
                "rule": e.get("type"),
            }
            for e in exc.errors()
        ]
        return JSONResponse({"errors": problems}, status_code=422)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", "?")  # the template: a path may hold a CURP
        _log.error("internal error answering %s %s: %s", request.method, route, type(exc).__name__)
        return _errors(500, "request", "internal", "the portal failed to answer; the error is logged")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return _static("index.html")

    @app.get("/static/portal.js", include_in_schema=False)
    def script() -> Response:
        return Response(_static("portal.js"), media_type="text/javascript")

    @app.get("/static/portal.css", include_in_schema=False)
    def style() -> Response:
        return Response(_static("portal.css"), media_type="text/css")

    @app.get("/api/catalog")
    def catalog() -> dict[str, Any]:
        return {"services": SERVICES, "agencies": addressable_agencies()}

    @app.get("/api/me")
    def me(request: Request) -> dict[str, Any]:
        citizen = signed_in(request)
        available = {"available": sign_in is not None, "development": bool(config.oidc and config.oidc.development)}
        if citizen is None:
            return {"signed_in": False, "sign_in": available}
        return {"signed_in": True, "curp": citizen.curp, "name": citizen.name, "sign_in": available}

    @app.get("/api/me/requests")
    def my_requests(request: Request) -> JSONResponse:
        citizen = signed_in(request)
        if citizen is None:
            return sign_in_first()
        views = [v.as_json() for v in desk.store.requests_of(citizen.curp)]
        return JSONResponse({"curp": citizen.curp, "requests": views})

    @app.get("/api/me/access-log")
    def my_access_log(request: Request) -> JSONResponse:
        citizen = signed_in(request)
        if citizen is None:
            return sign_in_first()
        return JSONResponse({"curp": citizen.curp, "accesses": desk.store.access_log(citizen.curp)})

    @app.post("/api/service-requests", openapi_extra=_json_body(_SERVICE_REQUEST_BODY))
    async def submit_service_request(request: Request) -> JSONResponse:
        checked = await submission(request, needs_citizen=True)
        if isinstance(checked, JSONResponse):
            return checked
        return answer("submit service request", desk.submit_service_request, checked)

    @app.post("/api/information-requests", openapi_extra=_json_body(_INFORMATION_REQUEST_BODY))
    async def submit_information_request(request: Request) -> JSONResponse:
        checked = await submission(request, needs_citizen=False)
        if isinstance(checked, JSONResponse):
            return checked
        return answer("submit information request", desk.submit_information_request, checked)

    @app.post("/api/requests/status", openapi_extra=_json_body(_STATUS_BODY))
    async def request_status(request: Request) -> JSONResponse:
        body = await _payload(request)
        if isinstance(body, JSONResponse):
            return body
        request_id, code = body.get("request_id"), body.get("tracking_code")
        problems = [
            {"field": name, "message": f"{name} must be text of 1 to {_MAX_ID_LENGTH} characters", "rule": "form.type"}
            for name, value in (("request_id", request_id), ("tracking_code", code))
            if not isinstance(value, str) or not 0 < len(value) <= _MAX_ID_LENGTH
        ]
        if problems:
            return JSONResponse({"errors": problems}, status_code=422)
        view = desk.store.tracked_request(str(request_id), str(code))
        if view is None:
            return _errors(404, "tracking_code", "tracking.unknown", "no request has that id and tracking code")
        return JSONResponse(view.as_json())

    @app.get("/auth/login", status_code=302)
    async def login(request: Request) -> Response:
        if sign_in is None:
            return _errors(404, "sign-in", "signin.unconfigured", "sign-in is not configured on this portal")
        return await sign_in.login(request)

    @app.get("/auth/callback", status_code=303)
    async def callback(request: Request) -> Response:
        if sign_in is None:
            return _errors(404, "sign-in", "signin.unconfigured", "sign-in is not configured on this portal")
        return await sign_in.callback(request)

    @app.post("/auth/logout", status_code=204)
    def logout(request: Request) -> Response:
        if sign_in is not None:
            sign_in.sign_out(request)
        return Response(status_code=204)

    @app.get("/health")
    def healthcheck() -> JSONResponse:
        body = health()
        return JSONResponse(body, status_code=200 if body.get("status") == "UP" else 503)

    app.add_middleware(
        SessionMiddleware,
        secret_key=desk.store.cookie_key().hex(),
        session_cookie=SESSION_COOKIE,
        max_age=int(SESSION_LIFETIME_S),
        same_site="lax",
        https_only=bool(config.oidc and config.oidc.secure_cookies),
    )
    app.add_middleware(
        RequestGuard,
        allowed_hosts=config.allowed_hosts,
        allowed_origins=frozenset({config.oidc.public_origin}) if config.oidc else frozenset(),
        max_body_bytes=config.max_body_bytes,
    )
    return app
