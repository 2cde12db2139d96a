"""People handled at once, each person's messages strictly in order.

Every channel hands a person's message to `Lanes` under that person's key (their
account): messages of different people run concurrently, at most `limit` at a time,
while one person's wait for their previous one. Order is fixed when a message is
submitted, in the order the platform gave them. Within one process this is the order;
across processes the engine's per-person database lock keeps one person's messages one
at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Lanes:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._last: dict[str, asyncio.Task] = {}  # each person's latest submitted message
        self._running: set[asyncio.Task] = set()

    def submit(self, key: str, job: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """Start `job` after the previous job of `key` has ended, within the limit."""
        previous = self._last.get(key)
        task = asyncio.create_task(self._in_turn(previous, job))
        self._last[key] = task
        self._running.add(task)
        task.add_done_callback(lambda done: self._forget(key, done))
        return task

    async def run(self, key: str, job: Callable[[], Awaitable[T]]) -> T:
        """`submit`, and wait for the job's result."""
        return await self.submit(key, job)

    async def wait_all(self) -> None:
        """Until every job submitted so far has ended."""
        while self._running:
            await asyncio.wait(set(self._running))

    @property
    def in_progress(self) -> int:
        return len(self._running)

    async def _in_turn(self, previous: asyncio.Task | None, job: Callable[[], Awaitable[T]]) -> T:
        if previous is not None:
            # Waited for, not awaited: its failure is its own and does not stop this one.
            await asyncio.wait({previous})
        async with self._slots:
            return await job()

    def _forget(self, key: str, task: asyncio.Task) -> None:
        self._running.discard(task)
        if self._last.get(key) is task:
            del self._last[key]
        if not task.cancelled() and task.exception() is not None:
            # Seen here too, so a job nobody awaits does not fail unnoticed.
            log.error("a message's job failed", exc_info=task.exception())
