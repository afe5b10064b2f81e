"""Records published together, signed together: one batch signature per burst of sends.

``publish_async`` hands its prepared (unsigned) record to a :class:`SigningBatcher`, which signs and
sends what it holds when it holds ``max_records``, when the first record it holds has waited
``max_wait_s`` (the producer's linger: a record never waits longer for its signature), or when
asked (``flush``; a blocking ``publish`` asks at once, so a lone record is signed alone, in form 2).
Records are sent in the order they were handed over, so a key's records keep their order.
"""

from __future__ import annotations

import threading
import time
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
    def signed(self, headers: list[tuple[str, bytes]]) -> None: ...

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
        self._condition = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self.batches = 0

    def add(self, record: _Unsigned, waiting: _Waiting) -> None:
        """Hold ``record`` for the next batch; ``waiting`` learns the broker's answer."""
        with self._condition:
            if self._closed:
                raise TransportError("the connector is closed: nothing more can be published")
            self._pending.append((record, waiting))
            if len(self._pending) >= self._max_records:
                self._send_pending()
            elif len(self._pending) == 1:
                self._due = time.monotonic() + self._max_wait_s
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="enlace-signing", daemon=True)
                    self._thread.start()
                self._condition.notify_all()

    def flush(self) -> None:
        """Sign and send what is held now."""
        with self._condition:
            self._send_pending()

    def close(self) -> None:
        """Send what is held and stop the timer thread."""
        with self._condition:
            self._send_pending()
            self._closed = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        with self._condition:
            while not self._closed:
                if self._due is None:
                    self._condition.wait()
                    continue
                remaining = self._due - time.monotonic()
                if remaining > 0:
                    self._condition.wait(remaining)
                else:
                    self._send_pending()

    def _send_pending(self) -> None:
        """Sign and send the held records (the condition's lock is held: sends keep their order)."""
        pending, self._pending, self._due = self._pending, [], None
        if not pending:
            return
        self.batches += 1
        try:
            signed = sign_outgoing(self._key, [record for record, _ in pending], max_records=self._max_records)
        except Exception as exc:  # a record the signer refuses (prepared ones never are): fail them all
            for _, waiting in pending:
                waiting.failed(TransportError(f"records not signed: {exc}"))
            return
        for (record, waiting), headers in zip(pending, signed, strict=True):
            waiting.signed(headers)
            try:
                sent = self._send(record.topic, key=record.key, value=record.value, headers=headers)
            except TransportError as exc:
                waiting.failed(exc)
                continue
            sent.add_callback(waiting.acknowledged)
            sent.add_errback(waiting.failed)
