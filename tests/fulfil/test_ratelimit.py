"""The shared rate limiter: every process together stays under the rate; a 429 slows everyone."""

import itertools

from django.core.cache import cache

from integration.fulfil.ratelimit import NOT_BEFORE_KEY, SharedRateLimiter


class FakeClock:
    def __init__(self, start: float = 1_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_two_processes_together_never_exceed_the_rate(db):
    clock = FakeClock()
    # Two limiters sharing one cache stand for two worker processes.
    workers = [SharedRateLimiter(5, clock=clock.time, sleep=clock.sleep) for _ in range(2)]
    sent_at = []
    for i in range(20):
        workers[i % 2].acquire()
        sent_at.append(clock.now)
    for earlier, later in itertools.pairwise(sent_at):
        assert later - earlier >= 0.2 - 1e-9
    assert sent_at[-1] - sent_at[0] >= 19 * 0.2 - 1e-9


def test_a_retry_after_from_one_process_holds_back_the_other(db):
    cache.delete(NOT_BEFORE_KEY)
    clock = FakeClock()
    first = SharedRateLimiter(0, clock=clock.time, sleep=clock.sleep)
    second = SharedRateLimiter(0, clock=clock.time, sleep=clock.sleep)
    first.push_back(5)
    start = clock.now
    second.acquire()
    assert clock.now - start >= 5


def test_no_limit_configured_means_no_waiting(db):
    cache.delete(NOT_BEFORE_KEY)
    clock = FakeClock()
    limiter = SharedRateLimiter(0, clock=clock.time, sleep=clock.sleep)
    for _ in range(50):
        limiter.acquire()
    assert clock.sleeps == []
