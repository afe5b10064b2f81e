"""What every part of the registry shares: the log, the in-memory state and parsed schemas.

Reads answer from memory (the hot ones from prepared bytes, ``_answers``); when a read misses
(404), the instance first catches up with the topic so that an id or version just registered
through another instance is found. Writes decide on the latest state as the only writer (see
``bus.registry._log``). A schema a request brings is held to the registry's ``SchemaLimits``;
stored schemas, accepted under limits no higher than the ceiling, are read back against the ceiling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from bus._errors import PolicyViolation
from bus.policy import Policy
from bus.registry._canonical import Reference
from bus.registry._errors import ErrorCode, RegistryError, not_found, unprocessable
from bus.registry._limits import CEILING, SchemaLimits, abbreviated, limit_exceeded
from bus.registry.compatibility import CompatibilityCache, ParsedSchema, parse_schema
from bus.registry.server._answers import PreparedAnswers
from bus.registry.server._credentials import AgencyCredentials
from bus.registry.server._state import RegistryState, SchemaEntry

__all__ = [
    "CatchUps",
    "RegistryCore",
    "SchemaLog",
    "Version",
    "check_references",
    "check_subject",
    "parse_version",
    "policy_violation",
    "policy_violations",
]

#: The longest subject name accepted (characters); longer ones are 42208.
MAX_SUBJECT_CHARS = 1000

T = TypeVar("T")
Version = int | str


class SchemaLog(Protocol):
    """Where the registry's records live (``KafkaSchemaLog`` in production)."""

    def start(self, apply: Callable[[bytes, bytes | None], None]) -> None: ...
    def sync(self, target: int | None = None) -> None: ...
    def write(self, decide: Callable[[], Sequence[tuple[bytes, bytes | None]]]) -> None: ...
    def close(self) -> None: ...


def parse_version(version: str | int) -> int | None:
    """A path version as a number, or None for ``latest``/``-1``.

    Raises:
        RegistryError: 42202 for anything but a positive 32-bit integer, ``latest`` or -1.
    """
    text = str(version).strip()
    if text.lower() == "latest" or text == "-1":
        return None
    # "¹".isdigit() is true too; and int() refuses more than 4300 digits, so count them first.
    if text.isascii() and text.isdigit() and len(text) <= 10 and 1 <= int(text) <= 2**31 - 1:
        return int(text)
    raise unprocessable(
        ErrorCode.INVALID_VERSION,
        f"The specified version '{abbreviated(str(version))}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    )


def _name_problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    if len(name) > MAX_SUBJECT_CHARS:
        return f"it is {len(name)} characters long; the limit is {MAX_SUBJECT_CHARS}"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 or 0xD800 <= ord(c) < 0xE000 for c in name):
        return "it holds a control character or an unpaired surrogate"
    return None


def check_subject(subject: str) -> None:
    """Refuse a subject name no write may create: empty, too long, or holding control characters.

    Raises:
        RegistryError: 42208 saying which.
    """
    why = _name_problem(subject)
    if why is not None:
        raise unprocessable(ErrorCode.INVALID_SUBJECT, f"Invalid subject {abbreviated(subject)!r}: {why}")


def check_references(references: Sequence[Reference]) -> None:
    """Refuse references whose name or subject no subject could have (they would be stored as given).

    Raises:
        RegistryError: 42201 naming the reference's pointer in the request.
    """
    for index, ref in enumerate(references):
        for part in ("name", "subject"):
            why = _name_problem(getattr(ref, part))
            if why is not None:
                raise unprocessable(
                    ErrorCode.INVALID_SCHEMA, f"Invalid schema: reference at /references/{index}/{part}: {why}"
                )


def policy_violations(violations: Sequence[Any]) -> RegistryError:
    """The 422/42230 answer listing every policy rule a request breaks (rule, pointer, sentence)."""
    return RegistryError(
        "Schema violates the Interoperability Policy: " + "; ".join(str(v) for v in violations),
        http_status=422,
        error_code=ErrorCode.POLICY_VIOLATION,
        details=[{"rule": v.rule, "pointer": v.pointer, "message": v.message} for v in violations],
    )


def policy_violation(rule: str, pointer: str, sentence: str) -> RegistryError:
    """The 422/42230 answer for one broken policy rule."""
    return policy_violations([PolicyViolation(sentence, rule=rule, pointer=pointer or "/")])


class CatchUps:
    """Reads that missed, each waiting on one catch-up with the log per question: the first to miss
    makes it, and every request asking the same question meanwhile shares its outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[Hashable, Future[Any]] = {}

    def once(self, question: Hashable, catch_up: Callable[[], T]) -> T:
        """``catch_up()``'s result, computed once for all who ask ``question`` while it runs.

        Raises:
            Whatever ``catch_up`` raised, to each of them.
        """
        with self._lock:
            running = self._running.get(question)
            first = running is None
            if running is None:
                running = self._running[question] = Future()
        if not first:
            return running.result()  # bounded: the catch-up is bounded by the log's timeout
        try:
            result = catch_up()
        except BaseException as exc:
            running.set_exception(exc)
            raise
        else:
            running.set_result(result)
            return result
        finally:
            with self._lock:
                del self._running[question]


class RegistryCore:
    """The state one registry instance holds, and the reads every operation builds on.

    Args:
        log: the storage log.
        policy: the policy to enforce, or None for a plain registry (no rules, no ownership).
        credentials: agency credentials, required for writes when a policy is set.
        limits: what a schema given to the registry may hold; ``SchemaLimits()`` when omitted.
        cache_compatibility: remember the schema pairs found compatible, so that later checks
            against the same stored versions skip them (False checks every pair every time).
    """

    def __init__(
        self,
        log: SchemaLog,
        *,
        policy: Policy | None = None,
        credentials: AgencyCredentials | None = None,
        limits: SchemaLimits | None = None,
        cache_compatibility: bool = True,
    ) -> None:
        self._log = log
        self._policy = policy
        self._credentials = credentials or AgencyCredentials({})
        self._limits = limits or SchemaLimits()
        self._state = RegistryState()
        self._lock = threading.RLock()
        self._parsed: dict[int, ParsedSchema] = {}
        self._answers = PreparedAnswers()
        self._catch_ups = CatchUps()
        self._compatibility = CompatibilityCache() if cache_compatibility else None

    @property
    def policy(self) -> Policy | None:
        return self._policy

    def start(self) -> None:
        """Replay the log into memory and follow it."""
        self._log.start(self._apply)

    def close(self) -> None:
        self._log.close()

    def _apply(self, key: bytes, value: bytes | None) -> None:
        with self._lock:
            self._answers.applied(self._state.apply(key, value))

    def _read(self, read: Callable[[], T]) -> T:
        try:
            with self._lock:
                return read()
        except RegistryError as exc:
            if exc.http_status != 404:
                raise
        self._log.sync()
        with self._lock:
            return read()

    def _entries_or_404(self, subject: str, *, deleted: bool) -> list[SchemaEntry]:
        entries = self._state.entries(subject, deleted=deleted)
        if not entries:
            raise not_found(ErrorCode.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
        return entries

    def _entry(self, subject: str, version: Version, *, deleted: bool) -> SchemaEntry:
        number = parse_version(version)
        if number is None:
            return self._entries_or_404(subject, deleted=deleted)[-1]
        if subject not in self._state.subjects:
            raise not_found(ErrorCode.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
        entry = self._state.subjects[subject].get(number)
        if entry is None or (entry.deleted and not deleted):
            raise not_found(ErrorCode.VERSION_NOT_FOUND, f"Version {number} not found.")
        return entry

    def _schema_or_404(self, schema_id: int) -> tuple[str, tuple[Reference, ...]]:
        found = self._state.schemas.get(schema_id)
        if found is None:
            raise not_found(ErrorCode.SCHEMA_NOT_FOUND, f"Schema {schema_id} not found")
        return found

    def parsed(self, schema_id: int) -> ParsedSchema:
        """The parsed schema of a stored id (parsed once, with its references, against the ceiling)."""
        return self._parsed_stored(schema_id, ())

    def _parsed_stored(self, schema_id: int, chain: tuple[int, ...]) -> ParsedSchema:
        with self._lock:
            cached = self._parsed.get(schema_id)
            if cached is not None:
                return cached
            if schema_id in chain:
                # The API cannot make a cycle (a reference must exist first), but the topic is input too.
                cycle = " -> ".join(str(i) for i in (*chain, schema_id))
                raise unprocessable(ErrorCode.INVALID_SCHEMA, f"Invalid schema: references form a cycle: ids {cycle}")
            if len(chain) > CEILING.max_reference_depth:
                raise limit_exceeded(
                    "max_reference_depth",
                    "/references",
                    f"stored schema {chain[0]} starts a chain of more than {CEILING.max_reference_depth} references",
                )
            text, references = self._schema_or_404(schema_id)
            dependencies = self._dependencies(references, (*chain, schema_id))
            cached = parse_schema(text, references=references, dependencies=dependencies, limits=CEILING)
            self._parsed[schema_id] = cached
            return cached

    def _dependencies(self, references: Sequence[Reference], chain: tuple[int, ...] = ()) -> list[ParsedSchema]:
        deps = []
        for ref in references:
            entry = self._state.subjects.get(ref.subject, {}).get(ref.version)
            if entry is None:
                raise unprocessable(
                    ErrorCode.INVALID_SCHEMA,
                    f"Invalid schema: reference {abbreviated(ref.name)!r} points to subject "
                    f"{abbreviated(ref.subject)!r} version {ref.version}, which does not exist",
                )
            deps.append(self._parsed_stored(entry.id, chain))
        return deps

    def parse(self, text: str, references: Sequence[Reference]) -> ParsedSchema:
        """Parse a schema a request brings, held to the registry's limits, its references resolved here.

        Only resolving the references holds the state lock; the parse itself holds none.

        Raises:
            RegistryError: 42209 over a limit, 42201 when invalid or a reference does not resolve.
        """
        if len(references) > self._limits.max_references:
            raise limit_exceeded(
                "max_references",
                f"/references/{self._limits.max_references}",
                f"{len(references)} references; the limit is {self._limits.max_references}",
            )
        check_references(references)
        with self._lock:
            dependencies = self._dependencies(references)
        return parse_schema(text, references=references, dependencies=dependencies, limits=self._limits)

    def current(self, new: ParsedSchema) -> ParsedSchema:
        """``new`` as parsed against the state now: the same object unless a reference changed since.

        A write parses before it waits for the writer's turn; this runs in its decision, on fresh
        state, so that a reference deleted meanwhile is noticed without parsing twice in the common case.
        """
        with self._lock:
            dependencies = self._dependencies(new.references)
        if len(dependencies) == len(new.dependencies) and all(
            a is b for a, b in zip(dependencies, new.dependencies, strict=True)
        ):
            return new
        return parse_schema(new.text, references=new.references, dependencies=dependencies, limits=self._limits)
