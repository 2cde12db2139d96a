"""The one place where the event loop meets the database: a bounded set of worker threads.

Every database transaction runs here as one plain (synchronous) call, so the event loop
never waits on SQLite's write lock, a PostgreSQL row or advisory lock, or a slow query:
it goes on receiving webhooks, polling, sending replies and ticking the scheduler.
SQLModel's sync sessions stay as they are (the README's architecture section says why
this beat SQLAlchemy's asyncio engine).

Each call is handed to the thread that went idle last, and its result straight to the
caller's future on its loop. `loop.run_in_executor` chained two futures for that and
woke whichever thread the queue gave it: a round trip cost 104-165 µs of CPU here where
this costs 70-140 (one or eight threads; `bench/boundary.py` prints it).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_THREADS = 8


@dataclass(frozen=True)
class _Call:
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future
    context: contextvars.Context
    run: Callable[[], Any]


class Boundary:
    """`await boundary.run_sync(fn, *args)`: `fn` runs in a worker thread, at most
    `threads` at once (each holds one database connection while it runs).

    A call goes to the thread that went idle last (its stack and connection are warm:
    with eight threads, waking any of them cost twice the round trip of one); when all
    are busy it waits in a backlog the threads take from as they finish."""

    def __init__(self, threads: int = DEFAULT_THREADS) -> None:
        self.threads = threads
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []  # the last one went idle last
        self._backlog: collections.deque[_Call] = collections.deque()
        self._workers: list[_Worker] = []
        self._closed = False

    async def run_sync(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """The result of `fn(*args, **kwargs)`, computed off the event loop (in the
        caller's context variables). Cancelling the caller does not stop a call begun."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        call = _Call(loop, done, contextvars.copy_context(), lambda: fn(*args, **kwargs))
        with self._lock:
            if self._closed:
                raise RuntimeError("the database boundary is closed")
            if not self._workers:
                self._start()
            worker = self._idle.pop() if self._idle else None
            if worker is None:
                self._backlog.append(call)
        if worker is not None:
            worker.calls.put(call)
        return await done

    def close(self) -> None:
        """Let running and waiting calls finish; no new ones are taken."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
        for worker in workers:
            worker.calls.put(None)
        for worker in workers:
            worker.thread.join()

    def _start(self) -> None:
        for number in range(self.threads):
            worker = _Worker(self._work, f"database_{number}")
            self._workers.append(worker)
            self._idle.append(worker)
            worker.thread.start()

    def _work(self, worker: _Worker) -> None:
        call = worker.calls.get()
        while call is not None:
            try:
                result = call.context.run(call.run)
            except BaseException as error:
                _hand_back(call, None, error)
            else:
                _hand_back(call, result, None)
            call = self._next(worker)

    def _next(self, worker: _Worker) -> _Call | None:
        """A waiting call, else the next one handed to this worker once it is idle."""
        with self._lock:
            if self._backlog:
                return self._backlog.popleft()
            self._idle.append(worker)
        return worker.calls.get()


class _Worker:
    """A thread and the queue its calls are handed over in."""

    def __init__(self, work: Callable[[_Worker], None], name: str) -> None:
        self.calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=work, args=(self,), name=name, daemon=True)


def _hand_back(call: _Call, result: object, error: BaseException | None) -> None:
    # The loop closed while the call ran: nobody is waiting for it.
    with contextlib.suppress(RuntimeError):
        call.loop.call_soon_threadsafe(_settle, call.done, result, error)


def _settle(done: asyncio.Future, result: object, error: BaseException | None) -> None:
    if done.cancelled():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)
