"""The hot reads' answers, as response bytes prepared once per change of the state.

Every consumer's deserializer asks ``GET /schemas/ids/{id}`` on a cache miss, and tools poll the
subject reads; the answers change only when the log applies a record. So each answer is rendered
once, the first time it is asked after a change, and served as bytes from then on: the service looks
an answer up on the event loop without a lock, a thread or JSON. Folding a record drops what it may
have changed (``Change``): any record drops the remembered "not found" answers, a version drops the
subject reads, a forgotten id its answers by id.

A "not found" answer is remembered only after a catch-up with the log found nothing, and only until
the log moves or ``MISSING_SECONDS`` pass, whichever comes first: the same unknown id asked again
and again costs no Kafka round trip, and an id registered meanwhile through another instance is
served as soon as this instance folds its record.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bus.registry._errors import RegistryError
from bus.registry._limits import abbreviated
from bus.registry.server._state import Change

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MISSING_SECONDS",
    "Answer",
    "HotRead",
    "PreparedAnswers",
    "Read",
    "error_body",
    "render_json",
]

#: Longest error message answered (characters): a message may quote what a caller sent.
MAX_MESSAGE_CHARS = 10_000
#: Longest time a "not found" answer is remembered when the log does not move meanwhile.
MISSING_SECONDS = 1.0
#: Most "not found" answers remembered at once, and most bytes they may hold together (their
#: questions and bodies): hostile callers may ask for any number of ids, or of subjects as long as
#: a request line allows, which the 404's message quotes.
MAX_MISSING = 10_000
MAX_MISSING_BYTES = 4 * 1024 * 1024


def render_json(content: Any) -> bytes:
    """The registry's JSON: compact, UTF-8 (an unpaired surrogate a caller sent, quoted back, escaped)."""
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(content, separators=(",", ":")).encode("ascii")


def error_body(exc: RegistryError) -> bytes:
    """Confluent's error body for ``exc``, its message cut to ``MAX_MESSAGE_CHARS``."""
    body = exc.to_body()
    body["message"] = abbreviated(str(body["message"]), MAX_MESSAGE_CHARS)
    return render_json(body)


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer: its status and its body's bytes."""

    status: int
    body: bytes


class Read(enum.Enum):
    """The hot reads, by route."""

    SCHEMA_BY_ID = "GET /schemas/ids/{id}"
    RAW_SCHEMA_BY_ID = "GET /schemas/ids/{id}/schema"
    SUBJECTS = "GET /subjects"
    VERSIONS = "GET /subjects/{s}/versions"
    VERSION = "GET /subjects/{s}/versions/{v}"
    RAW_VERSION_SCHEMA = "GET /subjects/{s}/versions/{v}/schema"


_BY_ID = frozenset({Read.SCHEMA_BY_ID, Read.RAW_SCHEMA_BY_ID})


@dataclass(frozen=True, slots=True)
class HotRead:
    """One hot read's question: the route and what its path and query name.

    Attributes:
        read: the route.
        schema_id: the id (reads by id).
        subject: the subject (subject reads; ``""`` for ``GET /subjects``).
        version: the version number, or None for ``latest`` (``VERSION``, ``RAW_VERSION_SCHEMA``).
        deleted: whether soft-deleted versions count (``?deleted=true``).
    """

    read: Read
    schema_id: int = 0
    subject: str = ""
    version: int | None = None
    deleted: bool = False


class PreparedAnswers:
    """Answers prepared from the state, dropped as the log changes it.

    ``get`` takes no lock (the event loop calls it); everything else runs under the registry's state
    lock, so that an answer is prepared from, and stored against, one state.

    Args:
        clock: seconds, monotonic (``time.monotonic``; a test's own clock).
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._by_id: dict[HotRead, Answer] = {}
        self._by_subject: dict[HotRead, Answer] = {}
        self._missing: dict[HotRead, tuple[float, Answer]] = {}
        self._missing_bytes = 0

    def get(self, question: HotRead) -> Answer | None:
        """The prepared answer, or None when it must be prepared (or a catch-up made) first."""
        found = (self._by_id if question.read in _BY_ID else self._by_subject).get(question)
        if found is not None:
            return found
        missing = self._missing.get(question)
        if missing is not None and self._clock() < missing[0]:
            return missing[1]
        return None

    def keep(self, question: HotRead, answer: Answer) -> Answer:
        """Keep an answer prepared from the current state; a "not found" one (which must come from a
        state just caught up with the log) until the log moves or ``MISSING_SECONDS`` pass."""
        if answer.status == 404:
            self._forget_missing(question)
            size = _size(question, answer)
            while self._missing and (
                len(self._missing) >= MAX_MISSING or self._missing_bytes + size > MAX_MISSING_BYTES
            ):
                self._forget_missing(next(iter(self._missing)))  # the oldest first
            self._missing[question] = (self._clock() + MISSING_SECONDS, answer)
            self._missing_bytes += size
        elif question.read in _BY_ID:
            self._by_id[question] = answer
        else:
            self._by_subject[question] = answer
        return answer

    def applied(self, change: Change) -> None:
        """Drop what a folded record may have changed; every record, even a skipped one, moves the log."""
        self._missing = {}
        self._missing_bytes = 0
        if change & Change.SUBJECTS:
            self._by_subject = {}
        if change & Change.IDS:
            self._by_id = {}

    def _forget_missing(self, question: HotRead) -> None:
        found = self._missing.pop(question, None)
        if found is not None:
            self._missing_bytes -= _size(question, found[1])

    def __len__(self) -> int:
        return len(self._by_id) + len(self._by_subject) + len(self._missing)


def _size(question: HotRead, answer: Answer) -> int:
    return len(question.subject) + len(answer.body)
