"""`python -m bot run`: the network channels, the outbox sender and the scheduler.

Also builds the outbox sender for `python -m bot outbox drain` and `broadcast`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

import uvicorn
from sqlalchemy.engine import make_url
from starlette.types import ASGIApp

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import (
    TELEGRAM_SECRET_ENV,
    TELEGRAM_TOKEN_ENV,
    WHATSAPP_SECRET_ENV,
    WHATSAPP_TOKEN_ENV,
    WHATSAPP_VERIFY_ENV,
    Settings,
    secret,
)
from bot.console.app import build_console
from bot.metrics import Metrics, instrument
from bot.sending import OutboxSender, RateLimit, SenderSettings, Transport
from bot.web import build_web_app
from scheduler.lease import Lease, Timing, make_lease, run_elected
from scheduler.runner import build_scheduler

log = logging.getLogger(__name__)


class Role(StrEnum):
    """A part of `run` a deployment may put in processes of its own."""

    WEB = "web"  # the channels taking messages in: webhooks, Telegram polling, stored bodies
    SENDER = "sender"  # the outbox sender
    SCHEDULER = "scheduler"  # the periodic jobs, in the one process holding the lease


ALL_ROLES = frozenset(Role)


def parse_roles(values: list[str]) -> frozenset[Role]:
    """`--role web --role sender`, `--role web,sender` or `all`; ValueError names a bad one."""
    roles: set[Role] = set()
    for value in values:
        for name in filter(None, (part.strip().lower() for part in value.split(","))):
            if name == "all":
                roles |= ALL_ROLES
            else:
                roles.add(Role(name))
    return frozenset(roles) or ALL_ROLES


def needs_channels(roles: frozenset[Role]) -> bool:
    return Role.WEB in roles or Role.SENDER in roles


class NoChannelEnabled(Exception):
    """config.toml enables no network channel: there is nothing to serve."""


def enabled_channels(settings: Settings) -> list[str]:
    names = []
    if settings.telegram.enabled:
        names.append("telegram")
    if settings.whatsapp.enabled:
        names.append("whatsapp")
    return names


def check_secrets(settings: Settings) -> None:
    """Every secret the enabled channels need, before anything starts."""
    if settings.telegram.enabled:
        secret(TELEGRAM_TOKEN_ENV, "the Telegram bot token (from @BotFather)")
        if settings.telegram.mode == "webhook":
            secret(TELEGRAM_SECRET_ENV, "the secret Telegram sends with webhooks")
    if settings.whatsapp.enabled:
        secret(WHATSAPP_TOKEN_ENV, "the WhatsApp Cloud API access token")
        secret(WHATSAPP_SECRET_ENV, "the Meta app secret that signs webhooks")
        secret(WHATSAPP_VERIFY_ENV, "the verify token of the webhook handshake")


@dataclass
class Channels:
    """The network channels that config.toml switches on, started and ready."""

    telegram: TelegramChannel | None = None
    whatsapp: WhatsAppChannel | None = None
    transports: dict[str, Transport] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def started_channels(app: App) -> AsyncIterator[Channels]:
    settings = app.settings
    check_secrets(settings)
    channels = Channels()
    if settings.telegram.enabled:
        channels.telegram = TelegramChannel.create(
            token=secret(TELEGRAM_TOKEN_ENV, ""),
            settings=settings.telegram,
            engine=app.engine,
            catalog=app.catalog,
        )
        if await _started(channels.telegram):
            channels.transports["telegram"] = channels.telegram
        else:
            channels.telegram = None
    if settings.whatsapp.enabled:
        channels.whatsapp = WhatsAppChannel(
            settings=settings.whatsapp,
            engine=app.engine,
            catalog=app.catalog,
            access_token=secret(WHATSAPP_TOKEN_ENV, ""),
            app_secret=secret(WHATSAPP_SECRET_ENV, ""),
            verify_token=secret(WHATSAPP_VERIFY_ENV, ""),
        )
        channels.transports["whatsapp"] = channels.whatsapp
    try:
        yield channels
    finally:
        if channels.telegram is not None:
            await channels.telegram.stop()
        if channels.whatsapp is not None:
            await channels.whatsapp.close()


async def _started(telegram: TelegramChannel) -> bool:
    """Telegram's start (getMe, the command menu); False, said once, when it fails.

    A refused token or an unreachable API must not keep WhatsApp from being served.
    """
    try:
        await telegram.start()
    except Exception as error:
        log.error("[telegram] could not start (%s): the Telegram channel stays off", error)
        with contextlib.suppress(Exception):
            await telegram.stop()
        return False
    return True


def build_sender(app: App, transports: dict[str, Transport]) -> OutboxSender:
    pace = app.settings.outbox
    limits = {
        "telegram": RateLimit(pace.telegram_per_second, pace.telegram_per_chat_per_second),
        "whatsapp": RateLimit(pace.whatsapp_per_second),
    }
    return OutboxSender(
        database=app.database,
        transports=transports,
        limits={channel: limits[channel] for channel in transports},
        render=app.engine.render,
        clock=app.engine.clock,
        boundary=app.engine.boundary,
        settings=SenderSettings(
            batch_size=pace.batch_size,
            concurrency=pace.concurrency,
            max_attempts=pace.max_attempts,
            lease=timedelta(seconds=pace.lease_seconds),
        ),
    )


@dataclass(frozen=True)
class Part:
    """One loop of `run`, supervised on its own: a failure stops this loop at most.

    `run(stop)` returns when the part has ended for good (having logged why) and raises
    when it failed and may be restarted. Parts that `serve_people` (a channel taking
    messages in) are the reason the process runs; the others (sender, scheduler) serve them.
    """

    name: str
    run: Callable[[asyncio.Event], Awaitable[None]]
    serves_people: bool = False


@dataclass(frozen=True)
class Backoff:
    """The pause before a failed part starts again: doubling from `first` up to `cap`."""

    first: float = 1.0
    cap: float = 60.0

    def wait(self, failures: int) -> float:
        return min(self.cap, self.first * 2 ** max(failures - 1, 0))


class NothingLeftToServe(Exception):
    """Every channel of `run` has ended by itself: nothing is left to serve."""

    def __init__(self) -> None:
        super().__init__("run stopped: every channel has ended (the log says why)")


class AlreadyRunning(Exception):
    """Another `run` holds this SQLite database."""

    def __init__(self, pid: str) -> None:
        super().__init__(f"another `run` is already serving this database (pid {pid})")
        self.pid = pid


@contextlib.contextmanager
def sole_run(database_url: str) -> Iterator[None]:
    """On SQLite, one `run` per database file, held by a lock file beside it.

    A second `run` would only fight the first for the Telegram token (409 on both) and
    repeat its scheduler's and sender's work on a database that allows one writer at a
    time. The lock dies with its process, also on kill -9. PostgreSQL is unaffected: there
    several processes are the growth path.
    """
    database = _sqlite_file(database_url)
    if database is None:
        yield
        return
    lock_path = database.with_name(database.name + ".run.lock")
    with open(lock_path, "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            raise AlreadyRunning(lock.read().strip() or "unknown") from None
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        yield


def _sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


async def serve(
    settings: Settings,
    stop: asyncio.Event | None = None,
    backoff: Backoff | None = None,
    roles: frozenset[Role] = ALL_ROLES,
) -> None:
    """Run `roles` until `stop` is set (or the process is interrupted).

    NothingLeftToServe when every channel has ended by itself (a refused token, a port
    taken); until then a failing part is restarted, and the others go on.
    """
    if needs_channels(roles):
        if not enabled_channels(settings) and not (Role.WEB in roles and settings.console.enabled):
            raise NoChannelEnabled()
        check_secrets(settings)  # one clear line before anything starts
    stop = stop or asyncio.Event()
    app = build_app(settings)
    runtime = Runtime(lease=make_lease(app.database), metrics=Metrics(app.database))
    runtime.metrics.watch_lease(runtime.lease)
    instrument(app.engine, runtime.metrics)
    try:
        async with _channels_for(app, roles) as channels:
            await supervise(
                _parts(app, channels, runtime, roles),
                stop,
                backoff or Backoff(),
                serves_people=Role.WEB in roles,
            )
    finally:
        runtime.lease.dispose()
        app.close()


async def serve_until_signalled(settings: Settings, roles: frozenset[Role] = ALL_ROLES) -> None:
    """`serve` until SIGINT or SIGTERM (Ctrl+C, systemd, docker stop), each of which stops it
    the same graceful way: through its `stop` event, not a KeyboardInterrupt that could land
    anywhere (a second one while the parts end changes nothing)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await serve(settings, stop=stop, roles=roles)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


@dataclass(frozen=True)
class Runtime:
    """What the parts of one `run` share: the scheduler lease and the metrics."""

    lease: Lease
    metrics: Metrics


def _channels_for(app: App, roles: frozenset[Role]) -> contextlib.AbstractAsyncContextManager:
    """The channels when a role needs them; a scheduler-only process only enqueues."""
    if needs_channels(roles):
        return started_channels(app)
    return contextlib.nullcontext(Channels())


async def supervise(
    parts: list[Part], stop: asyncio.Event, backoff: Backoff, *, serves_people: bool = True
) -> None:
    """Every part until `stop`; NothingLeftToServe once no part serving people is left.

    A process that serves no people by design (`--role sender` or `scheduler` alone) runs
    until `stop`.
    """
    tasks = [
        asyncio.create_task(_keep_running(part, stop, backoff), name=part.name) for part in parts
    ]
    serving = [task for task, part in zip(tasks, parts, strict=True) if part.serves_people]
    channels_over = asyncio.ensure_future(_all_done(serving) if serves_people else _forever())
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({channels_over, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        channels_over.cancel()
        stopped.cancel()
        nothing_left = not stop.is_set()
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    if nothing_left:
        log.error("[run] no channel is left running: stopping the sender and the scheduler")
        raise NothingLeftToServe()


async def _all_done(tasks: list[asyncio.Task]) -> None:
    if tasks:
        await asyncio.wait(tasks)


async def _forever() -> None:
    await asyncio.Event().wait()


async def _keep_running(part: Part, stop: asyncio.Event, backoff: Backoff) -> None:
    """Run `part`, starting it again after a failure, until it ends or `stop` is set."""
    loop = asyncio.get_running_loop()
    failures = 0
    while not stop.is_set():
        started = loop.time()
        try:
            await part.run(stop)
        except Exception:
            ran_well = loop.time() - started > backoff.cap
            failures = 1 if ran_well else failures + 1
            wait = backoff.wait(failures)
            log.exception("[run] %s failed; starting it again in %.0f s", part.name, wait)
            await _rest(wait, stop)
            continue
        if not stop.is_set():
            log.warning("[run] %s has ended; the rest goes on", part.name)
        return


async def _rest(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def _parts(
    app: App, channels: Channels, runtime: Runtime, roles: frozenset[Role] = ALL_ROLES
) -> list[Part]:
    parts = []
    if Role.SENDER in roles:
        parts.append(Part("outbox sender", build_sender(app, channels.transports).run))
    if Role.SCHEDULER in roles and app.settings.scheduler.enabled:
        parts.append(Part("scheduler", lambda stop: _elected_scheduler(app, runtime.lease, stop)))
    if Role.WEB in roles:
        parts.extend(_channel_parts(app, channels, runtime))
    return parts


def _channel_parts(app: App, channels: Channels, runtime: Runtime) -> list[Part]:
    settings = app.settings
    parts = []
    telegram_webhook = channels.telegram is not None and settings.telegram.mode == "webhook"
    if channels.telegram is not None and not telegram_webhook:
        parts.append(Part("telegram polling", channels.telegram.poll, serves_people=True))
    if channels.whatsapp is not None:
        whatsapp = channels.whatsapp
        parts.append(Part("whatsapp worker", lambda stop: _whatsapp_worker(whatsapp, stop)))
    if telegram_webhook or channels.whatsapp is not None or settings.console.enabled:
        parts.append(
            Part(
                "web server",
                lambda stop: _serve_web(app, channels, runtime, stop),
                serves_people=True,
            )
        )
    return parts


async def _elected_scheduler(app: App, lease: Lease, stop: asyncio.Event) -> None:
    """The jobs, in whichever process holds the lease (scheduler/lease.py)."""
    every = app.settings.scheduler
    timing = Timing(
        retry_seconds=every.lease_retry_seconds, check_seconds=every.lease_check_seconds
    )
    await run_elected(lease, lambda until: _run_scheduler(app, until), stop, timing)


async def _run_scheduler(app: App, stop: asyncio.Event) -> None:
    scheduler = build_scheduler(app)
    scheduler.start()
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)


async def _whatsapp_worker(whatsapp: WhatsAppChannel, stop: asyncio.Event) -> None:
    """Process stored webhook bodies nobody is processing: at start (what a stopped process
    left), then every few seconds (a failed pass, a dead process's claim after its lease).
    A body arriving here is processed as it arrives, not by this round."""
    while not stop.is_set():
        try:
            await whatsapp.process_pending()
        except Exception:
            log.exception("processing WhatsApp webhooks failed; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=5)


async def _serve_web(
    app: App,
    channels: Channels,
    runtime: Runtime,
    stop: asyncio.Event,
) -> None:
    settings = app.settings
    telegram_secret = None
    if channels.telegram is not None and settings.telegram.mode == "webhook":
        telegram_secret = secret(TELEGRAM_SECRET_ENV, "")
    web = build_web_app(
        telegram=channels.telegram if telegram_secret else None,
        telegram_secret=telegram_secret,
        whatsapp=channels.whatsapp,
        max_body_bytes=settings.server.max_body_bytes,
        health=runtime.metrics.health,
        metrics=runtime.metrics.exposition,
        console=web_console(app),
    )
    # log_config=None: uvicorn's lines go through the root handlers, where secrets are masked.
    config = uvicorn.Config(
        web,
        host=settings.server.host,
        port=settings.server.port,
        log_level="warning",
        log_config=None,
    )
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(_listen(server))
    # Register the Telegram webhook only once we listen, so the first delivery finds us.
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if serving.done():
        if not serving.result():
            log.error(
                "[web] cannot listen on %s:%d (see the line above): webhooks are not served",
                settings.server.host,
                settings.server.port,
            )
        return
    if telegram_secret:
        if settings.telegram.webhook_url:
            await channels.telegram.set_webhook(settings.telegram.webhook_url, telegram_secret)
        else:
            log.warning("[telegram] webhook_url is not set: register the webhook yourself")
    await _either_done(serving, stop)
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await serving


def web_console(app: App) -> ASGIApp | None:
    """The Dinas's web console over this app's database, when config.toml has it on."""
    if not app.settings.console.enabled:
        return None
    return build_console(
        database=app.database,
        settings=app.settings,
        catalog=app.catalog,
        clock=app.engine.clock,
    )


async def _listen(server: uvicorn.Server) -> bool:
    """Serve until told to exit; False when it could not start (uvicorn exits the process)."""
    try:
        await server.serve()
    except SystemExit:
        return False
    return True


async def _either_done(task: asyncio.Future, stop: asyncio.Event) -> None:
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
