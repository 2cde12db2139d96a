"""Benchmark: messages through the real channel code, from update to reply, in one process.

Simulated people chat with the bot over the tests' fakes of the platforms on 127.0.0.1:
Telegram (the channel long-polling the fake Bot API, as `run` does) and WhatsApp (the
fake Graph API posting signed webhooks to the bot's own web app, the worker answering
them). Each person sends a message and waits for the answer before the next, all people
at once. Every Bot/Graph API call takes `--latency` ms (0 and 50 by default). Prints
messages per second and p50/p99 from the update to its first reply.
Targets: >= 300 messages/s with instant API calls, >= 150/s at 50 ms.

    .venv/bin/python bench/e2e.py --people 100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout too

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
        wake = asyncio.Event()
        web = build_web_app(whatsapp=channel, on_whatsapp_event=wake.set)
        async with LoopbackServer(web) as server, worker(channel, wake):
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
async def worker(channel: WhatsAppChannel, wake: asyncio.Event) -> AsyncIterator[None]:
    """The WhatsApp worker of `run`: stored bodies processed as they come."""
    stop = asyncio.Event()

    async def work() -> None:
        while not stop.is_set():
            wake.clear()
            await channel.process_pending()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=0.5)

    task = asyncio.create_task(work())
    try:
        yield
    finally:
        stop.set()
        wake.set()
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
    url_for: Callable[[str], str],
    people: int,
    latencies_ms: list[int],
    channels: list[str],
    threads: int | None,
) -> None:
    """Each run on a database of its own: the same people starting from the same state (and
    no message ids remembered from another run's fake, which numbers them from 1 again)."""
    runs = {"telegram": telegram_run, "whatsapp": whatsapp_run}
    for latency_ms in latencies_ms:
        for name in channels:
            concurrency = {"database_threads": threads} if threads else {}
            settings = {"database": {"url": url_for(f"{name}-{latency_ms}")}}
            app = build_app(Settings.model_validate({**settings, "concurrency": concurrency}))
            try:
                latencies, elapsed = await runs[name](app, people, latency_ms / 1000)
            finally:
                app.close()
            report(name, latency_ms, latencies, elapsed, 300 if latency_ms == 0 else 150)
    app = build_app(Settings.model_validate({"database": {"url": url_for("engine")}}))
    try:
        latencies, elapsed = await engine_alone(app, people)
    finally:
        app.close()
    rate = len(latencies) / elapsed
    print(f"engine alone, one message at a time: {rate:6.0f} messages/s (the machine, now)")


def empty(url: str) -> None:
    """Start a throwaway PostgreSQL database from nothing."""
    database = sa.create_engine(url)
    with database.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--latency", type=int, nargs="+", default=[0, 50], help="ms per API call")
    parser.add_argument("--channels", nargs="+", default=["telegram", "whatsapp"])
    parser.add_argument("--threads", type=int, help="database threads (default: config's)")
    parser.add_argument(
        "--url", help="a throwaway PostgreSQL database, emptied for every run (default: SQLite)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:

        def url_for(run: str) -> str:
            url = args.url or f"sqlite:///{Path(folder) / f'{run}.db'}"
            if args.url:
                empty(url)
            upgrade(url)
            return url

        asyncio.run(bench(url_for, args.people, args.latency, args.channels, args.threads))


if __name__ == "__main__":
    main()
