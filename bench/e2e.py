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
import multiprocessing
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout too


from bot.app import App, build_app
from bot.channels.lanes import Lanes
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
INTERNAL_ERROR = "ada gangguan di sistem kami"  # errors.internal, in Indonesian


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
    """The fake Bot API and the people in this process, beside the bot."""
    replies = Replies()
    async with TimedTelegram(
        replies, token=TOKEN, latency=latency, per_chat_per_second=None, global_per_second=None
    ) as api:
        people = telegram_people(api, count)
        async with polling(app, (api.base_url, api.base_file_url)) as channel:

            async def idle() -> None:
                while api.pending_updates or channel.lanes.in_progress:
                    await asyncio.sleep(0.002)

            latencies, elapsed = await rounds(people, replies, idle)
        check_answers(api)
        return latencies, elapsed


async def telegram_run_apart(app: App, count: int, latency: float) -> tuple[list, float]:
    """The fake Bot API and the people in a process of their own (on the other core), so
    that this process's CPU is the bot's alone; they ask here whether the bot is idle."""
    async with (
        apart(telegram_people_apart, count, latency) as link,
        polling(app, await link.receive()) as channel,
    ):
        link.send("go")
        latencies, elapsed, cpu = await outcome_apart(link, channel.lanes)
    print(f"  the fake Bot API and the people: CPU {cpu * 1000 / len(latencies):.2f} ms/message")
    return latencies, elapsed


def telegram_people_apart(conn: Connection, count: int, latency: float) -> None:
    """The other process: the fake Bot API and the people saying the script."""
    asyncio.run(_telegram_people_apart(conn, count, latency))


async def _telegram_people_apart(conn: Connection, count: int, latency: float) -> None:
    replies = Replies()
    link = Link(conn)
    async with TimedTelegram(
        replies, token=TOKEN, latency=latency, per_chat_per_second=None, global_per_second=None
    ) as api:
        people = telegram_people(api, count)
        link.send((api.base_url, api.base_file_url))
        await link.receive()  # "go": the bot polls
        await rounds_apart(
            link,
            people,
            replies,
            pending=lambda: bool(api.pending_updates),
            check=lambda: check_answers(api),
        )
    link.close()


@contextlib.asynccontextmanager
async def apart(
    people: Callable[[Connection, int, float], None], count: int, latency: float
) -> AsyncIterator[Link]:
    """`people` (a fake platform and the people saying the script) run in a process of
    their own; a link to it."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    other = context.Process(target=people, args=(theirs, count, latency))
    other.start()
    link = Link(ours)
    try:
        yield link
    finally:
        link.close()
        other.join(timeout=30)


async def outcome_apart(link: Link, lanes: Lanes) -> tuple[list, float, float]:
    """Each "idle?" of the other process answered once the bot has nothing in progress,
    until it sends its outcome: latencies, seconds, and its CPU seconds."""
    while (message := await link.receive()) == "idle?":
        while lanes.in_progress:
            await asyncio.sleep(0.002)
        link.send("idle")
    if message[0] == "failed":
        raise SystemExit(message[1])
    _, latencies, elapsed, cpu = message
    return latencies, elapsed, cpu


async def rounds_apart(
    link: Link,
    people: list[Person],
    replies: Replies,
    *,
    pending: Callable[[], bool] = lambda: False,
    check: Callable[[], None] = lambda: None,
) -> None:
    """In the other process: the rounds, the bot asked after each whether it is idle (once
    nothing is `pending` on the fake's side); the outcome sent back."""
    cpu = time.process_time()

    async def idle() -> None:
        while pending():
            await asyncio.sleep(0.002)
        link.send("idle?")
        await link.receive()

    try:
        latencies, elapsed = await rounds(people, replies, idle)
        check()
    except SystemExit as failure:
        link.send(("failed", str(failure)))
    else:
        link.send(("done", latencies, elapsed, time.process_time() - cpu))


def telegram_people(api: FakeTelegram, count: int) -> list[Person]:
    users = [api.user(900_000 + n, f"Orang {n}") for n in range(count)]
    return [Person(str(user.id), user.send_text) for user in users]


@contextlib.asynccontextmanager
async def polling(app: App, urls: tuple[str, str]) -> AsyncIterator[TelegramChannel]:
    """The Telegram channel long-polling the Bot API at `urls` (base, files), as `run` does."""
    base_url, base_file_url = urls
    settings = TelegramSettings(
        enabled=True, base_url=base_url, base_file_url=base_file_url, poll_timeout=1
    )
    channel = TelegramChannel.create(
        token=TOKEN, settings=settings, engine=app.engine, catalog=app.catalog
    )
    await channel.start()
    stop = asyncio.Event()
    poller = asyncio.create_task(channel.poll(stop))
    try:
        yield channel
    finally:
        stop.set()
        await poller
        await channel.stop()


def check_answers(api: FakeTelegram) -> None:
    """Every person got the same answers to the same script: no internal-error answer, no
    line answered differently for some (what was answered is printed, so it can be read)."""
    texts: dict[int, list[str]] = {}
    for message in api.messages:
        texts.setdefault(message.chat_id, []).append(message.visible_text or "")
    distinct = {tuple(chat) for chat in texts.values()}
    if len(distinct) != 1 or any(INTERNAL_ERROR in text for text in next(iter(distinct))):
        raise SystemExit(f"the people were answered differently: {len(distinct)} transcripts")
    print(f"  each person's {len(next(iter(distinct)))} answers, first lines:")
    for text in next(iter(distinct)):
        print(f"    {text.splitlines()[0][:70]!r}")


class Link:
    """A pipe to the other process, read by this event loop without a thread."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.queue: asyncio.Queue = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(conn.fileno(), self._readable)

    def _readable(self) -> None:
        while self.conn.poll():
            self.queue.put_nowait(self.conn.recv())

    async def receive(self) -> Any:
        return await self.queue.get()

    def send(self, item: Any) -> None:
        self.conn.send(item)

    def close(self) -> None:
        self.loop.remove_reader(self.conn.fileno())


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
    async with (
        TimedWhatsApp(replies, **whatsapp_fake_options(latency)) as graph,
        whatsapp_bot(app, graph_of(graph)) as (channel, url),
    ):
        await graph.set_webhook(url, verify_token=VERIFY)
        people = whatsapp_people(graph, count)

        async def idle() -> None:
            # Statuses of the replies keep coming meanwhile, as they do from Meta.
            while channel.lanes.in_progress:
                await asyncio.sleep(0.002)

        return await rounds(people, replies, idle)


async def whatsapp_run_apart(app: App, count: int, latency: float) -> tuple[list, float]:
    """The fake Graph API and the people in a process of their own, so that this process's
    CPU is the bot's alone; also prints the bot's CPU and database transactions per message."""
    commits = itertools.count()
    sa.event.listen(app.database, "commit", lambda _: next(commits))
    cpu = time.process_time()
    async with (
        apart(whatsapp_people_apart, count, latency) as link,
        whatsapp_bot(app, await link.receive()) as (channel, url),
    ):
        link.send(url)
        latencies, elapsed, theirs_cpu = await outcome_apart(link, channel.lanes)
    cpu, done = time.process_time() - cpu, next(commits)
    print(
        f"whatsapp  API {latency * 1000:3.0f} ms: {cpu * 1000 / len(latencies):5.1f} ms CPU and "
        f"{done / len(latencies):4.2f} transactions per message (the bot's process); "
        f"the fake Graph API and the people: CPU {theirs_cpu * 1000 / len(latencies):.2f} "
        "ms/message"
    )
    return latencies, elapsed


def whatsapp_people_apart(conn: Connection, count: int, latency: float) -> None:
    """The other process: the fake Graph API and the people saying the script."""
    asyncio.run(_whatsapp_people_apart(conn, count, latency))


async def _whatsapp_people_apart(conn: Connection, count: int, latency: float) -> None:
    replies = Replies()
    link = Link(conn)
    async with TimedWhatsApp(replies, **whatsapp_fake_options(latency)) as graph:
        link.send(graph_of(graph))
        await graph.set_webhook(await link.receive(), verify_token=VERIFY)
        await rounds_apart(link, whatsapp_people(graph, count), replies)
    link.close()


def whatsapp_fake_options(latency: float) -> dict:
    return {
        "app_secret": SECRET,
        "latency": latency,
        "per_second": None,
        "pair_per_second": None,
        "webhook_connections": 4,
    }


def graph_of(graph: FakeWhatsApp) -> dict[str, str]:
    """What the bot needs to know of the (fake) Graph API."""
    return {
        "base_url": graph.base_url,
        "api_version": graph.api_version,
        "phone_number_id": graph.phone_number_id,
        "access_token": graph.access_token,
    }


def whatsapp_people(graph: FakeWhatsApp, count: int) -> list[Person]:
    users = [graph.person(wa_id=f"62813{n:08d}", name=f"Orang {n}") for n in range(count)]
    return [Person(user.wa_id, user.send_text) for user in users]


@contextlib.asynccontextmanager
async def whatsapp_bot(app: App, graph: dict[str, str]) -> AsyncIterator[tuple]:
    """The WhatsApp channel, its web app serving webhooks and its worker, as `run` has them;
    the channel and the webhook's URL."""
    channel = WhatsAppChannel(
        settings=WhatsAppSettings(
            enabled=True,
            base_url=graph["base_url"],
            api_version=graph["api_version"],
            phone_number_id=graph["phone_number_id"],
        ),
        engine=app.engine,
        catalog=app.catalog,
        access_token=graph["access_token"],
        app_secret=SECRET,
        verify_token=VERIFY,
    )
    web = build_web_app(whatsapp=channel)
    try:
        async with LoopbackServer(web) as server, worker(channel):
            yield channel, f"{server.url}/webhooks/whatsapp"
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


def report(
    name: str, latency_ms: int, latencies: list[float], elapsed: float, target: int, cpu: float
) -> None:
    rate = len(latencies) / elapsed
    print(
        f"{name:9} API {latency_ms:3d} ms: {rate:6.0f} messages/s (target >= {target}), "
        f"p50 {percentile(latencies, 0.5) * 1000:6.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms, {len(latencies)} messages, "
        f"CPU of this process {cpu * 1000 / len(latencies):.2f} ms/message"
    )


async def bench(
    url_for: Callable[[str], str],
    people: int,
    latencies_ms: list[int],
    channels: list[str],
    threads: int | None,
    fake_apart: bool,
) -> None:
    """Each run on a database of its own: the same people starting from the same state (and
    no message ids remembered from another run's fake, which numbers them from 1 again)."""
    runs = {"telegram": telegram_run, "whatsapp": whatsapp_run}
    if fake_apart:
        runs = {"telegram": telegram_run_apart, "whatsapp": whatsapp_run_apart}
    for latency_ms in latencies_ms:
        for name in channels:
            concurrency = {"database_threads": threads} if threads else {}
            settings = {"database": {"url": url_for(f"{name}-{latency_ms}")}}
            app = build_app(Settings.model_validate({**settings, "concurrency": concurrency}))
            cpu = time.process_time()
            try:
                latencies, elapsed = await runs[name](app, people, latency_ms / 1000)
            finally:
                app.close()
            cpu = time.process_time() - cpu
            report(name, latency_ms, latencies, elapsed, 300 if latency_ms == 0 else 150, cpu)
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
        "--fakes",
        choices=["apart", "here"],
        default="apart",
        help="the fake platform API and the people in a process of their own, or in the bot's",
    )
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

        fake_apart = args.fakes == "apart"
        print(f"The fake platform APIs and the people: {args.fakes} (this process: the bot)")
        asyncio.run(
            bench(url_for, args.people, args.latency, args.channels, args.threads, fake_apart)
        )


if __name__ == "__main__":
    main()
