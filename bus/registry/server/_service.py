"""The registry's HTTP service: Confluent's Schema Registry REST API for Avro, on FastAPI.

Every error answers ``{"error_code", "message"}`` with Confluent's codes — also for malformed JSON
(400), bodies nested too deep (400), unknown routes (404), bodies over ``MAX_BODY_BYTES`` (413) and
media types other than JSON (415) — so that no input a client sends yields a 500. Query booleans are
read in any case (``False``, ``true``).

Credentials come first: a write route admits the request (``SchemaRegistry.admit``: 401 without a
known agency's credential, 403 for another owner's subject) before FastAPI reads or parses its body,
then checks the body's media type and nesting, and only then lets FastAPI parse it.

The hot reads (schemas by id, subjects, versions) are async routes answering with the registry's
prepared bytes (``SchemaRegistry.prepared``): no thread, no response model, no JSON per request; only
an answer not yet prepared goes to a thread (``SchemaRegistry.answer``), where a miss may wait for a
catch-up with the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from email.message import Message as MimeHeader
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bus.registry._canonical import Reference
from bus.registry._errors import ErrorCode, RegistryError
from bus.registry._limits import abbreviated, nesting_pointer
from bus.registry.server._answers import MAX_MESSAGE_CHARS, HotRead, Read, error_body, render_json
from bus.registry.server._authorization import Write
from bus.registry.server._core import parse_version
from bus.registry.server._registry import SchemaRegistry

__all__ = ["CONTENT_TYPE", "MAX_BODY_BYTES", "REQUEST_MEDIA_TYPES", "CredentialsFirstRoute", "create_app"]

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
#: The request media types a body may have (Confluent's, and plain JSON), in UTF-8.
REQUEST_MEDIA_TYPES = (CONTENT_TYPE, "application/vnd.schemaregistry+json", "application/json")
#: Largest request body accepted (bytes); larger ones answer 413.
MAX_BODY_BYTES = 1024 * 1024
#: Deepest nesting of JSON objects and arrays in a request body; the API's own go 4 deep, and the
#: schema inside is a string, held to its own limits.
MAX_BODY_DEPTH = 32


class RegistryResponse(JSONResponse):
    media_type = CONTENT_TYPE

    def render(self, content: Any) -> bytes:
        return render_json(content)


def _error(status: int, code: int, message: str) -> RegistryResponse:
    return RegistryResponse(
        {"error_code": code, "message": abbreviated(message, MAX_MESSAGE_CHARS)}, status_code=status
    )


class ReferenceModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    version: int = Field(ge=1, le=2**31 - 1)


class SchemaRequest(BaseModel):
    """A schema to register, look up or check."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_: str = Field(alias="schema")
    schemaType: str = "AVRO"
    references: list[ReferenceModel] | None = None
    metadata: dict[str, Any] | None = None
    ruleSet: dict[str, Any] | None = None
    id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)

    def refs(self) -> list[Reference]:
        if self.schemaType.upper() != "AVRO":
            raise RegistryError(
                f"Invalid schema: schema type {self.schemaType} is not supported; this registry serves AVRO",
                http_status=422,
                error_code=ErrorCode.INVALID_SCHEMA,
            )
        if self.metadata or self.ruleSet:
            raise RegistryError(
                "Invalid schema: metadata and rule sets (data contracts) are not supported",
                http_status=422,
                error_code=ErrorCode.INVALID_SCHEMA,
            )
        return [Reference(r.name, r.subject, r.version) for r in self.references or []]


class CompatibilityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    compatibility: str | None = None
    compatibilityLevel: str | None = None  # accepted as a synonym, as Confluent does


class ModeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: str


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse bodies over a size before anything reads them whole (declared or streamed): 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if b"content-length" not in headers and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # a message without either has no body (RFC 9112, 6.3)
            return
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit():
            await _error(400, 400, "Malformed request: Content-Length is not a number")(scope, receive, send)
            return
        if len(declared) > 12 or int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counting, send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _error(413, 413, f"Request body too large: the registry accepts at most {self.limit} bytes")
        await response(scope, receive, send)


#: The write each route makes, by route name: ``SchemaRegistry.admit`` checks its credential first.
_WRITES = {
    "register": Write.REGISTER,
    "delete_version": Write.DELETE,
    "delete_subject": Write.DELETE,
    "put_global_config": Write.CONFIGURE,
    "put_subject_config": Write.CONFIGURE,
    "delete_subject_config": Write.CONFIGURE,
    "put_global_mode": Write.MODE,
    "put_subject_mode": Write.MODE,
}
#: The routes that take a body but only read: open to all, their schemas held to the limits.
_READS_WITH_BODIES = frozenset({"lookup", "check_version", "check_all"})


class CredentialsFirstRoute(APIRoute):
    """A route that admits a write, then checks the body's media type and nesting, before FastAPI
    reads and parses the body (FastAPI parses it before any dependency runs)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        write = _WRITES.get(self.name)
        takes_body = self.body_field is not None

        async def admitted(request: Request) -> Response:
            if write is not None:
                registry: SchemaRegistry = request.app.state.registry
                subject = request.path_params.get("subject")
                # The state lock admit may take briefly must not stall the event loop.
                await run_in_threadpool(registry.admit, write, subject, request.headers.get("authorization"))
            if takes_body and _has_body(request):
                _check_media_type(request.headers.get("content-type"))
                _check_nesting(await request.body())  # cached: FastAPI reads the same bytes
            return await handle(request)

        return admitted


def _has_body(request: Request) -> bool:
    return request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers


def _check_media_type(content_type: str | None) -> None:
    header = MimeHeader()
    header["content-type"] = content_type or ""
    media_type = header.get_content_type() if content_type else "none"
    charset = header.get_param("charset")
    if media_type in REQUEST_MEDIA_TYPES and (not isinstance(charset, str) or charset.lower() in ("utf-8", "utf8")):
        return
    raise RegistryError(
        f"Unsupported media type {abbreviated(content_type or 'none')}: a request body is JSON in UTF-8, "
        f"sent as {', '.join(REQUEST_MEDIA_TYPES)}",
        http_status=415,
        error_code=415,
    )


def _check_nesting(body: bytes) -> None:
    pointer = nesting_pointer(body.decode("utf-8", "replace"), MAX_BODY_DEPTH)
    if pointer is not None:
        raise RegistryError(
            f"Malformed request: the body nests JSON objects and arrays deeper than {MAX_BODY_DEPTH} levels, "
            f"at {pointer}",
            http_status=400,
            error_code=400,
        )


Authorization = Annotated[str | None, Header(description="Bearer <agency token> (writes under a policy)")]
Flag = Annotated[bool, Query()]


def create_app(registry: SchemaRegistry, *, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The FastAPI application serving ``registry``.

    Args:
        registry: a started registry.
        max_body_bytes: the largest request body accepted.

    Returns:
        The ASGI application.
    """
    app = FastAPI(
        title="Enlace schema registry",
        version="1",
        description="Confluent-compatible Avro schema registry enforcing the Interoperability Policy.",
        default_response_class=RegistryResponse,
    )
    app.state.registry = registry
    app.router.route_class = CredentialsFirstRoute
    _install_error_handlers(app)
    _add_schema_routes(app, registry)  # first: routes are matched in order, and ids are asked most
    _add_subject_routes(app, registry)
    _add_settings_routes(app, registry)
    changing = {
        r.name for r in app.routes if isinstance(r, APIRoute) and (r.methods or set()) & {"POST", "PUT", "DELETE"}
    }
    unadmitted = changing - set(_WRITES) - _READS_WITH_BODIES
    if unadmitted:  # a route renamed or added without saying which write it makes
        raise RuntimeError(f"registry routes without an admission: {sorted(unadmitted)}")
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RegistryError)
    async def registry_error(_: Request, exc: RegistryError) -> Response:
        return Response(error_body(exc), status_code=exc.http_status, media_type=CONTENT_TYPE)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> RegistryResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = "/".join(str(p) for p in first.get("loc", ()))
        if first.get("type") == "json_invalid":
            return _error(400, 400, f"Malformed JSON: {first.get('ctx', {}).get('error', 'invalid')}")
        if first.get("loc", ("",))[0] == "path":
            return _error(404, 404, f"Not found: {where}: {first.get('msg')}")
        if first.get("type") == "extra_forbidden":
            return _error(422, 422, f"Unrecognized field: {where}")
        return _error(422, 422, f"Invalid request at {where}: {first.get('msg')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> RegistryResponse:
        return _error(exc.status_code, exc.status_code, f"HTTP {exc.status_code}: {exc.detail}")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> RegistryResponse:
        # A bug, not an answer to the input: still Confluent's shape, and logged without the body.
        log.error("registry: %s %s failed with %s", request.method, request.url.path, type(exc).__name__)
        return _error(500, ErrorCode.STORE_ERROR, f"Internal error ({type(exc).__name__})")


def _add_subject_routes(app: FastAPI, registry: SchemaRegistry) -> None:
    @app.get("/")
    def root() -> dict[str, Any]:
        return {}

    @app.get("/subjects", response_model=list[str])
    async def subjects(deleted: Flag = False, subjectPrefix: str = "") -> Response:
        if subjectPrefix:  # any prefix a caller likes: answered from the state, not kept
            names = await run_in_threadpool(registry.subjects, deleted=deleted, prefix=subjectPrefix)
            return RegistryResponse(names)
        return await _answered(registry, HotRead(Read.SUBJECTS, deleted=deleted))

    @app.post("/subjects/{subject}")
    def lookup(
        subject: str, body: Annotated[SchemaRequest, Body()], deleted: Flag = False, normalize: Flag = False
    ) -> dict[str, Any]:
        return registry.lookup(subject, body.schema_, body.refs(), deleted=deleted)

    @app.get("/subjects/{subject}/versions", response_model=list[int])
    async def versions(subject: str, deleted: Flag = False) -> Response:
        return await _answered(registry, HotRead(Read.VERSIONS, subject=subject, deleted=deleted))

    @app.post("/subjects/{subject}/versions")
    def register(
        subject: str,
        body: Annotated[SchemaRequest, Body()],
        authorization: Authorization = None,
        normalize: Flag = False,
    ) -> dict[str, Any]:
        refs = body.refs()
        schema_id = registry.register(
            subject, body.schema_, refs, authorization=authorization, schema_id=body.id, version=body.version
        )
        return {"id": schema_id}

    @app.get("/subjects/{subject}/versions/{version}", response_model=dict[str, Any])
    async def version(subject: str, version: str, deleted: Flag = False) -> Response:
        question = HotRead(Read.VERSION, subject=subject, version=parse_version(version), deleted=deleted)
        return await _answered(registry, question)

    @app.get("/subjects/{subject}/versions/{version}/schema", response_model=Any)
    async def version_schema(subject: str, version: str, deleted: Flag = False) -> Response:
        number = parse_version(version)
        question = HotRead(Read.RAW_VERSION_SCHEMA, subject=subject, version=number, deleted=deleted)
        return await _answered(registry, question)

    @app.get("/subjects/{subject}/versions/{version}/referencedby")
    def referenced_by(subject: str, version: str) -> list[int]:
        return registry.referenced_by(subject, version)

    @app.delete("/subjects/{subject}/versions/{version}")
    def delete_version(subject: str, version: str, permanent: Flag = False, authorization: Authorization = None) -> int:
        return registry.delete_version(subject, version, permanent=permanent, authorization=authorization)

    @app.delete("/subjects/{subject}")
    def delete_subject(subject: str, permanent: Flag = False, authorization: Authorization = None) -> list[int]:
        return registry.delete_subject(subject, permanent=permanent, authorization=authorization)


async def _answered(registry: SchemaRegistry, question: HotRead) -> Response:
    """The prepared answer, looked up on the event loop; prepared in a thread the first time."""
    answer = registry.prepared(question)
    if answer is None:
        answer = await run_in_threadpool(registry.answer, question)
    return Response(answer.body, status_code=answer.status, media_type=CONTENT_TYPE)


def _add_schema_routes(app: FastAPI, registry: SchemaRegistry) -> None:
    @app.get("/schemas/types")
    def schema_types() -> list[str]:
        return ["AVRO"]

    # Confluent's ?subject= is accepted and, as before, ignored (an id names one schema), but not
    # declared: FastAPI would parse it on the hottest route for nothing.
    @app.get("/schemas/ids/{schema_id}", response_model=dict[str, Any])
    async def schema_by_id(schema_id: int) -> Response:
        return await _answered(registry, HotRead(Read.SCHEMA_BY_ID, schema_id=schema_id))

    @app.get("/schemas/ids/{schema_id}/schema", response_model=Any)
    async def raw_schema_by_id(schema_id: int) -> Response:
        return await _answered(registry, HotRead(Read.RAW_SCHEMA_BY_ID, schema_id=schema_id))

    @app.get("/schemas/ids/{schema_id}/versions")
    def id_versions(schema_id: int, deleted: Flag = False) -> list[dict[str, Any]]:
        return registry.id_versions(schema_id, deleted=deleted)

    @app.get("/schemas/ids/{schema_id}/subjects")
    def id_subjects(schema_id: int, deleted: Flag = False) -> list[str]:
        return registry.id_subjects(schema_id, deleted=deleted)

    @app.post("/compatibility/subjects/{subject}/versions/{version}")
    def check_version(
        subject: str, version: str, body: Annotated[SchemaRequest, Body()], verbose: Flag = False
    ) -> dict[str, Any]:
        ok, messages = registry.check(subject, body.schema_, body.refs(), version)
        return {"is_compatible": ok, "messages": messages} if verbose else {"is_compatible": ok}

    @app.post("/compatibility/subjects/{subject}/versions")
    def check_all(subject: str, body: Annotated[SchemaRequest, Body()], verbose: Flag = False) -> dict[str, Any]:
        ok, messages = registry.check(subject, body.schema_, body.refs())
        return {"is_compatible": ok, "messages": messages} if verbose else {"is_compatible": ok}


def _level(body: CompatibilityRequest) -> str | None:
    return body.compatibility if body.compatibility is not None else body.compatibilityLevel


def _add_settings_routes(app: FastAPI, registry: SchemaRegistry) -> None:
    @app.get("/config")
    def global_config() -> dict[str, str]:
        return {"compatibilityLevel": registry.compatibility()}

    @app.put("/config")
    def put_global_config(body: CompatibilityRequest, authorization: Authorization = None) -> dict[str, str]:
        return registry.set_compatibility(None, _level(body), authorization=authorization)

    @app.get("/config/{subject}")
    def subject_config(subject: str, defaultToGlobal: Flag = False) -> dict[str, str]:
        return {"compatibilityLevel": registry.compatibility(subject, default_to_global=defaultToGlobal)}

    @app.put("/config/{subject}")
    def put_subject_config(
        subject: str, body: CompatibilityRequest, authorization: Authorization = None
    ) -> dict[str, str]:
        return registry.set_compatibility(subject, _level(body), authorization=authorization)

    @app.delete("/config/{subject}")
    def delete_subject_config(subject: str, authorization: Authorization = None) -> dict[str, str]:
        return registry.delete_compatibility(subject, authorization=authorization)

    @app.get("/mode")
    def global_mode() -> dict[str, str]:
        return {"mode": registry.mode()}

    @app.put("/mode")
    def put_global_mode(body: ModeRequest, authorization: Authorization = None) -> dict[str, str]:
        return registry.set_mode(None, body.mode, authorization=authorization)

    @app.get("/mode/{subject}")
    def subject_mode(subject: str, defaultToGlobal: Flag = False) -> dict[str, str]:
        return {"mode": registry.mode(subject, default_to_global=defaultToGlobal)}

    @app.put("/mode/{subject}")
    def put_subject_mode(subject: str, body: ModeRequest, authorization: Authorization = None) -> dict[str, str]:
        return registry.set_mode(subject, body.mode, authorization=authorization)
