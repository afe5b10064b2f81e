"""The bridge's HTTP API (FastAPI), in Confluent REST Proxy v3's shapes where they fit.

Records are addressed by record name (the catalog), not topic: ``POST
/v3/clusters/{cluster_id}/catalog/{record}/records`` takes one ``{"value": {"type": "JSON", "data":
RECORD}}`` (``application/json``) or JSON lines of them (``application/x-ndjson``), and answers REST
Proxy's produce result (``error_code``, ``cluster_id``, ``topic_name``, ``partition_id``, ``offset``)
plus the ``ce_id``, or per line for a batch. Every refusal is ``{"error_code", "message", "problems":
[{"path", "rule", "message"}]}`` with a 4xx status; a record's problems are those ``enlace publish``
prints (JSON pointers into the record). Who asks is the agency the verified TLS client certificate names.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectors.bridge._callbacks import jwk_of
from connectors.bridge._service import Bridge, BridgeRefusal, LineResult, Problem
from connectors.bridge._tls import agency_of_certificate

__all__ = ["MAX_BODY_BYTES", "MAX_LINES", "create_app"]

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_LINES = 10_000
_MAX_WAIT_MS = 30_000
_KEY = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,255}")  # sf-string characters, no quote or backslash
_NDJSON = {"application/x-ndjson", "application/jsonl", "application/json-lines"}
_PATH_NAME = {"type": "string", "maxLength": 200}

_PRODUCE_BODY = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": {
            "type": "object",
            "required": ["data"],
            "additionalProperties": False,
            "properties": {"type": {"type": "string", "enum": ["JSON"]}, "data": {"type": "object"}},
        }
    },
}
_SUBSCRIPTION_BODY = {
    "type": "object",
    "required": ["name", "records"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
        "records": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "string", "maxLength": 200}},
        "delivery": {"type": "string", "enum": ["pull", "webhook"], "default": "pull"},
    },
}
_ACK_BODY = {
    "type": "object",
    "required": ["ce_ids"],
    "additionalProperties": False,
    "properties": {"ce_ids": {"type": "array", "maxItems": 500, "items": {"type": "string", "maxLength": 200}}},
}
_IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A unique key per request (IETF httpapi-idempotency-key-header): a retry with the same key "
    "and body gets the first answer and publishes nothing.",
    "schema": {"type": "string", "maxLength": 257},
}


def _refusal(status: int, message: str, problems: list[Problem] | None = None) -> JSONResponse:
    body = {"error_code": status, "message": message, "problems": [p.as_json() for p in problems or []]}
    return JSONResponse(body, status_code=status)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BridgeRefusal(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BridgeRefusal(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(text: bytes | str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BridgeRefusal(
            400, f"{where} is not JSON", [Problem("/", "json", f"{exc.msg} at line {exc.lineno} column {exc.colno}")]
        ) from None
    except RecursionError:
        raise BridgeRefusal(400, f"{where} is not JSON", [Problem("/", "json", "nested too deeply")]) from None
    except ValueError as exc:  # not UTF-8, or a number longer than Python converts
        raise BridgeRefusal(400, f"{where} is not JSON", [Problem("/", "json", str(exc).split(":")[0])]) from None


async def _json_object(request: Request) -> dict[str, Any]:
    if _media_type(request) != "application/json":
        raise BridgeRefusal(
            415, "send the body as application/json", [Problem("/", "content-type", "application/json")]
        )
    document = _parse(await _body(request), "the body")
    if not isinstance(document, dict):
        raise BridgeRefusal(422, "the body is a JSON object", [Problem("/", "type", "a JSON object")])
    return document


def _record_of(document: Any) -> Any:
    """The record inside REST Proxy's ``{"value": {"type": "JSON", "data": ...}}``; a wrapper's problems."""
    if not isinstance(document, dict):
        raise BridgeRefusal(422, "each record is a JSON object", [Problem("/", "type", "a JSON object")])
    extra = sorted(set(document) - {"value"})
    if extra:
        raise BridgeRefusal(
            422,
            "unknown fields",
            [Problem(f"/{extra[0]}", "unknown-field", "only value is taken (the key is the record's subject)")],
        )
    value = document.get("value")
    if not isinstance(value, dict) or "data" not in value:
        raise BridgeRefusal(
            422, "value is missing", [Problem("/value", "required", 'an object {"type": "JSON", "data": RECORD}')]
        )
    if set(value) - {"type", "data"} or value.get("type", "JSON") != "JSON":
        raise BridgeRefusal(
            422, "value's type is JSON", [Problem("/value/type", "value.type", "only JSON values are taken")]
        )
    return value["data"]


def _idempotency_key(request: Request) -> str | None:
    raw = request.headers.get("idempotency-key")
    if raw is None:
        return None
    raw = raw.strip()
    key = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    if not _KEY.fullmatch(key):
        raise BridgeRefusal(
            400,
            "the Idempotency-Key header is 1-255 printable ASCII characters (a structured-field string)",
            [Problem("/headers/Idempotency-Key", "idempotency-key.format", "1-255 printable ASCII characters")],
        )
    return key


def create_app(bridge: Bridge) -> FastAPI:
    """The bridge's application, acting for the agency each request's client certificate names."""
    app = FastAPI(title="Enlace HTTP bridge", version="1", docs_url=None, redoc_url=None, openapi_url="/openapi.json")

    @app.exception_handler(BridgeRefusal)
    async def refused(_: Request, exc: BridgeRefusal) -> JSONResponse:
        return _refusal(exc.status, exc.message, exc.problems)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(
                "/" + "/".join(str(p) for p in e.get("loc", ())), str(e.get("type", "invalid")), str(e.get("msg", ""))
            )
            for e in exc.errors()
        ]
        return _refusal(422, "the request is not valid", problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _refusal(exc.status_code, str(exc.detail))

    def agency(request: Request) -> str:
        chain = request.scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or []
        urn = agency_of_certificate(chain[0]) if chain else None
        if urn is None:
            raise BridgeRefusal(401, "present a client certificate the bridge issued (it names your agency's URN)")
        if urn not in bridge.agencies:
            raise BridgeRefusal(403, f"this bridge does not act for {urn}")
        return urn

    def cluster(cluster_id: str) -> None:
        if cluster_id != bridge.cluster_id:
            raise BridgeRefusal(404, f"no cluster {cluster_id!r} here; this bridge's is {bridge.cluster_id!r}")

    @app.get("/v3/clusters/{cluster_id}/catalog", summary="The records you may publish or read")
    def list_records(request: Request, cluster_id: str) -> JSONResponse:
        urn = agency(request)
        cluster(cluster_id)
        return JSONResponse({"kind": "RecordList", "agency": urn, "data": bridge.visible_records(urn)})

    @app.get("/v3/clusters/{cluster_id}/catalog/{record_name}/schema", summary="A record's schema (.avsc)")
    def schema(
        request: Request, cluster_id: str, record_name: str, version: int | None = Query(None, ge=1, le=1000)
    ) -> JSONResponse:
        agency(request)
        cluster(cluster_id)
        record_type = bridge.record_type(record_name)
        if version is not None:
            matches = [t for t in bridge.catalog.versions(record_type.full_name) if t.version == version]
            if not matches:
                raise BridgeRefusal(404, f"{record_type.full_name} has no version {version}")
            record_type = matches[0]
        return JSONResponse(
            {
                "record": record_type.full_name,
                "version": record_type.version,
                "references": list(record_type.uses),
                "schema": record_type.schema,
            }
        )

    @app.post(
        "/v3/clusters/{cluster_id}/catalog/{record_name}/records",
        summary="Publish one record (application/json) or JSON lines of records (application/x-ndjson)",
        openapi_extra={
            "parameters": [_IDEMPOTENCY_HEADER],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _PRODUCE_BODY},
                    "application/x-ndjson": {"schema": {"type": "string", "maxLength": MAX_BODY_BYTES}},
                },
            },
        },
    )
    async def produce(request: Request, cluster_id: str, record_name: str) -> JSONResponse:
        urn = agency(request)
        cluster(cluster_id)
        key = _idempotency_key(request)
        media = _media_type(request)
        if media not in _NDJSON and media != "application/json":
            raise BridgeRefusal(
                415,
                "send one record as application/json or several as application/x-ndjson",
                [Problem("/", "content-type", "application/json or application/x-ndjson")],
            )
        body = await _body(request)
        bridge.record_type(record_name)  # an unknown record is a 404 before the body is read as records
        early: list[LineResult] = []
        if media == "application/json":
            lines = [(1, _record_of(_parse(body, "the body")))]
        else:
            lines, early = _lines(body)
        status, results = 400, list[LineResult]()
        if lines:
            status, results = await run_in_threadpool(
                bridge.publish, urn, record_name, lines, idempotency_key=key, body=body
            )
        if media != "application/json" and early:  # unusable lines are reported beside the published ones
            results = sorted(early + results, key=lambda r: r.line)
            status = 207 if len({r.error_code for r in results}) > 1 else results[0].error_code
        if media == "application/json":
            only = results[0].as_json(bridge.cluster_id)
            only.pop("line")
            return JSONResponse(only, status_code=status)
        return JSONResponse({"results": [r.as_json(bridge.cluster_id) for r in results]}, status_code=status)

    @app.post(
        "/v3/clusters/{cluster_id}/subscriptions",
        status_code=201,
        summary="Create a named subscription",
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": _SUBSCRIPTION_BODY}}}
        },
    )
    async def subscribe(request: Request, cluster_id: str) -> JSONResponse:
        urn = agency(request)
        cluster(cluster_id)
        document = await _json_object(request)
        extra = sorted(set(document) - {"name", "records", "delivery"})
        if extra:
            raise BridgeRefusal(
                422, "unknown fields", [Problem(f"/{extra[0]}", "unknown-field", "name, records, delivery")]
            )
        records = document.get("records")
        if not isinstance(records, list) or not records or len(records) > 50:
            raise BridgeRefusal(
                422, "records is a list of 1-50 record names", [Problem("/records", "records", "1-50 record names")]
            )
        delivery = document.get("delivery", "pull")
        if delivery not in ("pull", "webhook"):
            raise BridgeRefusal(
                422, "delivery is pull or webhook", [Problem("/delivery", "delivery", "pull or webhook")]
            )
        name = document.get("name")
        if not isinstance(name, str):
            raise BridgeRefusal(422, "name is a string", [Problem("/name", "subscription.name", "a string")])
        made = await run_in_threadpool(bridge.subscribe, urn, name, records, delivery=delivery)
        return JSONResponse(made, status_code=201)

    @app.get("/v3/clusters/{cluster_id}/subscriptions/{name}", summary="A subscription")
    def subscription(request: Request, cluster_id: str, name: str) -> JSONResponse:
        urn = agency(request)
        cluster(cluster_id)
        return JSONResponse(bridge.describe(urn, name))

    @app.delete("/v3/clusters/{cluster_id}/subscriptions/{name}", status_code=204, summary="Delete a subscription")
    def unsubscribe(request: Request, cluster_id: str, name: str) -> JSONResponse:
        urn = agency(request)
        cluster(cluster_id)
        bridge.unsubscribe(urn, name)
        return JSONResponse(None, status_code=204)

    @app.get("/v3/clusters/{cluster_id}/subscriptions/{name}/records", summary="Long-poll for records (at least once)")
    def fetch(
        request: Request, cluster_id: str, name: str, max_wait_ms: int = Query(10_000, ge=0, le=_MAX_WAIT_MS)
    ) -> JSONResponse:
        urn = agency(request)
        cluster(cluster_id)
        records = bridge.fetch(urn, name, wait_s=max_wait_ms / 1000)
        return JSONResponse({"records": records, "ack_deadline_ms": int(bridge.ack_deadline_s * 1000)})

    @app.post(
        "/v3/clusters/{cluster_id}/subscriptions/{name}/acknowledgements",
        summary="Acknowledge fetched records",
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _ACK_BODY}}}},
    )
    async def acknowledge(request: Request, cluster_id: str, name: str) -> JSONResponse:
        urn = agency(request)
        cluster(cluster_id)
        document = await _json_object(request)
        ce_ids = document.get("ce_ids")
        if (
            set(document) != {"ce_ids"}
            or not isinstance(ce_ids, list)
            or len(ce_ids) > 500
            or not all(isinstance(i, str) for i in ce_ids)
        ):
            raise BridgeRefusal(
                422, 'the body is {"ce_ids": [up to 500 ce_ids]}', [Problem("/ce_ids", "ce_ids", "a list of strings")]
            )
        return JSONResponse({"acknowledged": bridge.acknowledge(urn, name, set(ce_ids))})

    @app.get("/v3/webhook-keys", summary="The keys that sign webhook callbacks (a JWK set)")
    def webhook_keys(request: Request) -> JSONResponse:
        agency(request)
        return JSONResponse({"keys": [jwk_of(bridge.signer.key_id, bridge.signer.public_key)]})

    records = [n for n in bridge.catalog.names() if bridge.catalog.get(n).topic is not None]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            for operations in document["paths"].values():
                for operation in operations.values():
                    for parameter in operation.get("parameters", []):
                        if parameter["name"] == "cluster_id":  # the one cluster this bridge serves
                            parameter["schema"]["enum"] = [bridge.cluster_id]
                        elif parameter["name"] == "record_name":  # the catalog's records with a topic
                            parameter["schema"]["enum"] = records
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _lines(body: bytes) -> tuple[list[tuple[int, Any]], list[LineResult]]:
    """JSON lines: each line's record, or (when any line is unusable) every unusable line's result."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BridgeRefusal(400, "the body is not UTF-8 text", [Problem("/", "utf-8", f"byte {exc.start}")]) from None
    lines, bad = [], []
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not numbered:
        raise BridgeRefusal(422, "the body holds no record", [Problem("/", "empty", "one record per line")])
    if len(numbered) > MAX_LINES:
        raise BridgeRefusal(413, f"a batch holds at most {MAX_LINES} records")
    for number, line in numbered:
        try:
            lines.append((number, _record_of(_parse(line, f"line {number}"))))
        except BridgeRefusal as exc:
            bad.append(LineResult(number, error_code=exc.status, message=exc.message, problems=exc.problems))
    return lines, bad
