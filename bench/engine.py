"""Benchmark: simulated users chatting through the engine in-process, on a SQLite file.

Each simulated user registers as an IKM (the shortest path), adds a second product,
opens "Produk saya" and the menu a few times. Prints handled messages per second, the
per-message latency (p50, p99) and the SQL statements per message; then the same script
through python-telegram-bot's ConversationHandler with PicklePersistence
(bench/ptb_baseline.py) in the same run, and the ratio of the two rates. Last, the same
script handed to the lanes as a channel does (many people at once, each in order), on a
fresh database: the rate one process reaches when people write at the same time. With
`--database-url` the same script also runs on SQLite and the PostgreSQL / SQLite ratio is
printed (the same moment, so the machine's load counts on both).
Targets: >= 1,000 msg/s on one core, p99 < 20 ms, ratio >= 0.5 on SQLite.

    .venv/bin/python bench/engine.py --users 300
    .venv/bin/python bench/engine.py --users 300 --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout too

import sqlalchemy as sa

from bench import ptb_baseline
from bot.app import build_app
from bot.channels.lanes import Lanes
from bot.config import Settings
from bot.core.messages import Incoming
from models.db import upgrade

SCRIPT = [
    "halo",
    "Setuju",
    "Saya pelaku IKM",
    "Ibu Pengguna",
    "Usaha Contoh",
    "Pakaian jadi",
    "cikarang utr",
    "Lewati",
    "Kaos sablon",
    "pcs",
    "40-100 ribu",
    "3 ribu",
    "Lewati",
    "Simpan",
    "Tambah produk",
    "Seragam kerja",
    "pcs",
    "Rp 85.000",
    "500",
    "Lewati",
    "Simpan",
    "Produk saya",
    "menu",
    "bantuan",
    "Profil usaha",
    "menu",
]


# How the catalog's refusals begin ("Maaf, ..."): a refused line means the script is stale.
REFUSED = "Maaf"


def phone_of(user: int) -> str:
    return f"+62812{user:08d}"


def line_of(user: int, step: int, text: str) -> Incoming:
    """What a simulated user says at a step of the script, with its platform message id."""
    return Incoming(
        channel="bench",
        account_id=str(user),
        phone=phone_of(user),
        text=text,
        message_id=f"{user}-{step}",
    )


async def run(users: int, database_url: str) -> tuple[list[float], float, float, int]:
    """Latencies, seconds, CPU seconds and SQL statements for every user going through SCRIPT."""
    settings = Settings.model_validate({"database": {"url": database_url}})
    app = build_app(settings)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    sa.event.listen(app.database, "before_cursor_execute", count)
    latencies: list[float] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    # Users take turns, one message each, as concurrent conversations would interleave.
    for step, text in enumerate(SCRIPT):
        for user in range(users):
            message = line_of(user, step, text)
            before = time.perf_counter()
            replies = await app.engine.handle(message)
            latencies.append(time.perf_counter() - before)
            if not replies:
                raise SystemExit(f"user {user} got no reply to {text!r}")
            if user == 0 and replies[0].text.startswith(REFUSED):
                raise SystemExit(f"the script no longer fits the flow: {text!r} was refused")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    app.close()
    return latencies, elapsed, cpu, statements


async def run_in_lanes(users: int, database_url: str, people: int) -> tuple[int, float, float]:
    """Messages, seconds and CPU seconds for the same script handed to the lanes as a channel
    does (`bot/channels/lanes.py`): up to `people` at once, each person's lines in order."""
    settings = Settings.model_validate({"database": {"url": database_url}})
    app = build_app(settings)
    lanes = Lanes(people)

    def answer(user: int, step: int, text: str) -> Callable[[], Awaitable[list]]:
        message = line_of(user, step, text)
        return lambda: app.engine.handle(message)

    started, cpu_started = time.perf_counter(), time.process_time()
    tasks = [
        lanes.submit(str(user), answer(user, step, text))
        for step, text in enumerate(SCRIPT)
        for user in range(users)
    ]
    replies = await asyncio.gather(*tasks)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    app.close()
    if not all(replies):
        raise SystemExit("a message through the lanes got no reply")
    return len(tasks), elapsed, cpu


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def empty_postgres(url: str) -> None:
    """Start a PostgreSQL benchmark database from nothing (it must be a throwaway one)."""
    database = sa.create_engine(url)
    with database.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--people", type=int, default=32, help="at once through the lanes")
    parser.add_argument(
        "--database-url", help="a throwaway PostgreSQL database (emptied!); default SQLite"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        if args.database_url:
            empty_postgres(url)
        upgrade(url)
        latencies, elapsed, cpu, statements = asyncio.run(run(args.users, url))
        if args.database_url:
            empty_postgres(url)
            lanes_url = url
        else:
            lanes_url = f"sqlite:///{Path(folder) / 'lanes.db'}"
        upgrade(lanes_url)
        in_lanes = asyncio.run(run_in_lanes(args.users, lanes_url, args.people))
        baseline_count, baseline_elapsed, baseline_cpu = asyncio.run(
            ptb_baseline.run(SCRIPT, args.users, Path(folder) / "ptb.pickle")
        )
        sqlite = None
        if args.database_url:  # the same script on SQLite, at the same moment, to compare
            sqlite_url = f"sqlite:///{Path(folder) / 'compare.db'}"
            upgrade(sqlite_url)
            sqlite = asyncio.run(run(args.users, sqlite_url))
    count = len(latencies)
    rate, baseline_rate = count / elapsed, baseline_count / baseline_elapsed
    print(f"database: {sa.make_url(url).get_backend_name()}")
    print(f"users: {args.users}, messages: {count}, seconds: {elapsed:.2f}")
    print(f"throughput: {rate:,.0f} messages/s (target >= 1,000)")
    print(
        f"latency: p50 {percentile(latencies, 0.50) * 1000:.2f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.2f} ms (target p99 < 20 ms), "
        f"mean {statistics.fmean(latencies) * 1000:.2f} ms"
    )
    print(f"SQL statements: {statements / count:.2f} per message (SQLite's BEGIN counted)")
    lanes_count, lanes_elapsed, lanes_cpu = in_lanes
    print(
        f"through the lanes, {args.people} people at once: "
        f"{lanes_count / lanes_elapsed:,.0f} messages/s, "
        f"CPU {lanes_cpu / lanes_count * 1000:.3f} ms per message"
    )
    print(
        f"python-telegram-bot ConversationHandler + PicklePersistence: "
        f"{baseline_rate:,.0f} messages/s"
    )
    print(f"ratio engine / PTB: {rate / baseline_rate:.2f} (target >= 0.5 on SQLite)")
    # On a machine shared with other work the wall clock also counts waiting for the disk
    # and the CPU; the process's own CPU time per message compares the work done.
    print(
        f"CPU per message: engine {cpu / count * 1000:.3f} ms, "
        f"PTB {baseline_cpu / baseline_count * 1000:.3f} ms, "
        f"ratio {(baseline_cpu / baseline_count) / (cpu / count):.2f}"
    )
    if sqlite is not None:
        sqlite_latencies, sqlite_elapsed, sqlite_cpu, _ = sqlite
        sqlite_rate = len(sqlite_latencies) / sqlite_elapsed
        print(
            f"SQLite, same script in the same run: {sqlite_rate:,.0f} messages/s, "
            f"CPU {sqlite_cpu / len(sqlite_latencies) * 1000:.3f} ms per message; "
            f"PostgreSQL / SQLite: {rate / sqlite_rate:.2f} (target >= 0.6)"
        )


if __name__ == "__main__":
    main()
