"""What the platform fakes share: a clock that moves when told, and a token bucket."""

from __future__ import annotations


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
