"""The one place where the event loop meets the database: a bounded pool of worker threads.

Every database transaction runs here as one plain (synchronous) call, so the event loop
never waits on SQLite's write lock, a PostgreSQL row or advisory lock, or a slow query:
it goes on receiving webhooks, polling, sending replies and ticking the scheduler.
SQLModel's sync sessions stay as they are (the README's architecture section says why
this beat SQLAlchemy's asyncio engine).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_THREADS = 8


class Boundary:
    """`await boundary.run_sync(fn, *args)`: `fn` runs in a worker thread, at most
    `threads` at once (each holds one database connection while it runs)."""

    def __init__(self, threads: int = DEFAULT_THREADS) -> None:
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="database")

    async def run_sync(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """The result of `fn(*args, **kwargs)`, computed off the event loop."""
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._pool, call)

    def close(self) -> None:
        """Let running calls finish; no new ones are taken."""
        self._pool.shutdown(wait=True)
