"""Rate limits on submissions: a token bucket per key (a client's address, a CURP), bounded in memory."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from adapters.portal._config import Rate

__all__ = ["RateLimiter"]


class RateLimiter:
    """``rate.count`` events per key at once, refilled evenly over ``rate.period_s``.

    The buckets live in this process (each portal process limits on its own). At most ``max_keys``
    are kept: the least recently used is forgotten first, so a sender inventing keys costs bounded
    memory (and gains nothing against the per-client limit, whose keys it cannot invent).

    Args:
        rate: how many events per period.
        max_keys: how many keys to remember.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, rate: Rate, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._per_s = rate.count / rate.period_s
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Spend one event of ``key``'s allowance.

        Returns:
            0 when allowed; otherwise the whole seconds to wait before the next one (``Retry-After``).
        """
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(self.rate.count), now))
            tokens = min(float(self.rate.count), tokens + (now - at) * self._per_s)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        return 0 if allowed else max(1, math.ceil((1.0 - tokens) / self._per_s))

    def give_back(self, key: str) -> None:
        """Return one event to ``key``'s allowance (what was counted turned out not to be a submission)."""
        with self._lock:
            if key in self._buckets:
                tokens, at = self._buckets[key]
                self._buckets[key] = (min(float(self.rate.count), tokens + 1.0), at)
