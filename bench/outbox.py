"""Benchmark: 10,000 outbox messages through the real Telegram channel code, against the
tests' fake Bot API (run in its own process) limited to 1,000 msg/s, with 2% of the users
having blocked the bot and 3% of sends failing with a transient 5xx. The sender runs as
`--workers` processes sharing the database, as several `run` processes would, each
paced at its share of the limit.

Prints delivered/s as a share of the limit (target >= 0.9), duplicates (target 0), lost
(target 0) and how many 429s the fake answered.

    .venv/bin/python bench/outbox.py --messages 10000
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bot.app import build_app
from bot.channels.telegram import TelegramChannel
from bot.config import OutboxSettings, Settings, TelegramSettings
from bot.sending import OutboxSender, RateLimit, SenderSettings
from models import OutboxMessage
from models.db import transaction, upgrade

TOKEN = "424242:BENCH"
FIRST_USER = 10_000_000
CONCURRENCY = OutboxSettings().concurrency  # messages in flight per sender, as deployed


def run_fake(conn, users: int, limit: int, blocked_share: float, error_share: float) -> None:
    """The fake Bot API in its own process (so it does not share a core with the bot)."""
    from tests.fakes.telegram import ApiError, FakeTelegram

    class FlakyTelegram(FakeTelegram):
        def _check_forced(self, method: str) -> None:
            super()._check_forced(method)
            if method == "sendMessage" and random.random() < error_share:
                self.transient_errors += 1
                raise ApiError(502, "Bad Gateway")

    async def serve() -> None:
        random.seed(7)
        async with FlakyTelegram(
            token=TOKEN,
            global_per_second=limit,
            global_burst=limit // 20,
            per_chat_per_second=None,
        ) as api:
            api.transient_errors = 0
            blocked = set(random.sample(range(users), int(users * blocked_share)))
            for number in range(users):
                user = api.user(FIRST_USER + number, f"U{number}", started=True)
                if number in blocked:
                    await user.block()
            conn.send(api.base_url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "stop"
            received = Counter(m.chat_id for m in api.messages)
            conn.send(
                {
                    "received": dict(received),
                    "blocked": [FIRST_USER + n for n in blocked],
                    "count_429": api.count_429,
                    "transient_errors": api.transient_errors,
                    "cpu": time.process_time(),
                }
            )

    asyncio.run(serve())


def seed(database: sa.Engine, users: int) -> None:
    """People with a Telegram account each, and one announcement row per person."""
    now = datetime.now(UTC) - timedelta(minutes=1)
    with database.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO person (id, phone, language, role, created_at, last_active_at)"
                " VALUES (:id, :phone, 'id', 'ikm', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            [{"id": n + 1, "phone": f"+62813{n:08d}"} for n in range(users)],
        )
        connection.execute(
            sa.text(
                "INSERT INTO channel_account (person_id, channel, external_id, blocked, created_at)"
                " VALUES (:pid, 'telegram', :ext, false, CURRENT_TIMESTAMP)"
            ),
            [{"pid": n + 1, "ext": str(FIRST_USER + n)} for n in range(users)],
        )
        connection.execute(
            sa.insert(OutboxMessage.__table__),
            [
                {
                    "idempotency_key": f"bench:person:{n + 1}",
                    "person_id": n + 1,
                    "channel": "telegram",
                    "account_id": str(FIRST_USER + n),
                    "kind": "announcement",
                    "batch": "bench",
                    "content": {
                        "template": "announcement",
                        "params": {"text": f"Pengumuman nomor {n}", "image_ref": None},
                    },
                    "language": "id",
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for n in range(users)
            ],
        )


def run_worker(url: str, base_url: str, limit: float, results) -> None:
    """One sender process: drain until nothing is left, report outcomes and timings."""
    app = build_app(Settings.model_validate({"database": {"url": url}}))
    cpu = time.process_time()
    outcomes, first_pass, elapsed = asyncio.run(drain(app, base_url, limit))
    cpu = time.process_time() - cpu
    app.close()
    results.put((dict(outcomes), first_pass, elapsed, cpu))


async def drain(app, base_url: str, limit: float) -> tuple[Counter, float, float]:
    channel = TelegramChannel.create(  # as `run` builds it
        token=TOKEN,
        settings=TelegramSettings(enabled=True, base_url=base_url),
        engine=app.engine,
        catalog=app.catalog,
    )
    sender = OutboxSender(
        database=app.database,
        transports={"telegram": channel},
        limits={"telegram": RateLimit(limit)},
        render=app.engine.render,
        clock=app.engine.clock,
        settings=SenderSettings(concurrency=CONCURRENCY, batch_size=500, max_attempts=6),
    )
    outcomes: Counter = Counter()
    first_pass = 0.0
    started = time.perf_counter()
    async with channel.bot:
        for _ in range(50):  # retries come due after their backoff
            round_outcomes = await sender.drain_once()
            outcomes.update(round_outcomes)
            first_pass = first_pass or time.perf_counter() - started
            with transaction(app.database) as session:
                left = session.execute(
                    sa.select(sa.func.count()).where(
                        OutboxMessage.state.in_(["pending", "sending"])
                    )
                ).scalar_one()
            if not left:
                break
            await asyncio.sleep(0.1)
    return outcomes, first_pass, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=1_000, help="the fake's msg/s")
    parser.add_argument("--workers", type=int, default=2, help="sender processes")
    args = parser.parse_args()

    ours, theirs = multiprocessing.Pipe()
    fake = multiprocessing.Process(
        target=run_fake, args=(theirs, args.messages, args.limit, 0.02, 0.03), daemon=True
    )
    fake.start()
    base_url = ours.recv()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        app = build_app(Settings.model_validate({"database": {"url": url}}))
        seed(app.database, args.messages)
        results = multiprocessing.Queue()
        workers = [
            multiprocessing.Process(
                target=run_worker,
                args=(url, base_url, args.limit / args.workers, results),
            )
            for _ in range(args.workers)
        ]
        for worker in workers:
            worker.start()
        reports = [results.get(timeout=600) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        outcomes = sum((Counter(report[0]) for report in reports), Counter())
        first_pass = max(report[1] for report in reports)
        elapsed = max(report[2] for report in reports)
        with transaction(app.database) as session:
            states = Counter(
                dict(
                    session.execute(
                        sa.select(OutboxMessage.state, sa.func.count()).group_by(
                            OutboxMessage.state
                        )
                    ).all()
                )
            )
        app.close()
    ours.send("stop")
    report = ours.recv()
    fake.join(timeout=10)

    received = Counter({int(k): v for k, v in report["received"].items()})
    blocked = set(report["blocked"])
    expected = {FIRST_USER + n for n in range(args.messages)} - blocked
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    lost = len(expected - set(received))
    delivered = sum(1 for chat in expected if received.get(chat))
    attempts = sum(outcomes.values())
    pass_rate = attempts / first_pass
    rate = delivered / elapsed
    print(f"messages: {args.messages}, blocked users: {len(blocked)}, workers: {args.workers}")
    print(
        f"first pass: {first_pass:.1f} s, {pass_rate:,.0f} sends/s ="
        f" {pass_rate / args.limit:.2f} of the limit (target >= 0.9)"
    )
    print(
        f"all delivered after {elapsed:.1f} s (retries of retries back off):"
        f" {delivered} delivered, {rate:,.0f}/s = {rate / args.limit:.2f} of the limit"
    )
    print(f"duplicates: {duplicates} (target 0), lost: {lost} (target 0)")
    print(f"429s: {report['count_429']}, transient 5xx: {report['transient_errors']}")
    sender_cpu = sum(report[3] for report in reports)
    print(
        f"CPU per send: senders {1000 * sender_cpu / attempts:.2f} ms,"
        f" fake Bot API {1000 * report['cpu'] / attempts:.2f} ms"
    )
    print(f"outcomes: {dict(outcomes)}; final states: {dict(states)}")


if __name__ == "__main__":
    main()
