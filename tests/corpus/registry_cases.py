"""The registry's bad-input corpus: one row per request a hostile or careless client sends, with the
status and Confluent error code the registry must answer.

Paths and bodies may name subjects the test sets up, as placeholders: ``@probe@`` (a record of
``mx.gob.crm`` registered once), ``@frozen@`` (another, which an admin makes READONLY during the run),
``@fresh@`` (a subject of ``mx.gob.crm`` never registered). ``agency`` is whose bearer token goes
with the request (``crm`` is the owner of all three); rows run in order, so a row may rely on one
above it (the admin's READONLY comes before the owner's attempts to lift it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CT = "application/vnd.schemaregistry.v1+json"
DEEP = 10_000


@dataclass(frozen=True)
class Case:
    """One request and the answer it must get.

    Attributes:
        name: what the row probes.
        method, path: the request (``@...@`` placeholders replaced).
        status: the HTTP status expected.
        error_code: Confluent's ``error_code`` expected, or None when the request must succeed.
        json: a body sent as JSON (placeholders replaced in its text).
        raw: a body sent as these bytes instead.
        chunked: send ``raw`` without a Content-Length (chunked transfer).
        content_type: the Content-Type header (None: no header).
        agency: whose token goes as ``Authorization: Bearer`` (``crm``, ``sat``, ``interop``...).
        authorization: a raw ``Authorization`` header instead.
        says: a piece of text the error message must hold.
        answer: the exact JSON a successful request must answer, when given.
    """

    name: str
    method: str
    path: str
    status: int
    error_code: int | None
    json: Any = None
    raw: bytes | None = None
    chunked: bool = False
    content_type: str | None = CT
    agency: str | None = None
    authorization: str | None = None
    says: str | None = None
    answer: Any = field(default=None)


# ----------------------------------------------------------------------------- schemas


def _deep_text(shape: str, levels: int = DEEP) -> str:
    # Text, not json.dumps: json.dumps itself recurses, and these go deeper than it can.
    if shape == "arrays":
        return '{"type":"array","items":' * levels + '"int"' + "}" * levels
    if shape == "maps":
        return '{"type":"map","values":' * levels + '"int"' + "}" * levels
    if shape == "unions":
        return "[" * levels + '"int"' + "]" * levels
    opened = "".join(f'{{"type":"record","name":"R{i}","fields":[{{"name":"x","type":' for i in range(levels))
    return opened + '"int"' + "}]}" * levels


def _record(name: str, *fields: dict[str, Any], namespace: str = "mx.gob.crm", **extra: Any) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "namespace": namespace,
            "doc": "A corpus probe.",
            "fields": list(fields),
            **extra,
        }
    )


CASE_ID = {"name": "caseId", "type": "string", "doc": "The case.", "classification": "public"}


def probe_schema(name: str) -> str:
    """The valid schema registered as ``@probe@`` and ``@frozen@`` (their last name part)."""
    return _record(name, CASE_ID)


VALID = _record("Anything", CASE_ID)
DEEP_ARRAYS = _deep_text("arrays")
DEEP_400 = _deep_text("arrays", 400)
AT_DEPTH_LIMIT = _deep_text("arrays", 64)
OVER_DEPTH_LIMIT = _deep_text("arrays", 65)
BIG_DOC = _record("Big", CASE_ID, doc="x" * 300_000)
HUGE_STRING = json.dumps("x" * 300_000)
WIDE = _record(
    "Wide", *({"name": f"f{i}", "type": "int", "doc": "f", "classification": "public"} for i in range(1_001))
)
MANY_SYMBOLS = json.dumps({"type": "enum", "name": "E", "symbols": [f"S{i}" for i in range(10_001)], "default": "S0"})
WIDE_UNION = _record("U", {"name": "u", "type": [{"type": "fixed", "name": f"F{i}", "size": 1} for i in range(101)]})
DEEP_DEFAULT = (
    '{"type":"record","name":"D","fields":[{"name":"a","type":"int","default":' + "[" * DEEP + "]" * DEEP + "}]}"
)
LINKED = json.dumps(
    {"type": "record", "name": "Node", "namespace": "t", "fields": [{"name": "next", "type": ["null", "Node"]}]}
)
MUTUAL = json.dumps(
    {
        "type": "record",
        "name": "A",
        "namespace": "t",
        "fields": [
            {"name": "b", "type": {"type": "record", "name": "B", "fields": [{"name": "a", "type": ["null", "A"]}]}}
        ],
    }
)
UNDEFINED = json.dumps({"type": "record", "name": "R", "fields": [{"name": "n", "type": "Nowhere"}]})
SURROGATE = '{"type":"record","name":"R","doc":"\\ud800","fields":[]}'
NUL_NAME = json.dumps({"type": "record", "name": "R\u0000", "fields": []})
NO_DOC = _record("Anything", {"name": "caseId", "type": "string", "classification": "public"})
BREAKING = _record(
    "Anything", CASE_ID, {"name": "priority", "type": "int", "doc": "No default.", "classification": "public"}
)
OTHER_NAMESPACE = _record("Anything", CASE_ID, namespace="mx.gob.sat")
OVER_BODY = json.dumps({"schema": _record("Huge", CASE_ID, doc="x" * 1_100_000)}).encode()
DEEP_BODY = b'{"schema": "int", "references": ' + b"[" * DEEP + b"]" * DEEP + b"}"
BODY_33_DEEP = b'{"schema": "int", "metadata": ' + b'{"a":' * 32 + b"1" + b"}" * 33


def schema(text: str, **extra: Any) -> dict[str, Any]:
    return {"schema": text, **extra}


def ref(name: str = "mx.gob.crm.Other", subject: str = "@probe@", version: Any = 1) -> dict[str, Any]:
    return {"name": name, "subject": subject, "version": version}


# ------------------------------------------------------------------------------- rows

LOOKUP = "/subjects/@probe@"
REGISTER = "/subjects/@probe@/versions"
CHECK_FRESH = "/compatibility/subjects/@fresh@/versions"

CREDENTIALS = [
    Case(
        "anonymous register, schema 10,000 arrays deep",
        "POST",
        REGISTER,
        401,
        40101,
        json=schema(DEEP_ARRAYS),
        says="urn:mx:gob:crm",
    ),
    Case("anonymous register, the issue's 400 arrays", "POST", REGISTER, 401, 40101, json=schema(DEEP_400)),
    Case("anonymous register, malformed JSON body", "POST", REGISTER, 401, 40101, raw=b'{"schema": "{'),
    Case("anonymous register, body 10,000 arrays deep", "POST", REGISTER, 401, 40101, raw=DEEP_BODY),
    Case("anonymous register, text/plain", "POST", REGISTER, 401, 40101, raw=b"x", content_type="text/plain"),
    Case("anonymous register, not UTF-8", "POST", REGISTER, 401, 40101, raw=b'{"schema": "\xff"}'),
    Case("anonymous register, body over 1 MiB: too large before anything", "POST", REGISTER, 413, 413, raw=OVER_BODY),
    Case("unknown bearer token", "POST", REGISTER, 401, 40101, json=schema(DEEP_ARRAYS), authorization="Bearer nope"),
    Case("Bearer without a token", "POST", REGISTER, 401, 40101, json=schema(VALID), authorization="Bearer"),
    Case(
        "10 KB bearer token", "POST", REGISTER, 401, 40101, json=schema(VALID), authorization="Bearer " + "a" * 10_000
    ),
    Case("Basic with malformed base64", "POST", REGISTER, 401, 40101, json=schema(VALID), authorization="Basic !!!"),
    Case("Basic without a colon", "POST", REGISTER, 401, 40101, json=schema(VALID), authorization="Basic Zm9v"),
    Case("unknown scheme", "POST", REGISTER, 401, 40101, json=schema(VALID), authorization="Token abc"),
    Case("empty Authorization", "POST", REGISTER, 401, 40101, json=schema(VALID), authorization=""),
    Case(
        "another agency, deep schema: 403 before parsing",
        "POST",
        REGISTER,
        403,
        40301,
        json=schema(DEEP_ARRAYS),
        agency="sat",
        says="reserved to urn:mx:gob:crm",
    ),
    Case("another agency, malformed body", "POST", REGISTER, 403, 40301, raw=b"{oops", agency="portal"),
    Case(
        "anonymous register, unowned namespace",
        "POST",
        "/subjects/mx.gob.nadie.R/versions",
        401,
        40101,
        json=schema(VALID),
    ),
    Case("anonymous soft delete of a subject", "DELETE", "/subjects/@probe@", 401, 40101),
    Case("anonymous delete of a version", "DELETE", "/subjects/@probe@/versions/1", 401, 40101),
    Case("another agency deletes a version", "DELETE", "/subjects/@probe@/versions/1", 403, 40301, agency="sat"),
    Case("anonymous subject config, malformed body", "PUT", "/config/@probe@", 401, 40101, raw=b"{oops"),
    Case(
        "another agency sets the subject's config",
        "PUT",
        "/config/@probe@",
        403,
        40301,
        json={"compatibility": "NONE"},
        agency="sat",
    ),
    Case("anonymous delete of the subject's config", "DELETE", "/config/@probe@", 401, 40101),
    Case("anonymous global config", "PUT", "/config", 401, 40101, json={"compatibility": "NONE"}),
    Case(
        "an owner, not an admin, sets the global config",
        "PUT",
        "/config",
        403,
        40301,
        json={"compatibility": "NONE"},
        agency="crm",
        says="administrator",
    ),
    Case("anonymous global mode", "PUT", "/mode", 401, 40101, json={"mode": "IMPORT"}),
    Case(
        "an owner, not an admin, sets the global mode",
        "PUT",
        "/mode",
        403,
        40301,
        json={"mode": "IMPORT"},
        agency="crm",
    ),
    Case("anonymous subject mode, body 10,000 deep", "PUT", "/mode/@probe@", 401, 40101, raw=b"[" * DEEP),
]

MODES = [
    Case(
        "owner sets IMPORT",
        "PUT",
        "/mode/@probe@",
        403,
        40301,
        json={"mode": "IMPORT"},
        agency="crm",
        says="reserved to the policy's admins (urn:mx:gob:interop)",
    ),
    Case("owner sets import, lower case", "PUT", "/mode/@probe@", 403, 40301, json={"mode": "import"}, agency="crm"),
    Case("owner sets READONLY", "PUT", "/mode/@probe@", 403, 40301, json={"mode": "READONLY"}, agency="crm"),
    Case(
        "owner keeps READWRITE",
        "PUT",
        "/mode/@probe@",
        200,
        None,
        json={"mode": "READWRITE"},
        agency="crm",
        answer={"mode": "READWRITE"},
    ),
    Case("another agency sets READWRITE", "PUT", "/mode/@probe@", 403, 40301, json={"mode": "READWRITE"}, agency="sat"),
    Case(
        "owner gives an id outside IMPORT",
        "POST",
        REGISTER,
        422,
        42205,
        json=schema(VALID, id=7),
        agency="crm",
        says="only in IMPORT mode",
    ),
    Case(
        "owner gives a version outside IMPORT",
        "POST",
        REGISTER,
        422,
        42205,
        json=schema(VALID, version=3),
        agency="crm",
    ),
    Case(
        "admin freezes a subject",
        "PUT",
        "/mode/@frozen@",
        200,
        None,
        json={"mode": "READONLY"},
        agency="interop",
        answer={"mode": "READONLY"},
    ),
    Case(
        "owner lifts the admin's freeze",
        "PUT",
        "/mode/@frozen@",
        403,
        40301,
        json={"mode": "READWRITE"},
        agency="crm",
        says="from READONLY to READWRITE",
    ),
    Case(
        "owner registers under a frozen subject",
        "POST",
        "/subjects/@frozen@/versions",
        422,
        42205,
        json=schema(VALID),
        agency="crm",
        says="read-only",
    ),
    Case("unknown mode", "PUT", "/mode/@probe@", 422, 42204, json={"mode": "SOMETIMES"}, agency="crm"),
    Case("mode of 10,000 characters", "PUT", "/mode/@probe@", 422, 42204, json={"mode": "X" * 10_000}, agency="crm"),
    Case("mode as a number", "PUT", "/mode/@probe@", 422, 422, json={"mode": 5}, agency="crm"),
    Case("mode missing", "PUT", "/mode/@probe@", 422, 422, json={}, agency="crm"),
]

CONFIG = [
    Case("unknown level", "PUT", "/config/@probe@", 422, 42203, json={"compatibility": "SIDEWAYS"}, agency="crm"),
    Case("level as a number", "PUT", "/config/@probe@", 422, 422, json={"compatibility": 5}, agency="crm"),
    Case(
        "weaker level for a shared record",
        "PUT",
        "/config/@probe@",
        422,
        42230,
        json={"compatibility": "NONE"},
        agency="crm",
        says="compatibility.default-level",
    ),
    Case(
        "the policy's level",
        "PUT",
        "/config/@probe@",
        200,
        None,
        json={"compatibility": "FULL_TRANSITIVE"},
        agency="crm",
        answer={"compatibility": "FULL_TRANSITIVE"},
    ),
    Case("config body is an array", "PUT", "/config/@probe@", 422, 422, json=[1], agency="crm"),
    Case("config of a subject never configured", "GET", "/config/@fresh@", 404, 40408),
    Case("mode of a subject never set", "GET", "/mode/@fresh@", 404, 40409),
    Case("owner deletes a config never set", "DELETE", "/config/@fresh@", 404, 40408, agency="crm"),
]

LIMITS = [
    Case(
        "compatibility: arrays 10,000 deep, anonymous",
        "POST",
        CHECK_FRESH,
        422,
        42209,
        json=schema(DEEP_ARRAYS),
        says="[max_depth]",
    ),
    Case("compatibility: records 10,000 deep", "POST", CHECK_FRESH, 422, 42209, json=schema(_deep_text("records"))),
    Case("compatibility: unions 10,000 deep", "POST", CHECK_FRESH, 422, 42209, json=schema(_deep_text("unions"))),
    Case("compatibility: maps 10,000 deep", "POST", CHECK_FRESH, 422, 42209, json=schema(_deep_text("maps"))),
    Case(
        "compatibility: the issue's 400 arrays",
        "POST",
        CHECK_FRESH,
        422,
        42209,
        json=schema(DEEP_400),
        says="deeper than 64 levels",
    ),
    Case("lookup: arrays 10,000 deep", "POST", LOOKUP, 422, 42209, json=schema(DEEP_ARRAYS)),
    Case("lookup: records 10,000 deep", "POST", LOOKUP, 422, 42209, json=schema(_deep_text("records"))),
    Case("lookup: the issue's 400 arrays", "POST", LOOKUP, 422, 42209, json=schema(DEEP_400)),
    Case("owner registers arrays 10,000 deep", "POST", REGISTER, 422, 42209, json=schema(DEEP_ARRAYS), agency="crm"),
    Case("owner registers the issue's 400 arrays", "POST", REGISTER, 422, 42209, json=schema(DEEP_400), agency="crm"),
    Case(
        "64 levels: the limit itself",
        "POST",
        CHECK_FRESH,
        200,
        None,
        json=schema(AT_DEPTH_LIMIT),
        answer={"is_compatible": True},
    ),
    Case("65 levels", "POST", CHECK_FRESH, 422, 42209, json=schema(OVER_DEPTH_LIMIT), says="at /items/items"),
    Case("a default 10,000 deep", "POST", CHECK_FRESH, 422, 42209, json=schema(DEEP_DEFAULT), says="/fields/0/default"),
    Case("a 300 KB doc", "POST", CHECK_FRESH, 422, 42209, json=schema(BIG_DOC), says="[max_bytes]"),
    Case("a 300 KB string schema", "POST", LOOKUP, 422, 42209, json=schema(HUGE_STRING), says="[max_bytes]"),
    Case("owner registers a 300 KB doc", "POST", REGISTER, 422, 42209, json=schema(BIG_DOC), agency="crm"),
    Case("1,001 fields", "POST", CHECK_FRESH, 422, 42209, json=schema(WIDE), says="[max_fields] at /fields/1000"),
    Case("owner registers 1,001 fields", "POST", REGISTER, 422, 42209, json=schema(WIDE), agency="crm"),
    Case("10,001 enum symbols", "POST", CHECK_FRESH, 422, 42209, json=schema(MANY_SYMBOLS), says="[max_symbols]"),
    Case(
        "a union of 101 branches",
        "POST",
        CHECK_FRESH,
        422,
        42209,
        json=schema(WIDE_UNION),
        says="[max_union_branches] at /fields/0/type",
    ),
    Case(
        "101 references",
        "POST",
        CHECK_FRESH,
        422,
        42209,
        json=schema(VALID, references=[ref()] * 101),
        says="[max_references]",
    ),
    Case("body over 1 MiB, declared", "POST", CHECK_FRESH, 413, 413, raw=OVER_BODY, says="at most 1048576 bytes"),
    Case("body over 1 MiB, chunked", "POST", CHECK_FRESH, 413, 413, raw=OVER_BODY, chunked=True),
    Case("body nested 10,000 deep", "POST", CHECK_FRESH, 400, 400, raw=DEEP_BODY, says="deeper than 32 levels"),
    Case("body nested 33 deep", "POST", CHECK_FRESH, 400, 400, raw=BODY_33_DEEP),
    Case(
        "a recursive record (a linked list)",
        "POST",
        CHECK_FRESH,
        200,
        None,
        json=schema(LINKED),
        answer={"is_compatible": True},
    ),
    Case(
        "mutually recursive records",
        "POST",
        CHECK_FRESH,
        200,
        None,
        json=schema(MUTUAL),
        answer={"is_compatible": True},
    ),
    Case("an undefined named type", "POST", CHECK_FRESH, 422, 42201, json=schema(UNDEFINED), says="Nowhere"),
    Case("an unpaired surrogate", "POST", CHECK_FRESH, 422, 42201, json=schema(SURROGATE), says="unpaired surrogate"),
    Case("a NUL in a name", "POST", CHECK_FRESH, 422, 42201, json=schema(NUL_NAME)),
]

BODIES = [
    Case("malformed JSON", "POST", LOOKUP, 400, 400, raw=b"{oops", says="Malformed JSON"),
    Case("not UTF-8", "POST", LOOKUP, 400, 400, raw=b'{"schema": "\xff\xfe"}'),
    Case("an integer of 5,000 digits", "POST", LOOKUP, 400, 400, raw=b'{"schema": "int", "id": ' + b"9" * 5_000 + b"}"),
    Case("empty body", "POST", LOOKUP, 422, 422, raw=b""),
    Case("null", "POST", LOOKUP, 422, 422, raw=b"null"),
    Case("an array", "POST", LOOKUP, 422, 422, json=[]),
    Case("a string", "POST", LOOKUP, 422, 422, json="schema"),
    Case("schema is a number", "POST", LOOKUP, 422, 422, json={"schema": 5}),
    Case("schema is null", "POST", LOOKUP, 422, 422, json={"schema": None}),
    Case("schema is an object, not its text", "POST", LOOKUP, 422, 422, json={"schema": {"type": "int"}}),
    Case("schema is not JSON", "POST", LOOKUP, 422, 42201, json=schema("{not json"), says="not JSON"),
    Case("an unknown field", "POST", LOOKUP, 422, 422, json=schema(VALID, surprise=1), says="surprise"),
    Case("PROTOBUF", "POST", LOOKUP, 422, 42201, json=schema(VALID, schemaType="PROTOBUF")),
    Case("JSON schema type", "POST", LOOKUP, 422, 42201, json=schema(VALID, schemaType="JSON")),
    Case("metadata (data contracts)", "POST", LOOKUP, 422, 42201, json=schema(VALID, metadata={"a": 1})),
    Case("a rule set", "POST", LOOKUP, 422, 42201, json=schema(VALID, ruleSet={"domainRules": []})),
    Case("reference version 0", "POST", CHECK_FRESH, 422, 422, json=schema(VALID, references=[ref(version=0)])),
    Case(
        "reference version 'latest'",
        "POST",
        CHECK_FRESH,
        422,
        422,
        json=schema(VALID, references=[ref(version="latest")]),
    ),
    Case(
        "reference without a subject",
        "POST",
        CHECK_FRESH,
        422,
        422,
        json=schema(VALID, references=[{"name": "a.B", "version": 1}]),
    ),
    Case("reference with an empty name", "POST", CHECK_FRESH, 422, 422, json=schema(VALID, references=[ref(name="")])),
    Case("references is a string", "POST", CHECK_FRESH, 422, 422, json=schema(VALID, references="x")),
    Case(
        "reference to a version that does not exist",
        "POST",
        CHECK_FRESH,
        422,
        42201,
        json=schema(VALID, references=[ref(version=99)]),
        says="does not exist",
    ),
    Case(
        "reference to a subject that does not exist",
        "POST",
        CHECK_FRESH,
        422,
        42201,
        json=schema(VALID, references=[ref(subject="@fresh@")]),
    ),
    Case(
        "reference name with a control character",
        "POST",
        CHECK_FRESH,
        422,
        42201,
        json=schema(VALID, references=[ref(name="a\u0001b")]),
        says="/references/0/name",
    ),
    Case("id 0", "POST", REGISTER, 422, 422, json=schema(VALID, id=0), agency="crm"),
    Case("id 2^31", "POST", REGISTER, 422, 422, json=schema(VALID, id=2**31), agency="crm"),
    Case("id as text", "POST", REGISTER, 422, 422, json=schema(VALID, id="abc"), agency="crm"),
    Case("version -1 in the body", "POST", REGISTER, 422, 422, json=schema(VALID, version=-1), agency="crm"),
    Case("a field without doc", "POST", REGISTER, 422, 42230, json=schema(NO_DOC), agency="crm", says="doc.field"),
    Case(
        "a breaking change",
        "POST",
        REGISTER,
        409,
        409,
        json=schema(BREAKING),
        agency="crm",
        says="compatibility.breaking-change",
    ),
    Case(
        "another agency's namespace under the subject",
        "POST",
        REGISTER,
        422,
        42230,
        json=schema(OTHER_NAMESPACE),
        agency="crm",
        says="ownership.owned-namespace",
    ),
]

CONTENT_TYPES = [
    Case("text/plain", "POST", LOOKUP, 415, 415, json=schema(VALID), content_type="text/plain", says="text/plain"),
    Case("a form", "POST", LOOKUP, 415, 415, raw=b"schema=x", content_type="application/x-www-form-urlencoded"),
    Case("multipart", "POST", LOOKUP, 415, 415, raw=b"--b--", content_type="multipart/form-data; boundary=b"),
    Case("XML", "POST", LOOKUP, 415, 415, raw=b"<schema/>", content_type="application/xml"),
    Case("no Content-Type", "POST", LOOKUP, 415, 415, json=schema(VALID), content_type=None),
    Case(
        "JSON in Latin-1",
        "POST",
        LOOKUP,
        415,
        415,
        json=schema(VALID),
        content_type="application/json; charset=latin-1",
    ),
    Case(
        "a +json type not the registry's",
        "POST",
        LOOKUP,
        415,
        415,
        json=schema(VALID),
        content_type="application/merge-patch+json",
    ),
    Case("a malformed Content-Type", "POST", LOOKUP, 415, 415, json=schema(VALID), content_type="application/"),
    Case(
        "text/plain on a subject's config",
        "PUT",
        "/config/@probe@",
        415,
        415,
        raw=b"{}",
        content_type="text/plain",
        agency="crm",
    ),
    Case(
        "JSON in UTF-8 is accepted",
        "POST",
        CHECK_FRESH,
        200,
        None,
        json=schema(VALID),
        content_type="application/json; charset=utf-8",
        answer={"is_compatible": True},
    ),
    Case(
        "Confluent's default type is accepted",
        "POST",
        CHECK_FRESH,
        200,
        None,
        json=schema(VALID),
        content_type="application/vnd.schemaregistry+json",
        answer={"is_compatible": True},
    ),
    Case(
        "upper-case JSON type is accepted",
        "POST",
        CHECK_FRESH,
        200,
        None,
        json=schema(VALID),
        content_type="APPLICATION/JSON",
        answer={"is_compatible": True},
    ),
]

VERSIONS = [
    Case("version latest", "GET", "/subjects/@probe@/versions/latest", 200, None),
    Case("version -1", "GET", "/subjects/@probe@/versions/-1", 200, None),
    Case("version 1", "GET", "/subjects/@probe@/versions/1", 200, None),
    Case("version 0", "GET", "/subjects/@probe@/versions/0", 422, 42202, says="not a valid version"),
    Case("version abc", "GET", "/subjects/@probe@/versions/abc", 422, 42202),
    Case("version -2", "GET", "/subjects/@probe@/versions/-2", 422, 42202),
    Case("version 2^31", "GET", "/subjects/@probe@/versions/2147483648", 422, 42202),
    Case("version of 5,000 digits", "GET", "/subjects/@probe@/versions/" + "9" * 5_000, 422, 42202),
    Case("version 1.0", "GET", "/subjects/@probe@/versions/1.0", 422, 42202),
    Case("version +1", "GET", "/subjects/@probe@/versions/+1", 422, 42202),
    Case("version 1e3", "GET", "/subjects/@probe@/versions/1e3", 422, 42202),
    Case("version in Arabic-Indic digits", "GET", "/subjects/@probe@/versions/%D9%A3", 422, 42202),
    Case("version superscript one", "GET", "/subjects/@probe@/versions/%C2%B9", 422, 42202),
    Case("version 2, not registered", "GET", "/subjects/@probe@/versions/2", 404, 40402),
    Case("latest of a subject never registered", "GET", "/subjects/@fresh@/versions/latest", 404, 40401),
    Case("raw schema of version abc", "GET", "/subjects/@probe@/versions/abc/schema", 422, 42202),
    Case("referencedby of version 0", "GET", "/subjects/@probe@/versions/0/referencedby", 422, 42202),
    Case(
        "compatibility with version abc, deep schema: version first",
        "POST",
        "/compatibility/subjects/@probe@/versions/abc",
        422,
        42202,
        json=schema(DEEP_ARRAYS),
    ),
    Case(
        "compatibility with version 99",
        "POST",
        "/compatibility/subjects/@probe@/versions/99",
        404,
        40402,
        json=schema(VALID),
    ),
    Case(
        "compatibility with version 3 of a fresh subject",
        "POST",
        "/compatibility/subjects/@fresh@/versions/3",
        404,
        40401,
        json=schema(VALID),
    ),
    Case("owner deletes version abc", "DELETE", "/subjects/@probe@/versions/abc", 422, 42202, agency="crm"),
    Case("owner deletes version 0", "DELETE", "/subjects/@probe@/versions/0", 422, 42202, agency="crm"),
    Case("schema id abc", "GET", "/schemas/ids/abc", 404, 404),
    Case("schema id -1", "GET", "/schemas/ids/-1", 404, 40403),
    Case("schema id 0", "GET", "/schemas/ids/0", 404, 40403),
    Case("schema id 10^20", "GET", "/schemas/ids/100000000000000000000", 404, 40403),
    Case("schema id of 5,000 digits", "GET", "/schemas/ids/" + "9" * 5_000, 404, 404),
    Case("versions of schema id abc", "GET", "/schemas/ids/abc/versions", 404, 404),
]

SUBJECTS = [
    Case(
        "subject of 1,011 characters",
        "POST",
        "/subjects/mx.gob.crm." + "A" * 1_000 + "/versions",
        422,
        42208,
        json=schema(VALID),
        agency="crm",
        says="the limit is 1000",
    ),
    Case(
        "subject with a control character",
        "POST",
        "/subjects/mx.gob.crm.A%01/versions",
        422,
        42208,
        json=schema(VALID),
        agency="crm",
        says="control character",
    ),
    Case(
        "subject with DEL", "POST", "/subjects/mx.gob.crm.A%7F/versions", 422, 42208, json=schema(VALID), agency="crm"
    ),
    Case(
        "config of a subject with a control character",
        "PUT",
        "/config/mx.gob.crm.A%0A",
        422,
        42208,
        json={"compatibility": "FULL_TRANSITIVE"},
        agency="crm",
    ),
    Case("versions of a subject never registered", "GET", "/subjects/@fresh@/versions", 404, 40401),
    Case("versions of a NUL subject", "GET", "/subjects/%00/versions", 404, 40401),
    Case("versions of a subject in invalid UTF-8", "GET", "/subjects/%FF%FE/versions", 404, 40401),
    Case(
        "another agency registers in the subject's namespace",
        "POST",
        REGISTER,
        403,
        40301,
        json=schema(VALID),
        agency="transparencia",
    ),
]

ROUTES = [
    Case("an unknown route", "GET", "/no/such/route", 404, 404),
    Case("an unknown method", "PATCH", "/subjects", 405, 405),
    Case("deleting the global config", "DELETE", "/config", 405, 405),
    Case("a flag that is not a boolean", "GET", "/subjects?deleted=maybe", 422, 422),
    Case(
        "a subject prefix of 10,000 characters", "GET", "/subjects?subjectPrefix=" + "x" * 10_000, 200, None, answer=[]
    ),
]

CASES: list[Case] = CREDENTIALS + MODES + CONFIG + LIMITS + BODIES + CONTENT_TYPES + VERSIONS + SUBJECTS + ROUTES
