"""A request-rate limit shared by every process that talks to Fulfil.

Time is cut into slots of 1/rate seconds; a request must claim a free slot with `cache.add`, which is
atomic on both shared backends we run on (Redis `SET NX`; the database cache's INSERT on a primary
key). A request that finds its slot taken claims the next free one and sleeps until it starts, so N
workers together never exceed the configured rate.

A 429's Retry-After sets a shared "not before" time: every process waits it out, not only the one
that was throttled (the others notice within RECHECK_SECONDS).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from django.core.cache import cache

SLOT_PREFIX = "fulfil:rl:slot:"
NOT_BEFORE_KEY = "fulfil:rl:not_before"
MAX_LOOKAHEAD_SLOTS = 10_000
# How long "nobody has to wait" is trusted before the shared key is read again. Reading it on every
# call cost a cache round trip per request (a database query with the database cache): at thousands
# of calls a minute that was most of a large read's waiting. Another process's Retry-After reaches
# us at most this late; our own takes effect at once.
RECHECK_SECONDS = 0.05


class SharedRateLimiter:
    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        cache_backend=None,
    ) -> None:
        self.per_second = per_second
        self.clock = clock
        self.sleep = sleep
        self.cache = cache_backend or cache
        self._clear_until = 0.0

    def acquire(self) -> float:
        """Block until this process may send one request. Returns the seconds waited."""
        waited = self._wait_not_before()
        if self.per_second <= 0:
            return waited
        width = 1.0 / self.per_second
        now = self.clock()
        slot = math.floor(now / width)
        for offset in range(MAX_LOOKAHEAD_SLOTS):
            # Keys outlive their slot briefly so a slow claimer cannot reuse a slot already spent.
            if self.cache.add(f"{SLOT_PREFIX}{slot + offset}", 1, timeout=max(5, int(width * 4) + 2)):
                start = (slot + offset) * width
                delay = start - self.clock()
                if delay > 0:
                    self.sleep(delay)
                    waited += delay
                return waited
        raise RuntimeError("Rate limiter could not find a free slot")  # pragma: no cover

    def _wait_not_before(self) -> float:
        now = self.clock()
        if now < self._clear_until:  # looked a moment ago and nobody had been told to wait
            return 0.0
        not_before = self.cache.get(NOT_BEFORE_KEY)
        if not not_before:
            self._clear_until = now + RECHECK_SECONDS
            return 0.0
        delay = float(not_before) - self.clock()
        if delay > 0:
            self.sleep(delay)
            return delay
        return 0.0

    def push_back(self, seconds: float) -> None:
        """Fulfil said "Retry-After: seconds": nobody sends before then."""
        until = self.clock() + seconds
        self._clear_until = 0.0
        current = self.cache.get(NOT_BEFORE_KEY)
        if current is None or float(current) < until:
            self.cache.set(NOT_BEFORE_KEY, until, timeout=int(seconds) + 5)

    def reset(self) -> None:
        self.cache.delete(NOT_BEFORE_KEY)
        self._clear_until = 0.0
