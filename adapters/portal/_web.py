"""The portal's web page and JSON API (FastAPI), bound to 127.0.0.1 by the runtime."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from opentelemetry import trace

from adapters.portal._desk import PortalDesk, Submission
from adapters.portal._forms import SERVICES, addressable_agencies

__all__ = ["create_app", "current_trace_id"]

_tracer = trace.get_tracer("enlace.adapters.portal")


def current_trace_id() -> str | None:
    """The trace id of the span in progress, as 32 hex digits, or None when not traced."""
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


def _page() -> str:
    return resources.files("adapters.portal").joinpath("static/index.html").read_text(encoding="utf-8")


async def _payload(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse(
            {"errors": [{"field": "form", "message": "the body is not JSON", "rule": "json"}]},
            status_code=400,
        )
    if not isinstance(body, dict):
        return JSONResponse(
            {"errors": [{"field": "form", "message": "send a JSON object", "rule": "json"}]}, status_code=400
        )
    return body


def create_app(desk: PortalDesk, *, health: Callable[[], dict[str, Any]] = lambda: {"status": "UP"}) -> FastAPI:
    """The portal's HTTP application.

    A request is stored with its record in the outbox in one transaction; the connector's outbox
    publisher sends the record once that commits, so answering never waits for Kafka.

    Args:
        desk: the portal's business logic.
        health: the body of ``GET /health``; a ``status`` other than ``UP`` answers 503.
    """
    app = FastAPI(title="Citizen's portal (urn:mx:gob:portal)", docs_url="/api/docs", openapi_url="/api/openapi.json")

    def _answer(span_name: str, submit: Callable[[dict[str, Any]], Submission], body: dict[str, Any]) -> JSONResponse:
        # INTERNAL: FastAPI (0.160+) opens the SERVER span itself when a tracer provider is set.
        with _tracer.start_as_current_span(span_name, kind=trace.SpanKind.INTERNAL):
            view, problems = submit(body)
            if view is None:
                return JSONResponse({"errors": [p.as_json() for p in problems]}, status_code=422)
            return JSONResponse({"request": view.as_json()}, status_code=202)

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return _page()

    @app.get("/api/catalog")
    def catalog() -> dict[str, Any]:
        return {"services": SERVICES, "agencies": addressable_agencies()}

    @app.post("/api/service-requests")
    async def submit_service_request(request: Request) -> JSONResponse:
        body = await _payload(request)
        if isinstance(body, JSONResponse):
            return body
        return _answer("submit service request", desk.submit_service_request, body)

    @app.post("/api/information-requests")
    async def submit_information_request(request: Request) -> JSONResponse:
        body = await _payload(request)
        if isinstance(body, JSONResponse):
            return body
        return _answer("submit information request", desk.submit_information_request, body)

    @app.get("/api/requests/{request_id}")
    def one_request(request_id: str) -> JSONResponse:
        view = desk.store.request(request_id)
        if view is None:
            return JSONResponse({"error": f"no request {request_id}"}, status_code=404)
        return JSONResponse(view.as_json())

    @app.get("/api/citizens/{curp}/requests")
    def requests_of(curp: str) -> dict[str, Any]:
        return {"curp": curp.upper(), "requests": [v.as_json() for v in desk.store.requests_of(curp.upper())]}

    @app.get("/api/citizens/{curp}/access-log")
    def access_log(curp: str) -> dict[str, Any]:
        return {"curp": curp.upper(), "accesses": desk.store.access_log(curp.upper())}

    @app.get("/health")
    def healthcheck() -> JSONResponse:
        body = health()
        return JSONResponse(body, status_code=200 if body.get("status") == "UP" else 503)

    return app
