"""Benchmark: messages through the real channel code, from update to reply, in one process.

Simulated people chat with the bot over the tests' fakes of the platforms on 127.0.0.1:
Telegram (the channel long-polling the fake Bot API, as `run` does) and WhatsApp (the
fake Graph API posting signed webhooks to the bot's own web app, answered as they
arrive). Each person sends a message and waits for the answer before the next, all people
at once. Every Bot/Graph API call takes `--latency` ms (0 and 50 by default). Prints
messages per second and p50/p99 from the update to its first reply.
Targets: >= 300 messages/s with instant API calls, >= 150/s at 50 ms.

    .venv/bin/python bench/e2e.py --people 100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout too

import sqlalchemy as sa

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import Settings, TelegramSettings, WhatsAppSettings
from bot.core.messages import Incoming
from bot.web import build_web_app
from models.db import upgrade
from tests.fakes.telegram import FakeTelegram, LoopbackServer
from tests.fakes.whatsapp import FakeWhatsApp

SCRIPT = ["halo", "bantuan", "batal", "menu", "halo", "bantuan"]
TOKEN = "123456:BENCH-token"
SECRET, VERIFY = "bench-secret", "bench-verify"
PATIENCE = 120.0  # seconds a round may take before the run is called failed


@dataclass
class Replies:
    """When each person's chat last received a message from the bot (perf_counter)."""

    at: dict[str, list[float]] = field(default_factory=dict)

    def add(self, chat: str) -> None:
        self.at.setdefault(chat, []).append(time.perf_counter())

    def first_after(self, chat: str, moment: float) -> float | None:
        return next((t for t in self.at.get(chat, ()) if t >= moment), None)


class TimedTelegram(FakeTelegram):
    def __init__(self, replies: Replies, **kwargs) -> None:
        super().__init__(**kwargs)
        self.replies = replies

    def _record_sent(self, person, message):
        self.replies.add(str(person.id))
        return super()._record_sent(person, message)


class TimedWhatsApp(FakeWhatsApp):
    def __init__(self, replies: Replies, **kwargs) -> None:
        super().__init__(**kwargs)
        self.replies = replies

    def _accept(self, person, message, outcome, data) -> None:
        if person is not None:
            self.replies.add(person.wa_id)
        super()._accept(person, message, outcome, data)


@dataclass
class Person:
    chat: str
    send: Callable[[str], Awaitable[object]]


async def say(person: Person, text: str, sent_at: dict[str, float]) -> None:
    sent_at[person.chat] = time.perf_counter()
    await person.send(text)


async def rounds(people: list[Person], replies: Replies, idle: Callable) -> tuple[list, float]:
    """Every person says the script's lines in turn; the update-to-reply latencies and the
    seconds it all took."""
    latencies: list[float] = []
    started = time.perf_counter()
    for text in SCRIPT:
        sent_at: dict[str, float] = {}
        await asyncio.gather(*(say(person, text, sent_at) for person in people))
        deadline = time.perf_counter() + PATIENCE
        while any(replies.first_after(p.chat, sent_at[p.chat]) is None for p in people):
            if time.perf_counter() > deadline:
                raise SystemExit(f"no answer to {text!r} within {PATIENCE:.0f} s")
            await asyncio.sleep(0.002)
        await idle()  # every reply of this round sent before the next round starts
        latencies += [
            replies.first_after(p.chat, sent_at[p.chat]) - sent_at[p.chat] for p in people
        ]
    return latencies, time.perf_counter() - started


async def telegram_run(app: App, count: int, latency: float) -> tuple[list, float]:
    replies = Replies()
    async with TimedTelegram(
        replies, token=TOKEN, latency=latency, per_chat_per_second=None, global_per_second=None
    ) as api:
        settings = TelegramSettings(
            enabled=True, base_url=api.base_url, base_file_url=api.base_file_url, poll_timeout=1
        )
        channel = TelegramChannel.create(
            token=TOKEN, settings=settings, engine=app.engine, catalog=app.catalog
        )
        await channel.start()
        stop = asyncio.Event()
        poller = asyncio.create_task(channel.poll(stop))
        users = [api.user(900_000 + n, f"Orang {n}") for n in range(count)]
        people = [Person(str(user.id), user.send_text) for user in users]

        async def idle() -> None:
            while api.pending_updates or channel.lanes.in_progress:
                await asyncio.sleep(0.002)

        try:
            return await rounds(people, replies, idle)
        finally:
            stop.set()
            await poller
            await channel.stop()


async def whatsapp_run(app: App, count: int, latency: float) -> tuple[list, float]:
    """The WhatsApp rounds; also prints the process's CPU time and the database
    transactions per message (the fake Graph API runs in this process, its CPU included)."""
    commits = itertools.count()
    sa.event.listen(app.database, "commit", lambda _: next(commits))
    cpu = time.process_time()
    latencies, elapsed = await _whatsapp_rounds(app, count, latency)
    cpu, done = time.process_time() - cpu, next(commits)
    print(
        f"whatsapp  API {latency * 1000:3.0f} ms: {cpu * 1000 / len(latencies):5.1f} ms CPU and "
        f"{done / len(latencies):4.2f} transactions per message (the fake's CPU included)"
    )
    return latencies, elapsed


async def _whatsapp_rounds(app: App, count: int, latency: float) -> tuple[list, float]:
    replies = Replies()
    async with TimedWhatsApp(
        replies,
        app_secret=SECRET,
        latency=latency,
        per_second=None,
        pair_per_second=None,
        webhook_connections=4,
    ) as graph:
        channel = WhatsAppChannel(
            settings=WhatsAppSettings(
                enabled=True,
                base_url=graph.base_url,
                api_version=graph.api_version,
                phone_number_id=graph.phone_number_id,
            ),
            engine=app.engine,
            catalog=app.catalog,
            access_token=graph.access_token,
            app_secret=SECRET,
            verify_token=VERIFY,
        )
        web = build_web_app(whatsapp=channel)
        async with LoopbackServer(web) as server, worker(channel):
            await graph.set_webhook(f"{server.url}/webhooks/whatsapp", verify_token=VERIFY)
            users = [graph.person(wa_id=f"62813{n:08d}", name=f"Orang {n}") for n in range(count)]
            people = [Person(user.wa_id, user.send_text) for user in users]

            async def idle() -> None:
                # Statuses of the replies keep coming meanwhile, as they do from Meta.
                while channel.lanes.in_progress:
                    await asyncio.sleep(0.002)

            try:
                return await rounds(people, replies, idle)
            finally:
                await channel.close()


@contextlib.asynccontextmanager
async def worker(channel: WhatsAppChannel) -> AsyncIterator[None]:
    """The WhatsApp worker of `run`: bodies no one is processing (each body is processed
    as it arrives; this only picks up what failed or what a stopped process left)."""
    stop = asyncio.Event()

    async def work() -> None:
        while not stop.is_set():
            await channel.process_pending()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=5)

    task = asyncio.create_task(work())
    try:
        yield
    finally:
        stop.set()
        await task


async def engine_alone(app: App, count: int) -> tuple[list, float]:
    """The same script straight into the engine, one message at a time (no channel, no
    HTTP): what the machine gives the engine in this run, to read the figures above by."""
    latencies = []
    started = time.perf_counter()
    for step, text in enumerate(SCRIPT):
        for n in range(count):
            message = Incoming(
                channel="bench", account_id=str(n), text=text, message_id=f"{n}-{step}"
            )
            before = time.perf_counter()
            await app.engine.handle(message)
            latencies.append(time.perf_counter() - before)
    return latencies, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(name: str, latency_ms: int, latencies: list[float], elapsed: float, target: int) -> None:
    rate = len(latencies) / elapsed
    print(
        f"{name:9} API {latency_ms:3d} ms: {rate:6.0f} messages/s (target >= {target}), "
        f"p50 {percentile(latencies, 0.5) * 1000:6.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms, {len(latencies)} messages"
    )


async def bench(
    url: str, people: int, latencies_ms: list[int], channels: list[str], threads: int | None
) -> None:
    runs = {"telegram": telegram_run, "whatsapp": whatsapp_run}
    for latency_ms in latencies_ms:
        for name in channels:
            concurrency = {"database_threads": threads} if threads else {}
            settings = {"database": {"url": url}, "concurrency": concurrency}
            app = build_app(Settings.model_validate(settings))
            try:
                latencies, elapsed = await runs[name](app, people, latency_ms / 1000)
            finally:
                app.close()
            report(name, latency_ms, latencies, elapsed, 300 if latency_ms == 0 else 150)
    app = build_app(Settings.model_validate({"database": {"url": url}}))
    try:
        latencies, elapsed = await engine_alone(app, people)
    finally:
        app.close()
    rate = len(latencies) / elapsed
    print(f"engine alone, one message at a time: {rate:6.0f} messages/s (the machine, now)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--latency", type=int, nargs="+", default=[0, 50], help="ms per API call")
    parser.add_argument("--channels", nargs="+", default=["telegram", "whatsapp"])
    parser.add_argument("--threads", type=int, help="database threads (default: config's)")
    parser.add_argument("--url", help="a throwaway database (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        asyncio.run(bench(url, args.people, args.latency, args.channels, args.threads))


if __name__ == "__main__":
    main()
