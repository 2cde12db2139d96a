"""The database boundary (`bot/core/boundary.py`): calls run in worker threads, never on
the event loop, at most `threads` at once; results, exceptions and context variables
come back as from a plain call; closing lets what was handed over finish."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from bot.core.boundary import Boundary

REQUEST = contextvars.ContextVar("request", default="none")


@pytest.mark.parametrize("threads", [1, 3])
async def test_calls_run_off_the_loop_and_at_most_threads_at_once(threads: int) -> None:
    boundary = Boundary(threads)
    running, most = 0, 0
    counting = threading.Lock()
    loop_thread = threading.get_ident()

    def work(number: int) -> tuple[int, int]:
        nonlocal running, most
        with counting:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with counting:
            running -= 1
        return number, threading.get_ident()

    results = await asyncio.gather(*(boundary.run_sync(work, n) for n in range(12)))
    boundary.close()
    assert [number for number, _ in results] == list(range(12))
    assert loop_thread not in {thread for _, thread in results}
    assert most == threads


async def test_the_event_loop_goes_on_while_a_call_waits() -> None:
    boundary = Boundary(1)
    released = threading.Event()
    waiting = asyncio.ensure_future(boundary.run_sync(released.wait, 5))
    ticks = 0
    for _ in range(5):  # the loop is free while the worker thread blocks
        await asyncio.sleep(0.001)
        ticks += 1
    released.set()
    assert await waiting is True and ticks == 5
    boundary.close()


async def test_exceptions_and_context_variables_come_back_as_from_a_plain_call() -> None:
    boundary = Boundary(2)

    def fail() -> None:
        raise LookupError("no such person")

    with pytest.raises(LookupError, match="no such person"):
        await boundary.run_sync(fail)
    REQUEST.set("update 42")
    assert await boundary.run_sync(REQUEST.get) == "update 42"
    assert await boundary.run_sync(lambda: 1 + 1) == 2  # the thread survived the error
    boundary.close()


async def test_a_cancelled_caller_leaves_the_call_to_finish_and_the_boundary_working() -> None:
    boundary = Boundary(1)
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow() -> str:
        started.set()
        release.wait(5)
        finished.append("slow")
        return "slow"

    caller = asyncio.ensure_future(boundary.run_sync(slow))
    while not started.is_set():
        await asyncio.sleep(0.001)
    caller.cancel()
    release.set()
    assert await boundary.run_sync(lambda: "next") == "next"
    assert finished == ["slow"] and caller.cancelled()
    boundary.close()


async def test_closing_finishes_what_was_handed_over_then_refuses() -> None:
    boundary = Boundary(1)
    done: list[int] = []

    def step(number: int) -> None:
        time.sleep(0.002)
        done.append(number)

    calls = [asyncio.ensure_future(boundary.run_sync(step, n)) for n in range(5)]
    await asyncio.sleep(0)  # all handed over
    await asyncio.to_thread(boundary.close)
    await asyncio.gather(*calls)
    assert done == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError):
        await boundary.run_sync(step, 5)
