"""The outbox publisher: sends committed outbox rows to Kafka off the consumer thread.

A background thread, woken after every commit that may have added rows (a consumer's batch, a
``connector.transaction()`` block) and every few seconds for rows another process left behind. Each
round claims pending rows oldest first (per-row claims: processes sharing the file never send a row
twice), sends their stored bytes, has the producer send them at once (a round is a batch already:
waiting for the producer's linger would only delay it), waits for the acknowledgements and marks
them sent. A failure
gives the rows back and waits (bounded exponential backoff, cut short by :meth:`stop`); a row
resent after a crash carries the ce_id fixed when it was emitted, so receivers apply it once. The
same thread prunes the store at start and every ``prune_every_s``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from connectors._store import AgencyStore, Outgoing

__all__ = ["OutboxPublisher"]

_log = logging.getLogger("connectors")

# Longer than a send may take (the publisher waits _ACK_TIMEOUT_S for each acknowledgement), so a
# live publisher's claim is never taken over.
_CLAIM_TTL_S = 45.0
_ACK_TIMEOUT_S = 30.0
_ROUND_ROWS = 500
_POLL_S = 2.0  # for rows that another process of the agency claimed and gave back, or left behind
_FIRST_BACKOFF_S, _MAX_BACKOFF_S = 0.2, 10.0

Send = Callable[[Outgoing], Any]
"""Sends one prepared record; returns a future whose ``get(timeout)`` waits for the acknowledgement."""
Flush = Callable[[float], Any]
"""Sends what the producer holds now, not after its linger, and waits (at most the given seconds)."""
Sign = Callable[[list[Outgoing]], list[Outgoing]]
"""Signs the records of one round together (a batch signature), in order."""


def _unsigned(outgoing: list[Outgoing]) -> list[Outgoing]:
    return outgoing


class OutboxPublisher:
    """Publishes one agency store's outbox from a background thread.

    Args:
        store: the agency store.
        send: sends one prepared record (the connector's producer).
        retention_s: how long processed ids, dead-lettered positions and sent rows are kept.
        prune_every_s: how often the store is pruned (also once at start).
        name: the thread's name.
        flush: makes the producer send a round's records at once (the producer's ``flush``); None
            leaves them to the producer's linger.
        sign: signs each round's records together before they are sent (rows are stored unsigned);
            by default they are sent as stored.
        first_backoff_s, max_backoff_s: the wait after a first failure, doubled after each further
            one up to the maximum.
    """

    def __init__(
        self,
        store: AgencyStore,
        send: Send,
        *,
        retention_s: float,
        prune_every_s: float = 3600.0,
        name: str,
        flush: Flush | None = None,
        sign: Sign = _unsigned,
        first_backoff_s: float = _FIRST_BACKOFF_S,
        max_backoff_s: float = _MAX_BACKOFF_S,
    ) -> None:
        self._store, self._send, self._flush, self._sign = store, send, flush, sign
        self._first_backoff_s, self._max_backoff_s = first_backoff_s, max_backoff_s
        self._retention_s, self._prune_every_s = retention_s, prune_every_s
        self._condition = threading.Condition()
        self._requested = 0  # wake-ups asked for; a round serves every wake-up asked before it began
        self._completed = 0  # the last wake-up served by a round that left nothing pending
        self._stopping = threading.Event()
        self.published = self.failures = 0
        self._served = -1  # the last wake-up a round started for (the thread's own)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> OutboxPublisher:
        """Start the thread (it publishes what a previous run left first)."""
        self._thread.start()
        return self

    def wake(self) -> None:
        """Ask for a round now (after a commit that may have added rows)."""
        with self._condition:
            self._requested += 1
            self._condition.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until every row committed before this call is sent (or ``timeout`` seconds pass).

        Returns:
            Whether the outbox was empty of such rows in time.
        """
        with self._condition:
            self._requested += 1
            target = self._requested
            self._condition.notify_all()
            return (
                self._condition.wait_for(
                    lambda: self._completed >= target or not self._thread.is_alive(), timeout=timeout
                )
                and self._completed >= target
            )

    def stop(self, *, flush_timeout: float = 10.0) -> None:
        """Send what is committed (waiting at most ``flush_timeout``), then end the thread."""
        if self._thread.is_alive():
            self.flush(flush_timeout)
        self._stopping.set()
        self.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=_ACK_TIMEOUT_S)

    # -- the thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        connection = self._store.connect()
        try:
            self._loop(connection)
        finally:
            if not self._store.in_memory:
                connection.close()

    def _loop(self, connection: sqlite3.Connection) -> None:
        pruned_at = 0.0
        backoff = self._first_backoff_s
        self._served = -1
        while not self._stopping.is_set():
            with self._condition:
                self._condition.wait_for(self._asked, timeout=_POLL_S)
                generation = self._served = self._requested
            if self._stopping.is_set():
                return
            if time.monotonic() - pruned_at >= self._prune_every_s or pruned_at == 0.0:
                pruned_at = time.monotonic()
                self._prune(connection)
            try:
                self._publish_all(connection)
            except Exception as exc:  # the rows stay pending and are sent on a later round
                self.failures += 1
                _log.warning("outbox not published yet (retrying in %.1fs): %s", backoff, exc)
                self._stopping.wait(backoff)  # stop() cuts the wait short
                backoff = min(backoff * 2, self._max_backoff_s)
                self._served = -1  # try again even if nobody wakes us
                continue
            backoff = self._first_backoff_s
            with self._condition:
                self._completed = max(self._completed, generation)
                self._condition.notify_all()

    def _asked(self) -> bool:
        return self._requested > self._served or self._stopping.is_set()

    def _publish_all(self, connection: sqlite3.Connection) -> None:
        while not self._stopping.is_set():
            rows = self._store.claim_pending(connection, limit=_ROUND_ROWS, claim_ttl_s=_CLAIM_TTL_S)
            if not rows:
                return
            # Sent in order and awaited together: the idempotent producer keeps a key's records in order.
            futures: list[tuple[int, Any]] = []
            sent: list[int] = []
            error: Exception | None = None
            try:
                signed = self._sign([row.outgoing for row in rows])
                for row, outgoing in zip(rows, signed, strict=True):
                    futures.append((row.seq, self._send(outgoing)))
            except Exception as exc:  # refused before sending (e.g. the producer is closed)
                error = exc
            handed = {seq for seq, _ in futures}
            failed = [row.seq for row in rows if row.seq not in handed]
            if futures and self._flush is not None:
                try:
                    self._flush(_ACK_TIMEOUT_S)
                except Exception:  # pragma: no cover - each record's own future says what failed
                    _log.debug("outbox flush failed; the records' answers say why", exc_info=True)
            for seq, future in futures:
                try:
                    future.get(timeout=_ACK_TIMEOUT_S)
                    sent.append(seq)
                except Exception as exc:
                    failed.append(seq)
                    error = exc
            self._store.mark_sent(connection, sent)
            self._store.release(connection, failed)
            self.published += len(sent)
            if error is not None:
                raise error

    def _prune(self, connection: sqlite3.Connection) -> None:
        try:
            deleted = self._store.prune(self._retention_s, connection)
        except sqlite3.Error as exc:  # busy for longer than the timeout: pruned on the next round
            _log.warning("store not pruned: %s", exc)
            return
        if deleted:
            _log.info("pruned %d rows older than %.0fs from %s", deleted, self._retention_s, self._store.path)
