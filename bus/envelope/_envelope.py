"""CloudEvents 1.0 over Kafka headers, binary mode.

Spec: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md
(section 3.2, binary content mode): the message value is the event data; ``content-type`` carries
``datacontenttype``; every other attribute is a UTF-8 header ``ce_<name>``. W3C trace context travels
in the plain ``traceparent`` / ``tracestate`` headers, where OpenTelemetry propagators look for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import os
import re
import time as _time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from bus._built import header_names, worth_remembering
from bus._errors import ValidationError
from bus.records import RecordType

__all__ = [
    "CONTENT_TYPE_AVRO",
    "REQUIRED_HEADERS",
    "SPEC_VERSION",
    "Envelope",
    "EnvelopeError",
    "dataschema_uri",
    "event_type",
    "kafka_key",
    "new_envelope",
    "new_event_id",
]

SPEC_VERSION = "1.0"
CONTENT_TYPE_AVRO = "application/avro"
# CloudEvents' required attributes, plus what every Enlace record carries: when, about whom, in what.
REQUIRED_HEADERS = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "content-type",
)

_CORE = frozenset({"specversion", "id", "source", "type", "time", "subject", "dataschema", "datacontenttype"})
_ATTRIBUTE_OF_HEADER = {f"ce_{name}": name for name in _CORE if name != "datacontenttype"} | {
    "content-type": "datacontenttype",
    "traceparent": "traceparent",
    "tracestate": "tracestate",
}
_REQUIRED_ATTRIBUTES = tuple((_ATTRIBUTE_OF_HEADER[name], name) for name in REQUIRED_HEADERS)
_REQUIRED_SET = frozenset(attribute for attribute, _ in _REQUIRED_ATTRIBUTES)
_OPTIONAL_ABSENT = {"dataschema": None, "traceparent": None, "tracestate": None}
_LONGEST_EXTENSION_NAME = 20
_EXTENSION_NAME = re.compile(r"[a-z0-9]{1,20}")  # CloudEvents attribute naming (section 3.1.1)
_LONGEST_TIME = 64  # an RFC 3339 timestamp with nanoseconds and an offset is 35 characters
# CloudEvents 1.0 type system, String: no control characters (U+0000-U+001F, U+007F-U+009F), no
# noncharacters; surrogates cannot come out of a strict UTF-8 decoding.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{_NONCHARACTERS}]")
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")


class EnvelopeError(ValidationError):
    """An envelope attribute or Kafka header is missing or malformed.

    Attributes:
        path: the header's name (``ce_id``, ``traceparent``...).
        rule: ``envelope.missing`` or ``envelope.malformed``.
    """


@dataclasses.dataclass(frozen=True)
class Envelope:
    """The CloudEvents attributes of one record on the bus.

    Attributes:
        id: unique per ``source`` (from :func:`new_event_id` unless the sender fixed it).
        source: the sending agency's URN, e.g. ``urn:mx:gob:crm``.
        type: the record's full name and version, e.g. ``mx.gob.crm.CaseOpened.v2``.
        time: when the record was produced, RFC 3339 with an offset.
        subject: whom the record is about: its Kafka key (a CURP, an RFC, a case id).
        dataschema: URI of the record's schema (see :func:`dataschema_uri`).
        datacontenttype: the value's media type, ``application/avro`` (Confluent wire format).
        traceparent: W3C trace context, when the record is traced.
        tracestate: W3C vendor trace state.
        extensions: other CloudEvents attributes (``dataclassification``, ``correlationid``, the
            signature headers...): lowercase ``a-z0-9`` names of at most 20 characters, string values.
            Treat as read-only; use :meth:`with_extensions` for a changed copy.
        specversion: always ``1.0``.
    """

    id: str
    source: str
    type: str
    time: str | None = None
    subject: str | None = None
    dataschema: str | None = None
    datacontenttype: str = CONTENT_TYPE_AVRO
    traceparent: str | None = None
    tracestate: str | None = None
    extensions: dict[str, str] = dataclasses.field(default_factory=dict)
    specversion: str = SPEC_VERSION

    def __post_init__(self) -> None:
        _require("ce_id", self.id)
        _require("ce_source", self.source)
        _require("ce_type", self.type)
        _check_specversion(self.specversion)
        if self.time is not None:
            _check_time(self.time)
        if self.traceparent is not None:
            _check_traceparent(self.traceparent)
        _check_extensions(self.extensions)

    @classmethod
    def _of_checked(cls, attributes: dict[str, Any]) -> Envelope:
        """An envelope of attributes the caller has checked, every field given.

        For the per-message path (:func:`new_envelope`, :meth:`from_headers`): a frozen dataclass's
        ``__init__`` sets each field through ``object.__setattr__``, which costs more than the checks.
        """
        envelope = object.__new__(cls)
        envelope.__dict__.update(attributes)
        return envelope

    @property
    def record_name(self) -> str:
        """The record's full name, from :attr:`type` (``mx.gob.crm.CaseOpened``)."""
        return self.type.rsplit(".v", 1)[0]

    @property
    def record_version(self) -> int | None:
        """The writer's catalog version, from :attr:`type`; None when the type names none."""
        _, _, version = self.type.rpartition(".v")
        return int(version) if version.isdigit() else None

    def with_extensions(self, **extensions: str) -> Envelope:
        """A copy with more (or replaced) extension attributes, e.g. the signature headers."""
        return dataclasses.replace(self, extensions={**self.extensions, **extensions})

    def to_headers(self) -> list[tuple[str, bytes]]:
        """The Kafka headers: ``ce_<attribute>``, ``content-type``, ``traceparent``/``tracestate``."""
        headers = [
            ("ce_specversion", b"1.0"),
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
        ]
        if self.time is not None:
            headers.append(("ce_time", self.time.encode()))
        if self.subject is not None:
            headers.append(("ce_subject", self.subject.encode()))
        if self.dataschema is not None:
            headers.append(("ce_dataschema", self.dataschema.encode()))
        headers.append(("content-type", self.datacontenttype.encode()))
        if self.traceparent is not None:
            headers.append(("traceparent", self.traceparent.encode()))
        if self.tracestate is not None:
            headers.append(("tracestate", self.tracestate.encode()))
        for name, value in self.extensions.items():
            headers.append(("ce_" + name, value.encode()))
        return headers

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[str, bytes | None]]) -> Envelope:
        """Read an envelope from Kafka headers.

        Headers that are neither ``ce_*``, ``content-type`` nor trace context are ignored (they belong
        to someone else); every ``ce_*`` header that is not a core attribute becomes an extension.

        Raises:
            EnvelopeError: a required header (:data:`REQUIRED_HEADERS`) is missing, or a header is
                repeated, NULL, empty (``tracestate`` may be), not UTF-8, holds characters the
                CloudEvents string type forbids (controls, noncharacters) or is malformed;
                ``content-type`` is not ``application/avro``. The error's ``path`` names the header;
                its message never repeats the value.
        """
        if not isinstance(headers, (list, tuple)):
            headers = list(headers)
        plan = _plan_of(headers)
        if plan is not None:  # names seen before, each envelope header once, every extension name valid
            attributes: dict[str, Any] = {}
            extensions: dict[str, str] = {}
            for index, target_is_extension, field_name, name in plan:
                raw = headers[index][1]
                try:
                    value = raw.decode()  # type: ignore[union-attr]  # bytes, nearly always
                except (AttributeError, UnicodeDecodeError):
                    value = _text(name, raw)
                if target_is_extension:
                    extensions[field_name] = value
                else:
                    attributes[field_name] = value
            return cls._checked(attributes, extensions, names_checked=True)
        attributes = {}
        extensions = {}
        for name, raw in headers:
            attribute = _ATTRIBUTE_OF_HEADER.get(name)
            if attribute is not None:
                target = attributes
            elif name.startswith("ce_"):
                target, attribute = extensions, name[3:]
            else:
                continue  # not an envelope header: it belongs to someone else
            if attribute in target:
                raise _error(name, "envelope.malformed", raw, f"header {name} appears more than once")
            try:
                target[attribute] = raw.decode()  # type: ignore[union-attr]  # bytes, nearly always
            except (AttributeError, UnicodeDecodeError):
                target[attribute] = _text(name, raw)
        return cls._checked(attributes, extensions, names_checked=False)

    @classmethod
    def _checked(cls, attributes: dict[str, Any], extensions: dict[str, str], *, names_checked: bool) -> Envelope:
        """The envelope of attributes read from headers, once they pass the rules :meth:`from_headers`
        names (``names_checked``: the extensions' names were checked with their layout)."""
        # One test for the usual case; which header is missing or empty is worked out only when one is.
        if not (attributes.keys() >= _REQUIRED_SET and all(attributes.values()) and all(extensions.values())):
            _check_required(attributes)  # names the missing header
            _check_not_empty(attributes, extensions)  # an optional header, when present, has a value
        # Every forbidden character is unprintable, so printable text (nearly always) needs no search.
        text = "".join(attributes.values()) + "".join(extensions.values())
        if not text.isprintable() and _FORBIDDEN.search(text):
            _check_characters(attributes, extensions)
        _check_specversion(attributes["specversion"])
        if attributes["datacontenttype"] != CONTENT_TYPE_AVRO:
            raise _error(
                "content-type",
                "envelope.content_type",
                attributes["datacontenttype"],
                f"content-type must be {CONTENT_TYPE_AVRO}: Enlace records are Avro in the Confluent wire format",
            )
        _check_time(attributes["time"])
        if "traceparent" in attributes:
            _check_traceparent(attributes["traceparent"])
        if not names_checked:
            _check_extensions(extensions)
        return cls._of_checked({**_OPTIONAL_ABSENT, **attributes, "extensions": extensions})


# How a list of header names maps to the envelope: ``(position, is_extension, attribute, header name)``
# per envelope header, worked out once per list of names (bounded: the names come from the wire). A
# list with an envelope header twice or an extension name CloudEvents forbids has no plan: such
# headers take from_headers' walk, which names the problem.
_Plan = tuple[tuple[int, bool, str, str], ...]
_PLANS: dict[tuple[str, ...], _Plan | None] = {}
_PLANS_LIMIT = 1024


def _plan_of(headers: list[tuple[str, bytes | None]] | tuple[tuple[str, bytes | None], ...]) -> _Plan | None:
    try:
        names = header_names(headers)
    except (TypeError, ValueError):
        return None  # not pairs: the walk says what it makes of them
    try:
        return _PLANS[names]
    except KeyError:
        pass
    except TypeError:
        return None  # an unhashable name: the walk refuses it
    found = _planned(names)
    if len(_PLANS) < _PLANS_LIMIT and worth_remembering(names):
        _PLANS[names] = found
    return found


def _planned(names: tuple[str, ...]) -> _Plan | None:
    plan: list[tuple[int, bool, str, str]] = []
    seen: set[str] = set()
    for index, name in enumerate(names):
        if not isinstance(name, str):
            return None
        attribute = _ATTRIBUTE_OF_HEADER.get(name)
        is_extension = attribute is None and name.startswith("ce_")
        if is_extension:
            attribute = name[3:]
            if not (len(attribute) <= _LONGEST_EXTENSION_NAME and _is_extension_name(attribute)):
                return None
        if attribute is None:
            continue  # not an envelope header
        if name in seen:
            return None
        seen.add(name)
        plan.append((index, is_extension, attribute, name))
    return tuple(plan)


def event_type(record_type: RecordType) -> str:
    """The CloudEvents ``type`` of a record version: ``mx.gob.crm.CaseOpened.v2``."""
    return f"{record_type.full_name}.v{record_type.version}"


def dataschema_uri(record_type: RecordType) -> str:
    """The ``dataschema`` URI of a record version: its registry subject and catalog version,
    ``urn:enlace:schema:mx.gob.crm.CaseOpened:2``."""
    return f"urn:enlace:schema:{record_type.subject}:{record_type.version}"


@functools.cache  # once per record version: the same for each of its records
def _static_attributes(record_type: RecordType) -> tuple[str, str, str]:
    """A record version's ``type``, ``dataschema`` and ``dataclassification``."""
    return event_type(record_type), dataschema_uri(record_type), record_type.classification


class _EventIds:
    """Event ids in the UUID version 4 layout at the cost of a counter: ``str(uuid.uuid4())`` per
    record (4-5 µs measured, about half of everything else an envelope costs; and its ``os.urandom``
    releases the GIL to the Kafka client's I/O thread) would dominate the envelope. Each process
    draws one random UUID and numbers its events in the last 48 bits: unique per source, which is
    what CloudEvents asks of ``id``. A forked child draws its own."""

    def __init__(self) -> None:
        self._draw()
        os.register_at_fork(after_in_child=self._draw)

    def _draw(self) -> None:
        self._prefix = str(uuid.uuid4())[:24]  # "xxxxxxxx-xxxx-4xxx-yxxx-": version and variant kept
        self._numbers = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._numbers):012x}"


class _Clock:
    """RFC 3339 UTC timestamps with milliseconds, formatted once per millisecond (records sent in
    the same millisecond share the text)."""

    def __init__(self) -> None:
        self.millisecond = -1
        self.text = ""

    def now(self) -> str:
        millisecond = _time.time_ns() // 1_000_000
        if millisecond != self.millisecond:
            second, fraction = divmod(millisecond, 1000)
            stamp = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(second))
            self.millisecond, self.text = millisecond, f"{stamp}.{fraction:03d}Z"
        return self.text


_IDS = _EventIds()


def new_event_id() -> str:
    """A fresh CloudEvents ``id``, from the same cheap source :func:`new_envelope` uses (no system call
    per record). For callers that need the id before the envelope exists, e.g. to name a span."""
    return _IDS.next()


_CLOCK = _Clock()


def new_envelope(
    record_type: RecordType,
    *,
    source: str,
    subject: str,
    traceparent: str | None = None,
    tracestate: str | None = None,
    id: str | None = None,  # the CloudEvents attribute's name
    time: dt.datetime | str | None = None,
    dataschema: str | None = None,
    **extensions: str,
) -> Envelope:
    """A new envelope for one record.

    Args:
        record_type: the record's type and version (names ``type`` and ``dataschema``).
        source: the sending agency's URN.
        subject: the record's key (``RecordType.key_of(data)`` or ``model.key()``).
        traceparent: W3C trace context to continue, if any.
        tracestate: W3C vendor trace state, if any.
        id: the event id; when None, the next of :func:`new_event_id` (one random UUID per process
            numbered by a counter: unique per source, but not unguessable).
        time: when the record was produced; now (UTC) when None.
        dataschema: the schema URI; :func:`dataschema_uri` when None (pass one naming the registry's
            schema id if you have it).
        **extensions: more CloudEvents attributes, e.g. ``correlationid="..."``. ``dataclassification``
            defaults to the record's most protected field classification.

    Raises:
        EnvelopeError: an attribute is empty or malformed.
    """
    kind, schema_uri, classification = _static_attributes(record_type)
    # What the caller gave is checked here; what this function makes (type, time, id) is good by construction.
    _require("ce_source", source)
    _require("ce_subject", subject)
    if id is None:
        id = _IDS.next()
    else:
        _require("ce_id", id)
    moment = _CLOCK.now() if time is None else _time_text(time)
    if traceparent is not None:
        _check_traceparent(traceparent)
    _check_extensions(extensions)
    extensions.setdefault("dataclassification", classification)
    return Envelope._of_checked(
        {
            "id": id,
            "source": source,
            "type": kind,
            "time": moment,
            "subject": subject,
            "dataschema": dataschema or schema_uri,
            "datacontenttype": CONTENT_TYPE_AVRO,
            "traceparent": traceparent,
            "tracestate": tracestate,
            "extensions": extensions,
            "specversion": SPEC_VERSION,
        }
    )


def kafka_key(record_type: RecordType, data: Mapping[str, Any]) -> bytes:
    """The Kafka key of a record: its key field's value (CURP, RFC, case id), UTF-8.

    Raises:
        ValidationError: the record has no value in its key field.
    """
    return record_type.key_of(data).encode()


def _error(header: str, rule: str, value: Any, message: str) -> EnvelopeError:
    return EnvelopeError(message, path=header, rule=rule, value=value)


def _text(name: str, raw: Any) -> str:
    """A header's value that is not UTF-8 bytes: a str passes, NULL and the rest are refused."""
    if raw is None:
        raise _error(name, "envelope.null", raw, f"header {name} is NULL (it has no value)")
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise _error(name, "envelope.malformed", raw, f"header {name} holds {type(raw).__name__}, not bytes")
    raw = bytes(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(name, "envelope.malformed", raw, f"header {name} is not UTF-8 (byte {exc.start})") from exc


def _require(header: str, value: Any) -> None:
    if type(value) is not str or not value:
        raise _error(header, "envelope.missing", value, f"{header} must be a non-empty string")


def _check_required(core: dict[str, str]) -> None:
    for attribute, name in _REQUIRED_ATTRIBUTES:
        if not core.get(attribute):
            raise _error(name, "envelope.missing", None, f"required header {name} is missing or empty")


def _header_of(attribute: str, *, extension: bool) -> str:
    if extension:
        return "ce_" + attribute
    return next(name for name, known in _ATTRIBUTE_OF_HEADER.items() if known == attribute)


def _check_not_empty(core: dict[str, str], extensions: dict[str, str]) -> None:
    for attributes, extension in ((core, False), (extensions, True)):
        for attribute, value in attributes.items():
            if not value and attribute != "tracestate":  # W3C allows an empty tracestate list
                name = _header_of(attribute, extension=extension)
                raise _error(name, "envelope.missing", value, f"header {name} is empty; when present it needs a value")


def _check_characters(core: dict[str, str], extensions: dict[str, str]) -> None:
    for attributes, extension in ((core, False), (extensions, True)):
        for attribute, value in attributes.items():
            if _FORBIDDEN.search(value):
                name = _header_of(attribute, extension=extension)
                raise _error(
                    name,
                    "envelope.malformed",
                    value,
                    f"header {name} holds control characters or noncharacters, which CloudEvents strings forbid",
                )


def _check_specversion(value: str) -> None:
    if value != SPEC_VERSION:
        raise _error("ce_specversion", "envelope.malformed", value, "ce_specversion must be 1.0")


def _time_text(time: dt.datetime | str) -> str:
    if isinstance(time, dt.datetime):
        if time.tzinfo is None:
            raise _error("ce_time", "envelope.malformed", time, "ce_time needs a time zone")
        return time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    _check_time(time)
    return time


def _check_time(value: str) -> None:
    # The length bound keeps a hostile sender's long values out of the cache below.
    if not (isinstance(value, str) and len(value) <= _LONGEST_TIME and _is_rfc3339(value)):
        raise _error(
            "ce_time",
            "envelope.malformed",
            value,
            "ce_time is not an RFC 3339 timestamp with an offset (e.g. 2025-06-02T15:04:05Z)",
        )


@functools.lru_cache(maxsize=1024)  # records sent in the same millisecond share their ce_time
def _is_rfc3339(value: str) -> bool:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment.tzinfo is not None and "T" in value.upper()


def _check_traceparent(value: str) -> None:
    if not _TRACEPARENT.fullmatch(value):
        raise _error(
            "traceparent",
            "envelope.malformed",
            value,
            "traceparent is not W3C trace context (version-traceid-parentid-flags)",
        )


def _check_extensions(extensions: dict[str, str]) -> None:
    for name, value in extensions.items():
        if not (isinstance(name, str) and len(name) <= _LONGEST_EXTENSION_NAME and _is_extension_name(name)):
            raise _error(
                f"ce_{name}",
                "envelope.malformed",
                value,
                f"extension name {name!r} must be 1-20 lowercase letters or digits and not a core attribute",
            )
        if type(value) is not str:
            raise _error(f"ce_{name}", "envelope.malformed", value, f"extension {name} must be a string")


@functools.lru_cache(maxsize=1024)  # records carry the same few extensions
def _is_extension_name(name: str) -> bool:
    return name not in _CORE and _EXTENSION_NAME.fullmatch(name) is not None
