"""How much work one schema may cost the registry: the limits a schema brought by a request is held to.

The checks run from the cheapest up, so that a hostile schema costs no more than the check that
refuses it: its size in bytes (before anything reads it), its nesting depth (a scan of the text made
before the JSON parser, whose recursion a deep enough document exhausts), then on the parsed JSON,
before Avro sees it, the number of fields, enum symbols and union branches; the references a request
gives, and how deep their chain goes, are checked as they are resolved. A refusal is HTTP 422 with
Confluent's error code 42209 (schema too large), naming the limit and a JSON pointer.

These checks read JSON only (no Avro library): the service also bounds request bodies with the same
scan, and the client side of ``bus.registry`` must import without Avro.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from bus._errors import ConfigError
from bus.registry._errors import ErrorCode, RegistryError

__all__ = [
    "CEILING",
    "SchemaLimits",
    "abbreviated",
    "check_counts",
    "check_text",
    "json_pointer",
    "limit_exceeded",
    "nesting_pointer",
]

# Python's JSON parser and Avro's schema parser recurse once or more per level; 128 levels of JSON
# leave them (and the policy and compatibility walks) far from the interpreter's recursion limit.
_DEPTH_CEILING = 128
# Resolving a reference resolves its references first: one stack frame group per link of the chain.
_REFERENCE_DEPTH_CEILING = 32
# A JSON pointer in a message names each key in at most this many characters.
_TOKEN_CHARS = 64


@dataclass(frozen=True, kw_only=True)
class SchemaLimits:
    """The most a schema given to the registry may hold. Every limit is a positive integer.

    Attributes:
        max_bytes: UTF-8 bytes of the schema text.
        max_depth: nesting of JSON objects and arrays in the schema text (at most 128).
        max_fields: record fields, all records of the schema together.
        max_symbols: enum symbols, all enums of the schema together.
        max_union_branches: branches of any one union.
        max_references: references given with the schema.
        max_reference_depth: links in the longest chain of references (a reference's own
            references count one more; at most 32).

    Raises:
        ConfigError: a limit is not a positive integer, or is above its ceiling.
    """

    max_bytes: int = 256 * 1024
    max_depth: int = 64
    max_fields: int = 1_000
    max_symbols: int = 10_000
    max_union_branches: int = 100
    max_references: int = 100
    max_reference_depth: int = 10

    def __post_init__(self) -> None:
        for limit in fields(self):
            value = getattr(self, limit.name)
            if type(value) is not int or value < 1:
                raise ConfigError(f"schema limit {limit.name} must be a positive integer, got {value!r}")
        if self.max_depth > _DEPTH_CEILING:
            raise ConfigError(
                f"schema limit max_depth is {self.max_depth}; at most {_DEPTH_CEILING} keeps the parsers "
                "within Python's recursion limit"
            )
        if self.max_reference_depth > _REFERENCE_DEPTH_CEILING:
            raise ConfigError(
                f"schema limit max_reference_depth is {self.max_reference_depth}; "
                f"at most {_REFERENCE_DEPTH_CEILING} is allowed"
            )


#: The highest limits allowed. Schemas already stored were accepted under limits no higher than
#: these, so the registry reads them back against these without ever refusing one it once took.
CEILING = SchemaLimits(
    max_bytes=64 * 1024 * 1024,
    max_depth=_DEPTH_CEILING,
    max_fields=10_000_000,
    max_symbols=10_000_000,
    max_union_branches=10_000_000,
    max_references=10_000_000,
    max_reference_depth=_REFERENCE_DEPTH_CEILING,
)


def limit_exceeded(limit: str, pointer: str, sentence: str) -> RegistryError:
    """The 422/42209 answer for a schema over one of its limits.

    Args:
        limit: the limit's name, e.g. ``max_depth``.
        pointer: JSON pointer to where the limit is crossed (``/`` for the whole schema).
        sentence: what is over the limit, and the limit.
    """
    return RegistryError(
        f"Schema too large: [{limit}] at {pointer}: {sentence}",
        http_status=422,
        error_code=ErrorCode.SCHEMA_TOO_LARGE,
        details=[{"limit": limit, "pointer": pointer, "message": sentence}],
    )


def abbreviated(text: str, chars: int = _TOKEN_CHARS) -> str:
    """``text`` cut to ``chars`` characters with ``…``: what a message may quote of a caller's value."""
    return text if len(text) <= chars else text[:chars] + "…"


def json_pointer(tokens: Iterable[str | int]) -> str:
    """An RFC 6901 pointer from keys and indexes; a key longer than 64 characters is cut, with ``…``."""
    parts = [abbreviated(str(token)).replace("~", "~0").replace("/", "~1") for token in tokens]
    return "/" + "/".join(parts) if parts else "/"


def check_text(text: str, limits: SchemaLimits) -> None:
    """Check a schema's size and nesting depth without parsing it.

    Raises:
        RegistryError: 42209 naming ``max_bytes`` or ``max_depth``, and where.
    """
    # Four bytes per character at most: only a text that might be too long is encoded to know.
    if len(text) * 4 > limits.max_bytes:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limits.max_bytes:
            raise limit_exceeded("max_bytes", "/", f"the schema is {size} bytes; the limit is {limits.max_bytes}")
    pointer = nesting_pointer(text, limits.max_depth)
    if pointer is not None:
        raise limit_exceeded(
            "max_depth",
            pointer,
            f"the schema nests JSON objects and arrays deeper than {limits.max_depth} levels",
        )


_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
# A JSON string (escapes included) or one structural character; everything else is skipped.
_TOKENS = re.compile(_STRING + r"|[\[\]{},:]")
_STRINGS = re.compile(_STRING)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_SQUARE = str.maketrans("{}", "[]")


def _balanced_within(text: str, limit: int) -> bool:
    """Whether the text's brackets, outside strings, close properly within ``limit`` levels.

    The fast path of :func:`nesting_pointer`, in C-speed string operations: each pass removes every
    innermost pair, so a text whose brackets all go within ``limit`` passes nests no deeper. Any
    other text (too deep, or unbalanced) gets the token scan.
    """
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text)).translate(_SQUARE)
    for _ in range(limit):
        inner = brackets.replace("[]", "")
        if len(inner) == len(brackets):
            return not brackets  # empty: balanced; else unbalanced, for the scan to locate
        brackets = inner
    return not brackets


class _Container:
    """Where a scan stands inside one JSON object or array."""

    __slots__ = ("expects_key", "index", "is_object", "key")

    def __init__(self, is_object: bool) -> None:
        self.is_object = is_object
        self.key = ""
        self.index = 0
        self.expects_key = is_object

    def token(self) -> str | int:
        return self.key if self.is_object else self.index


def nesting_pointer(text: str, limit: int) -> str | None:
    """Where a JSON text first nests objects and arrays deeper than ``limit``, or None.

    A scan of the text's tokens, not a parse: it costs no recursion, so it is safe on any input,
    and it stops at the first container too deep. Malformed JSON is the parser's to report.

    Args:
        text: the JSON text.
        limit: the deepest nesting allowed (a top-level object is depth 1).

    Returns:
        The JSON pointer of the first object or array at depth ``limit + 1``, or None.
    """
    if text.count("{") + text.count("[") <= limit or _balanced_within(text, limit):
        return None
    stack: list[_Container] = []
    for match in _TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first in "{[":
            if len(stack) == limit:
                return json_pointer([c.token() for c in stack])
            stack.append(_Container(first == "{"))
        elif not stack:
            continue
        elif first in "]}":
            stack.pop()
        elif first == ",":
            top = stack[-1]
            top.index += 1
            top.expects_key = top.is_object
        elif first == ":":
            stack[-1].expects_key = False
        elif stack[-1].expects_key:
            stack[-1].key = _key(token)
    return None


def _key(token: str) -> str:
    try:
        return str(json.loads(token))
    except ValueError:
        return token.strip('"')


def check_counts(node: Any, limits: SchemaLimits) -> None:
    """Count a parsed schema's fields, enum symbols and union branches against the limits.

    Walks the JSON as Avro types (a field's ``default`` is a value, not a type, and is not walked).
    Call it only after :func:`check_text`: the walk recurses once per level the depth check allowed.

    Raises:
        RegistryError: 42209 naming the limit and the pointer of the first item over it.
    """
    _Counts(limits).walk(node, ())


class _Counts:
    def __init__(self, limits: SchemaLimits) -> None:
        self.limits = limits
        self.fields = 0
        self.symbols = 0

    def walk(self, node: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(node, list):
            if len(node) > self.limits.max_union_branches:
                raise limit_exceeded(
                    "max_union_branches",
                    json_pointer(path),
                    f"a union of {len(node)} branches; the limit is {self.limits.max_union_branches}",
                )
            for index, branch in enumerate(node):
                self.walk(branch, (*path, index))
        elif isinstance(node, dict):
            self._walk_object(node, path)

    def _walk_object(self, node: dict[str, Any], path: tuple[str | int, ...]) -> None:
        kind = node.get("type")
        if isinstance(kind, dict | list):
            self.walk(kind, (*path, "type"))
        elif kind in ("record", "error") and isinstance(node.get("fields"), list):
            self._walk_fields(node["fields"], (*path, "fields"))
        elif kind == "enum" and isinstance(node.get("symbols"), list):
            self.symbols += len(node["symbols"])
            if self.symbols > self.limits.max_symbols:
                first_over = len(node["symbols"]) - (self.symbols - self.limits.max_symbols)
                raise limit_exceeded(
                    "max_symbols",
                    json_pointer((*path, "symbols", first_over)),
                    f"more than {self.limits.max_symbols} enum symbols in the schema",
                )
        elif kind == "array":
            self.walk(node.get("items"), (*path, "items"))
        elif kind == "map":
            self.walk(node.get("values"), (*path, "values"))

    def _walk_fields(self, members: list[Any], path: tuple[str | int, ...]) -> None:
        for index, member in enumerate(members):
            self.fields += 1
            if self.fields > self.limits.max_fields:
                raise limit_exceeded(
                    "max_fields",
                    json_pointer((*path, index)),
                    f"more than {self.limits.max_fields} record fields in the schema",
                )
            if isinstance(member, dict):
                self.walk(member.get("type"), (*path, index, "type"))
