"""Records published together, signed together: one batch signature per burst of sends.

``publish_async`` hands its prepared (unsigned) record to a :class:`SigningBatcher`, which signs and
sends what it holds when it holds ``max_records``, when the first record it holds has waited
``max_wait_s`` (the producer's linger: a record never waits longer for its signature), or when
asked (``flush``; a blocking ``publish`` asks at once, so a lone record is signed alone, in form 2).
Records are sent in the order they were handed over, so a key's records keep their order, and no
lock is held while a batch is sent (a blocked send must not stop the producer's callbacks publishing).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from bus import TransportError
from bus.identity import AgencyKey, sign_batch

__all__ = ["SigningBatcher", "sign_outgoing"]


class _Unsigned(Protocol):
    @property
    def topic(self) -> str: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes: ...

    @property
    def headers(self) -> list[tuple[str, bytes]]: ...


class _Waiting(Protocol):
    def sending(self, record: Any, headers: list[tuple[str, bytes]]) -> None: ...

    def acknowledged(self, meta: Any) -> None: ...

    def failed(self, exc: TransportError) -> None: ...


Send = Callable[..., Any]
"""``send(topic, key=, value=, headers=)`` returning a ``SendFuture`` (the transport's producer)."""


def sign_outgoing(agency_key: AgencyKey, records: Sequence[_Unsigned], *, max_records: int) -> list[list[Any]]:
    """Every record's signed headers, signed in batches of at most ``max_records`` in the given order."""
    signed: list[list[Any]] = []
    for start in range(0, len(records), max_records):
        chunk = records[start : start + max_records]
        signed += sign_batch(agency_key, [(r.headers, r.key, r.value, r.topic) for r in chunk])
    return signed


class SigningBatcher:
    """Signs and sends one connector's published records in batches bounded by count and time.

    No lock is held while a batch is sent: kafka-python's ``send`` can block (a full buffer, a wait for
    metadata) until its I/O thread has delivered earlier records, and that thread runs the delivery
    callbacks, which may publish (``add``) again. Batches are taken from the held records under a lock,
    queued in that order, and signed and sent by one thread at a time, in queue order, so a key's
    records keep their order; a thread that finds another sending leaves its batch to that one instead
    of waiting (``flush`` and ``close`` wait for it).

    Args:
        agency_key: the agency's signing key.
        send: the producer's send.
        max_records: the most records one signature covers.
        max_wait_s: the longest a record waits for its batch to be signed and sent.
    """

    def __init__(self, agency_key: AgencyKey, send: Send, *, max_records: int, max_wait_s: float) -> None:
        self._key, self._send = agency_key, send
        self._max_records, self._max_wait_s = max(1, max_records), max(0.0, max_wait_s)
        self._pending: list[tuple[_Unsigned, _Waiting]] = []
        self._due: float | None = None  # when the oldest pending record must be sent
        self._taken: deque[list[tuple[_Unsigned, _Waiting]]] = deque()  # batches to send, in order
        self._condition = threading.Condition()  # guards the three above and _closed
        self._sending = threading.Lock()  # held by the one thread signing and sending taken batches
        self._closed = False
        self._thread: threading.Thread | None = None
        self.batches = 0

    def add(self, record: _Unsigned, waiting: _Waiting) -> None:
        """Hold ``record`` for the next batch; ``waiting`` learns the broker's answer."""
        with self._condition:
            if self._closed:
                raise TransportError("the connector is closed: nothing more can be published")
            self._pending.append((record, waiting))
            if len(self._pending) < self._max_records:
                if len(self._pending) == 1:
                    self._due = time.monotonic() + self._max_wait_s
                    if self._thread is None:
                        self._thread = threading.Thread(target=self._run, name="enlace-signing", daemon=True)
                        self._thread.start()
                    self._condition.notify_all()
                return
            self._take()
        self._send_taken(wait=False)

    def flush(self) -> None:
        """Sign and send what is held now; return once it is handed to the producer."""
        with self._condition:
            self._take()
        self._send_taken(wait=True)

    def close(self) -> None:
        """Send what is held and stop the timer thread."""
        with self._condition:
            self._take()
            self._closed = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._send_taken(wait=True)

    def _run(self) -> None:
        while True:
            with self._condition:
                if self._closed:
                    return
                if self._due is None:
                    self._condition.wait()
                    continue
                remaining = self._due - time.monotonic()
                if remaining > 0:
                    self._condition.wait(remaining)
                    continue
                self._take()
            self._send_taken(wait=False)

    def _take(self) -> None:
        """Queue the held records as one batch (the condition's lock is held)."""
        if self._pending:
            self._taken.append(self._pending)
            self._pending, self._due = [], None
            self.batches += 1

    def _send_taken(self, *, wait: bool) -> None:
        """Sign and send the queued batches in order, unless another thread is (when not ``wait``)."""
        while self._sending.acquire(blocking=wait):
            try:
                while batch := self._next_taken():
                    self._sign_and_send(batch)
            finally:
                self._sending.release()
            with self._condition:  # a batch queued after the last look, by a thread that left it to this one
                if not self._taken:
                    return

    def _next_taken(self) -> list[tuple[_Unsigned, _Waiting]] | None:
        with self._condition:
            return self._taken.popleft() if self._taken else None

    def _sign_and_send(self, batch: list[tuple[_Unsigned, _Waiting]]) -> None:
        try:
            signed = sign_outgoing(self._key, [record for record, _ in batch], max_records=self._max_records)
        except Exception as exc:  # a record the signer refuses (prepared ones never are): fail them all
            for record, waiting in batch:
                waiting.sending(record, record.headers)
                waiting.failed(TransportError(f"records not signed: {exc}"))
            return
        for (record, waiting), headers in zip(batch, signed, strict=True):
            waiting.sending(record, headers)
            try:
                sent = self._send(record.topic, key=record.key, value=record.value, headers=headers)
            except TransportError as exc:
                waiting.failed(exc)
                continue
            sent.notify(waiting)
