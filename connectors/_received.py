"""What a publish returns, what a handler receives beside its record, and how it refuses one."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bus import EnlaceError, TransportError
from connectors._store import Transaction

__all__ = ["Delivery", "DeliveryFuture", "Received", "RecordRefused"]

_log = logging.getLogger(__name__)

_REASON = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


class RecordRefused(EnlaceError):
    """Raised by a handler for a record it can never apply: dead-lettered at once with ``reason``,
    without the retries an ordinary exception gets.

    The message goes into the dead letter and the log: name fields and rules, never a record's
    values (a CURP, an RFC, a name).

    Args:
        reason: the dead letter's reason slug, lowercase words joined by hyphens (``unhandled-type``).
        message: what is wrong and what to do about it.
    """

    def __init__(self, reason: str, message: str) -> None:
        if not _REASON.fullmatch(reason):
            raise ValueError(f"a dead letter's reason is lowercase words joined by hyphens, not {reason!r}")
        super().__init__(message, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    """Where Kafka stored a published record (acknowledged by all in-sync replicas)."""

    topic: str
    partition: int
    offset: int
    ce_id: str


# Guards every DeliveryFuture's state change and the making of its event; held for a few
# instructions, by the producer's thread settling one and by the rare caller waiting on one.
_settling = threading.Lock()


class DeliveryFuture:
    """A published record's :class:`Delivery`, once Kafka answers: ``publish_async``'s result.

    ``result``, ``exception``, ``done`` and ``add_done_callback`` behave as
    :class:`concurrent.futures.Future`'s (a timeout raises :class:`TimeoutError`); it cannot be
    cancelled (the record is already on its way). It is not a ``concurrent.futures.Future``
    because a burst keeps tens of thousands of records waiting for their answer, and that one
    makes a condition, two locks and three containers for each whether anyone waits or not
    (about a third of the objects the garbage collector then scans): this makes one object, and
    an event only for a caller who waits before the answer came.
    """

    __slots__ = ("_callbacks", "_delivery", "_done", "_error", "_event")

    def __init__(self) -> None:
        self._done = False
        self._delivery: Delivery | None = None
        self._error: TransportError | None = None
        self._event: threading.Event | None = None
        self._callbacks: list[Callable[[DeliveryFuture], object]] | None = None

    def done(self) -> bool:
        """Whether Kafka answered (or the send failed)."""
        return self._done

    def cancelled(self) -> bool:
        """Always False: a record handed to the producer cannot be called back."""
        return False

    def cancel(self) -> bool:
        """Always False (see :meth:`cancelled`)."""
        return False

    def result(self, timeout: float | None = None) -> Delivery:
        """Where the record was stored.

        Raises:
            TransportError: Kafka refused it or did not acknowledge it.
            TimeoutError: no answer within ``timeout`` seconds.
        """
        self._wait(timeout)
        if self._error is not None:
            raise self._error
        assert self._delivery is not None
        return self._delivery

    def exception(self, timeout: float | None = None) -> TransportError | None:
        """The send's failure, or None once acknowledged.

        Raises:
            TimeoutError: no answer within ``timeout`` seconds.
        """
        self._wait(timeout)
        return self._error

    def add_done_callback(self, callback: Callable[[DeliveryFuture], object]) -> None:
        """Call ``callback(future)`` once it is done (at once, here, if it is already)."""
        with _settling:
            if not self._done:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(callback)
                return
        self._call(callback)

    def set_result(self, delivery: Delivery) -> None:
        """Settle it with where the record was stored (the connector does, on the producer's thread)."""
        self._settle(delivery, None)

    def set_exception(self, error: TransportError) -> None:
        """Settle it with the send's failure."""
        self._settle(None, error)

    def _settle(self, delivery: Delivery | None, error: TransportError | None) -> None:
        with _settling:
            if self._done:
                raise RuntimeError("a DeliveryFuture is settled once")
            self._delivery, self._error, self._done = delivery, error, True
            callbacks, event, self._callbacks = self._callbacks, self._event, None
        if event is not None:
            event.set()
        for callback in callbacks or ():
            self._call(callback)

    def _wait(self, timeout: float | None) -> None:
        if self._done:
            return
        with _settling:
            if self._done:
                return
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        if not event.wait(timeout):
            raise TimeoutError(f"no answer from Kafka within {timeout}s")

    def _call(self, callback: Callable[[DeliveryFuture], object]) -> None:
        try:
            callback(self)
        except Exception:  # as concurrent.futures does: a failing callback must not stop the others
            _log.exception("a delivery callback failed")


@dataclass(frozen=True)
class Received:
    """A received record's metadata; every field comes from a verified signature or from Kafka.

    Attributes:
        sender: the sending agency's URN, verified against its key (the claimed ``ce_source`` when
            verification is off).
        key_id: the id of the key that signed the record (None when verification is off).
        ce_id, ce_type, subject, time: the CloudEvents attributes.
        traceparent, tracestate: the W3C trace context the sender attached.
        topic, partition, offset, key: where the record was read from.
        group: the consumer group.
        attempt: 1 on the first call, 2 on the first retry, ...
        transaction: write the handler's effects (``execute``, ``executemany``) and the records it
            emits (``emit``) through this to get them exactly once.
    """

    sender: str
    key_id: str | None
    ce_id: str
    ce_type: str
    subject: str | None
    time: str | None
    traceparent: str | None
    tracestate: str | None
    topic: str
    partition: int
    offset: int
    key: bytes | None
    group: str
    attempt: int
    transaction: Transaction
