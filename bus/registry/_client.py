"""An HTTP client of the registry (or of any Confluent-compatible one), caching what never changes.

What a registry answers is input too: an answer that is not the registry's JSON (too deep to parse,
a schema that is not a string, references that loop) is a ``RegistryError`` with error code -1
saying what was wrong, never another exception.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from bus.avsc import NAMED_KINDS, named_types, referenced_names
from bus.registry._canonical import Reference, canonical_json
from bus.registry._errors import ErrorCode, RegistryError
from bus.registry._limits import CEILING, nesting_pointer

__all__ = ["RegistryClient"]

_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
# The registry's own answers nest a few levels; its schemas at most as deep as its limits' ceiling.
_MAX_ANSWER_DEPTH = CEILING.max_depth + 8


def _bad_answer(url: str, what: str) -> RegistryError:
    return RegistryError(f"the schema registry at {url} answered {what}", http_status=502, error_code=ErrorCode.UNKNOWN)


def _json(text: str) -> Any:
    """JSON text decoded, or a ValueError when it is malformed or too deep to decode safely."""
    if nesting_pointer(text, _MAX_ANSWER_DEPTH) is not None:
        raise ValueError(f"JSON nested deeper than {_MAX_ANSWER_DEPTH} levels")
    return json.loads(text)


def _text(schema: str | dict[str, Any] | list[Any]) -> str:
    return schema if isinstance(schema, str) else json.dumps(schema, separators=(",", ":"), ensure_ascii=False)


def _path(*parts: str | int) -> str:
    return "/" + "/".join(quote(str(p), safe="") for p in parts)


class RegistryClient:
    """Talks to a schema registry over HTTP; satisfies ``bus.codec.SchemaSource``.

    Schemas by id and ids by ``(subject, canonical schema)`` are cached: an id's schema never
    changes. Referenced types are inlined in what ``schema_by_id`` returns, so a reader gets one
    self-contained schema.

    Args:
        url: the registry's base URL, e.g. ``http://127.0.0.1:8081``.
        credential: the agency's token, sent as ``Authorization: Bearer`` (needed to register
            under a policy); never logged.
        timeout: seconds per HTTP request.
    """

    def __init__(self, url: str, *, credential: str | None = None, timeout: float = 10.0) -> None:
        headers = {"Accept": _CONTENT_TYPE, "Content-Type": _CONTENT_TYPE}
        if credential:
            headers["Authorization"] = f"Bearer {credential}"
        self.url = url.rstrip("/")
        self._can_register = credential is not None
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self._lock = threading.Lock()
        self._schemas: dict[int, dict[str, Any]] = {}
        self._ids: dict[tuple[str, str], int] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"cannot reach the schema registry at {self.url}: {exc}", http_status=503, error_code=50003
            ) from exc
        try:
            payload = _json(response.text)
        except ValueError:
            if response.is_success:
                raise _bad_answer(self.url, f"{method} {path} with a body that is not JSON") from None
            payload = None
        if response.is_success:
            return payload
        code = payload.get("error_code") if isinstance(payload, dict) else None
        if type(code) is int:
            details = payload.get("details")
            raise RegistryError(
                str(payload.get("message"))[:10_000],
                http_status=response.status_code,
                error_code=code,
                details=details if isinstance(details, list) else None,
            )
        raise RegistryError(
            f"{method} {path}: HTTP {response.status_code}",
            http_status=response.status_code,
            error_code=response.status_code,
        )

    def _number(self, body: Any, key: str) -> int:
        value = body.get(key) if isinstance(body, dict) else None
        if type(value) is not int:
            raise _bad_answer(self.url, f"without an integer {key!r}")
        return value

    def _schema_of(self, body: Any, what: str) -> tuple[Any, list[dict[str, Any]]]:
        """The schema and references of a registry answer, checked to be what a registry sends."""
        if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
            raise _bad_answer(self.url, f"{what} without a schema string")
        references = body.get("references") or []
        if not isinstance(references, list) or not all(
            isinstance(r, dict)
            and isinstance(r.get("name"), str)
            and isinstance(r.get("subject"), str)
            and type(r.get("version")) is int
            for r in references
        ):
            raise _bad_answer(self.url, f"{what} with malformed references")
        try:
            return _json(body["schema"]), references
        except ValueError as exc:
            raise _bad_answer(self.url, f"{what} with a schema that is not JSON ({exc})") from None

    # ------------------------------------------------------- SchemaSource

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        """The writer schema of an id, references inlined (cached forever).

        Raises:
            RegistryError: 40403 when the registry has no such id.
        """
        cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        body = self._call("GET", _path("schemas", "ids", schema_id))
        schema = self._inline(*self._schema_of(body, f"schema {schema_id}"), ())
        with self._lock:
            self._schemas[schema_id] = schema
        return schema

    def id_for(self, subject: str, schema: dict[str, Any]) -> int:
        """The id of ``schema`` under ``subject``: registered when this client has a credential,
        else looked up. Named types the schema uses without defining become references to the
        subject of the same full name (RecordNameStrategy), at its latest version.

        Raises:
            RegistryError: the registry refused (incompatible 409, policy 42230, not found 40403...).
        """
        key = (subject, json.dumps(canonical_json(schema), sort_keys=True, separators=(",", ":")))
        cached = self._ids.get(key)
        if cached is not None:
            return cached
        references = self.auto_references(schema)
        if self._can_register:
            schema_id = self.register(subject, schema, references)
        else:
            schema_id = self._number(self.lookup(subject, schema, references), "id")
        with self._lock:
            self._ids[key] = schema_id
        return schema_id

    # ------------------------------------------------------------- calls

    def register(self, subject: str, schema: str | dict[str, Any], references: Sequence[Reference] = ()) -> int:
        """Register a schema under a subject (idempotent) and return its id."""
        body = {"schema": _text(schema), "schemaType": "AVRO", "references": [r.to_json() for r in references]}
        return self._number(self._call("POST", _path("subjects", subject, "versions"), body), "id")

    def lookup(
        self, subject: str, schema: str | dict[str, Any], references: Sequence[Reference] = (), *, deleted: bool = False
    ) -> dict[str, Any]:
        """The subject version holding an equivalent schema: ``{subject, version, id, schema}``."""
        body = {"schema": _text(schema), "schemaType": "AVRO", "references": [r.to_json() for r in references]}
        return dict(self._call("POST", _path("subjects", subject), body, {"deleted": str(deleted).lower()}))

    def subjects(self) -> list[str]:
        return list(self._call("GET", "/subjects"))

    def versions(self, subject: str) -> list[int]:
        return list(self._call("GET", _path("subjects", subject, "versions")))

    def version(self, subject: str, version: int | str = "latest") -> dict[str, Any]:
        """One subject version: ``{subject, version, id, schema, references?}``."""
        return dict(self._call("GET", _path("subjects", subject, "versions", version)))

    def latest(self, subject: str) -> dict[str, Any]:
        return self.version(subject, "latest")

    def compatibility(
        self,
        subject: str,
        schema: str | dict[str, Any],
        references: Sequence[Reference] = (),
        *,
        version: int | str | None = None,
    ) -> tuple[bool, list[str]]:
        """Whether a schema may be registered next (against ``version``, or as the level says)."""
        body = {"schema": _text(schema), "schemaType": "AVRO", "references": [r.to_json() for r in references]}
        parts: list[str | int] = ["compatibility", "subjects", subject, "versions"]
        if version is not None:
            parts.append(version)
        answer = self._call("POST", _path(*parts), body, {"verbose": "true"})
        return bool(answer["is_compatible"]), list(answer.get("messages") or [])

    def config(self, subject: str | None = None) -> str:
        """The compatibility level of a subject (falling back to the global one) or the global one."""
        if subject is None:
            return str(self._call("GET", "/config")["compatibilityLevel"])
        return str(
            self._call("GET", _path("config", subject), params={"defaultToGlobal": "true"})["compatibilityLevel"]
        )

    def set_config(self, level: str, subject: str | None = None) -> str:
        path = "/config" if subject is None else _path("config", subject)
        return str(self._call("PUT", path, {"compatibility": level})["compatibility"])

    def delete_version(self, subject: str, version: int | str, *, permanent: bool = False) -> int:
        return int(
            self._call(
                "DELETE", _path("subjects", subject, "versions", version), params={"permanent": str(permanent).lower()}
            )
        )

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        return list(self._call("DELETE", _path("subjects", subject), params={"permanent": str(permanent).lower()}))

    # ------------------------------------------------------- references

    def auto_references(self, schema: Any) -> list[Reference]:
        """References for the named types ``schema`` uses but does not define (latest versions)."""
        refs = []
        for name in referenced_names(canonical_json(schema)):
            try:
                latest = self.latest(name)
            except RegistryError as exc:
                if exc.error_code in (ErrorCode.SUBJECT_NOT_FOUND, ErrorCode.VERSION_NOT_FOUND):
                    continue  # let the registry say the schema is invalid, naming the type
                raise
            refs.append(Reference(name, name, self._number(latest, "version")))
        return refs

    def _inline(self, schema: Any, references: list[dict[str, Any]], chain: tuple[tuple[str, int], ...]) -> Any:
        definitions: dict[str, Any] = {}
        for ref in references:
            link = (ref["subject"], ref["version"])
            if link in chain or len(chain) >= CEILING.max_reference_depth:
                raise _bad_answer(self.url, f"references that loop or go deeper than {CEILING.max_reference_depth}")
            body = self._call("GET", _path("subjects", ref["subject"], "versions", ref["version"]))
            definitions[ref["name"]] = canonical_json(
                self._inline(*self._schema_of(body, f"subject {link[0]} version {link[1]}"), (*chain, link))
            )
        if not definitions:
            return schema
        defined: set[str] = set()
        return _replace_first(canonical_json(schema), definitions, defined)


def _replace_first(node: Any, definitions: dict[str, Any], defined: set[str]) -> Any:
    """Put each referenced definition where its name is first used (Avro needs a definition first)."""
    if isinstance(node, str):
        if node in definitions and node not in defined:
            # A type two references share (State, in Person and in Address) is defined once only.
            definition = _named_once(definitions[node], defined)
            _mark_defined(definition, defined)
            return definition
        return node
    if isinstance(node, list):
        return [_replace_first(branch, definitions, defined) for branch in node]
    if isinstance(node, dict):
        out = dict(node)
        kind = node.get("type")
        if kind in NAMED_KINDS:
            defined.add(node["name"])
            if "fields" in node:
                out["fields"] = [{**f, "type": _replace_first(f["type"], definitions, defined)} for f in node["fields"]]
        elif kind == "array":
            out["items"] = _replace_first(node["items"], definitions, defined)
        elif kind == "map":
            out["values"] = _replace_first(node["values"], definitions, defined)
        return out
    return node


def _named_once(node: Any, defined: set[str]) -> Any:
    """``node`` with every named type already in ``defined`` replaced by its name."""
    if isinstance(node, list):
        return [_named_once(branch, defined) for branch in node]
    if isinstance(node, dict):
        kind = node.get("type")
        if kind in NAMED_KINDS and node["name"] in defined:
            return node["name"]
        out = dict(node)
        if kind in NAMED_KINDS and "fields" in node:
            out["fields"] = [{**f, "type": _named_once(f["type"], defined)} for f in node["fields"]]
        elif kind == "array":
            out["items"] = _named_once(node["items"], defined)
        elif kind == "map":
            out["values"] = _named_once(node["values"], defined)
        return out
    return node


def _mark_defined(node: Any, defined: set[str]) -> None:
    defined.update(named.full_name for named in named_types(node) if named.defines)
