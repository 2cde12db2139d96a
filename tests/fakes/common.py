"""What the platform fakes share: a clock that moves when told, a token bucket, and the
calls in progress (each answered after a configurable latency)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator


class InFlight:
    """The calls a fake is answering right now, by method, and the most seen at once.

    Every call takes `latency` seconds before it is answered, like a real API's round trip:
    a client that awaits each call in turn never has more than one in flight."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def call(self, method: str) -> AsyncIterator[None]:
        self.now[method] += 1
        self.most[method] = max(self.most[method], self.now[method])
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            yield
        finally:
            self.now[method] -= 1


class ManualClock:
    """A monotonic clock that moves only when told: ``FakeTelegram(clock=ManualClock())``."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TokenBucket:
    """A token bucket: ``capacity`` at once, refilled at ``rate`` per second."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.stamp: float | None = None

    def wait(self, now: float) -> float:
        """Seconds until a token is free (0 when one is)."""
        if self.stamp is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def ready(self, now: float) -> bool:
        return self.wait(now) == 0.0

    def take(self) -> None:
        self.tokens -= 1
