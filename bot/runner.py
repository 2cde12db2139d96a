"""`python -m bot run`: the network channels, the outbox sender and the scheduler.

Also builds the outbox sender for `python -m bot outbox drain` and `broadcast`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import uvicorn

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
from bot.sending import OutboxSender, RateLimit, SenderSettings, Transport
from bot.web import build_web_app
from scheduler.runner import build_scheduler

log = logging.getLogger(__name__)


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
        await channels.telegram.start()
        channels.transports["telegram"] = channels.telegram
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
        settings=SenderSettings(
            batch_size=pace.batch_size,
            concurrency=pace.concurrency,
            max_attempts=pace.max_attempts,
            lease=timedelta(seconds=pace.lease_seconds),
        ),
    )


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or the process is interrupted)."""
    if not enabled_channels(settings):
        raise NoChannelEnabled()
    check_secrets(settings)  # one clear line before anything starts
    stop = stop or asyncio.Event()
    app = build_app(settings)
    try:
        async with started_channels(app) as channels:
            scheduler = build_scheduler(app) if settings.scheduler.enabled else None
            if scheduler:
                scheduler.start()
            try:
                await asyncio.gather(*_tasks(app, channels, stop))
            finally:
                stop.set()
                if scheduler:
                    scheduler.shutdown(wait=False)
    finally:
        app.close()


def _tasks(app: App, channels: Channels, stop: asyncio.Event) -> list[asyncio.Future]:
    tasks = [asyncio.ensure_future(build_sender(app, channels.transports).run(stop))]
    telegram_webhook = channels.telegram is not None and app.settings.telegram.mode == "webhook"
    if channels.telegram is not None and not telegram_webhook:
        tasks.append(asyncio.ensure_future(channels.telegram.poll(stop)))
    wake_whatsapp = asyncio.Event()
    if channels.whatsapp is not None:
        tasks.append(
            asyncio.ensure_future(_whatsapp_worker(channels.whatsapp, wake_whatsapp, stop))
        )
    if telegram_webhook or channels.whatsapp is not None:
        tasks.append(asyncio.ensure_future(_serve_web(app, channels, wake_whatsapp.set, stop)))
    return tasks


async def _whatsapp_worker(
    whatsapp: WhatsAppChannel, wake: asyncio.Event, stop: asyncio.Event
) -> None:
    """Process stored webhook bodies: at start (what a stopped process left) and on each."""
    while not stop.is_set():
        try:
            await whatsapp.process_pending()
        except Exception:
            log.exception("processing WhatsApp webhooks failed; trying again")
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_either(wake, stop), timeout=5)


async def _either(first: asyncio.Event, second: asyncio.Event) -> None:
    waiters = {asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())}
    _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()


async def _serve_web(app: App, channels: Channels, on_whatsapp_event, stop: asyncio.Event) -> None:  # noqa: ANN001
    settings = app.settings
    telegram_secret = None
    if channels.telegram is not None and settings.telegram.mode == "webhook":
        telegram_secret = secret(TELEGRAM_SECRET_ENV, "")
    web = build_web_app(
        telegram=channels.telegram if telegram_secret else None,
        telegram_secret=telegram_secret,
        whatsapp=channels.whatsapp,
        on_whatsapp_event=on_whatsapp_event,
        max_body_bytes=settings.server.max_body_bytes,
    )
    config = uvicorn.Config(
        web, host=settings.server.host, port=settings.server.port, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve())
    # Register the Telegram webhook only once we listen, so the first delivery finds us.
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if serving.done():
        await serving  # it could not start (e.g. the port is taken): say why
        return
    if telegram_secret:
        if settings.telegram.webhook_url:
            await channels.telegram.set_webhook(settings.telegram.webhook_url, telegram_secret)
        else:
            log.warning("[telegram] webhook_url is not set: register the webhook yourself")
    await stop.wait()
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await serving
