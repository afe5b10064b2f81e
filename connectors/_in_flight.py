"""A bound on the records a connector has published and Kafka has not answered yet.

kafka-python 3 has no ``buffer.memory``: a burst of ``publish_async`` calls is accepted as fast as
it comes, every record waits in memory for its batch and its answer, and each waiting record's
objects are scanned by the garbage collector again and again (measured: the collector took a third
of a burst's publishing time with 20,000 records waiting). Past the bound, ``publish_async`` waits
for answers, as Java's producer waits for buffer memory (``max.block.ms``).
"""

from __future__ import annotations

import threading

from bus import TransportError
from bus.transport import answers_sends

__all__ = ["InFlight"]


class InFlight:
    """Counts records published and not answered; :meth:`enter` waits while ``limit`` are.

    Args:
        limit: the most records waiting for an answer before a publisher waits.
        wait_s: the longest a publisher waits before :meth:`enter` gives up.
    """

    def __init__(self, limit: int, *, wait_s: float) -> None:
        self.limit, self._wait_s = limit, wait_s
        self._count, self._waiters = 0, 0
        # Waiters are woken once a tenth of the bound is free, not for every answer.
        self._resume_at = limit - max(1, limit // 10)
        self._condition = threading.Condition()

    @property
    def count(self) -> int:
        """Records published and not answered yet."""
        return self._count

    def enter(self) -> None:
        """Count one more record, first waiting while ``limit`` are out (never on a client's I/O thread,
        which brings the answers: a delivery callback publishing again goes through at once).

        Raises:
            TransportError: still ``limit`` records unanswered after ``wait_s`` (retriable).
        """
        with self._condition:
            if self._count >= self.limit and not answers_sends():
                self._waiters += 1
                try:
                    if not self._condition.wait_for(lambda: self._count < self.limit, self._wait_s):
                        raise TransportError(
                            f"{self._count} published records have waited {self._wait_s:.0f}s for Kafka's "
                            "answer: nothing more is accepted until it answers",
                            retriable=True,
                        )
                finally:
                    self._waiters -= 1
            self._count += 1

    def leave(self) -> None:
        """One record answered (acknowledged or failed)."""
        with self._condition:
            self._count -= 1
            if self._waiters and self._count <= self._resume_at:
                self._condition.notify_all()
