"""Benchmark: the database boundary. One message's worth of database work (record the
platform message id, read the person's state, save it), for many people at once, run

- as one sync SQLAlchemy transaction in a worker thread (`bot/core/boundary.py`, chosen), or
- as one transaction on SQLAlchemy's asyncio engine (aiosqlite, or asyncpg on PostgreSQL),

and prints transactions per second and the event loop's longest stall while they run;
first, the CPU time of one round trip through the boundary with nothing to do.
The asyncio engine needs `greenlet` (and `asyncpg` for PostgreSQL), which the project does
not install; the script says so and measures the boundary alone without them.

    .venv/bin/python bench/boundary.py --messages 3000
    .venv/bin/python bench/boundary.py --url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout too

from bot.core.boundary import Boundary
from models.db import make_engine

SCHEMA = [
    "DROP TABLE IF EXISTS bench_handled",
    "DROP TABLE IF EXISTS bench_state",
    "CREATE TABLE bench_handled (message_id VARCHAR(64) PRIMARY KEY)",
    "CREATE TABLE bench_state (person_id INTEGER PRIMARY KEY, step VARCHAR(60), turns INTEGER)",
]
CLAIM = sa.text("INSERT INTO bench_handled VALUES (:m) ON CONFLICT (message_id) DO NOTHING")
READ = sa.text("SELECT step, turns FROM bench_state WHERE person_id = :p")
SAVE = sa.text("UPDATE bench_state SET step = :s, turns = turns + 1 WHERE person_id = :p")


def prepare(url: str, people: int) -> None:
    database = make_engine(url)
    with database.begin() as connection:
        for statement in SCHEMA:
            connection.exec_driver_sql(statement)
        connection.execute(
            sa.text("INSERT INTO bench_state VALUES (:p, 'start', 0)"),
            [{"p": p} for p in range(people)],
        )
    database.dispose()


def one_message_sync(database: sa.Engine, message: int, person: int) -> None:
    with database.begin() as connection:
        connection.execute(CLAIM, {"m": f"m{message}"})
        connection.execute(READ, {"p": person}).one()
        connection.execute(SAVE, {"p": person, "s": f"step{message % 7}"})


async def one_message_async(database, message: int, person: int) -> None:
    async with database.begin() as connection:
        await connection.execute(CLAIM, {"m": f"m{message}"})
        (await connection.execute(READ, {"p": person})).one()
        await connection.execute(SAVE, {"p": person, "s": f"step{message % 7}"})


async def timed(run_one, messages: int, people: int, at_once: int) -> tuple[float, float]:
    """Messages per second, and the longest the event loop could not run a ticker (ms)."""
    stall = 0.0
    finished = False

    async def ticker() -> None:
        nonlocal stall
        last = time.perf_counter()
        while not finished:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            stall = max(stall, now - last - 0.001)
            last = now

    slots = asyncio.Semaphore(at_once)

    async def one(message: int) -> None:
        async with slots:
            await run_one(message, message % people)

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    await asyncio.gather(*(one(m) for m in range(messages)))
    elapsed = time.perf_counter() - started
    finished = True
    await ticking
    return messages / elapsed, stall * 1000


async def round_trip_cpu(threads: int, calls: int = 20_000) -> float:
    """CPU µs per call of nothing through the boundary, one at a time: the hop itself."""
    boundary = Boundary(threads=threads)
    for _ in range(200):  # threads started, caches warm
        await boundary.run_sync(int)
    started = time.process_time()
    for _ in range(calls):
        await boundary.run_sync(int)
    cpu = time.process_time() - started
    boundary.close()
    return cpu / calls * 1e6


async def measure(url: str, messages: int, people: int, at_once: int, threads: int) -> None:
    for hop_threads in sorted({1, threads}):
        hop = await round_trip_cpu(hop_threads)
        print(f"one round trip through {hop_threads} worker thread(s): {hop:5.1f} µs of CPU")
    prepare(url, people)
    database = make_engine(url)
    boundary = Boundary(threads=threads)
    rate, stall = await timed(
        lambda m, p: boundary.run_sync(one_message_sync, database, m, p), messages, people, at_once
    )
    print(
        f"{threads} worker threads (sync sessions): {rate:7.0f} msg/s, "
        f"loop stalled {stall:5.1f} ms max"
    )
    boundary.close()
    database.dispose()
    try:
        from sqlalchemy.ext.asyncio import create_async_engine

        async_url = url.replace("sqlite://", "sqlite+aiosqlite://").replace("+psycopg", "+asyncpg")
        async_database = create_async_engine(async_url)
    except (ImportError, ValueError) as missing:
        print(f"asyncio engine: not measured ({missing})")
        return
    prepare(url, people)
    rate, stall = await timed(
        lambda m, p: one_message_async(async_database, m, p), messages, people, at_once
    )
    print(
        f"asyncio engine ({async_url.split(':')[0]}): {rate:7.0f} msg/s, loop stalled "
        f"{stall:5.1f} ms max"
    )
    await async_database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--at-once", type=int, default=32)
    parser.add_argument("--threads", type=int, default=8, help="the boundary's worker threads")
    parser.add_argument("--url", help="a throwaway database (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.url or f"sqlite:///{directory}/bench.db"
        asyncio.run(measure(url, args.messages, args.people, args.at_once, args.threads))


if __name__ == "__main__":
    main()
