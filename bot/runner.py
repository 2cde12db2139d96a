"""`python -m bot run`: the network channels, the outbox sender and the scheduler.

Also builds the outbox sender for `python -m bot outbox drain` and `broadcast`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel
from bot.config import TELEGRAM_SECRET_ENV, TELEGRAM_TOKEN_ENV, Settings, secret
from bot.sending import OutboxSender, RateLimit, SenderSettings, Transport
from bot.web import build_web_app
from scheduler.runner import build_scheduler

log = logging.getLogger(__name__)


class NoChannelEnabled(Exception):
    """config.toml enables no network channel: there is nothing to serve."""


def enabled_channels(settings: Settings) -> list[str]:
    return ["telegram"] if settings.telegram.enabled else []


@dataclass
class Channels:
    """The network channels that config.toml switches on, started and ready."""

    telegram: TelegramChannel | None = None
    transports: dict[str, Transport] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def started_channels(app: App) -> AsyncIterator[Channels]:
    settings = app.settings
    channels = Channels()
    if settings.telegram.enabled:
        token = secret(TELEGRAM_TOKEN_ENV, "the Telegram bot token (from @BotFather)")
        channels.telegram = TelegramChannel.create(
            token=token, settings=settings.telegram, engine=app.engine, catalog=app.catalog
        )
        await channels.telegram.start()
        channels.transports["telegram"] = channels.telegram
    try:
        yield channels
    finally:
        if channels.telegram is not None:
            await channels.telegram.stop()


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
        ),
    )


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or the process is interrupted)."""
    if not enabled_channels(settings):
        raise NoChannelEnabled()
    stop = stop or asyncio.Event()
    webhook_secret = None
    if settings.telegram.mode == "webhook":
        webhook_secret = secret(TELEGRAM_SECRET_ENV, "the secret Telegram sends with webhooks")
    secret(TELEGRAM_TOKEN_ENV, "the Telegram bot token (from @BotFather)")  # fail before starting
    app = build_app(settings)
    try:
        async with started_channels(app) as channels:
            sender = build_sender(app, channels.transports)
            scheduler = build_scheduler(app) if settings.scheduler.enabled else None
            if scheduler:
                scheduler.start()
            tasks = [asyncio.ensure_future(sender.run(stop))]
            if settings.telegram.mode == "polling":
                tasks.append(asyncio.ensure_future(channels.telegram.poll(stop)))
            else:
                tasks.append(
                    asyncio.ensure_future(
                        _serve_webhooks(app, channels.telegram, webhook_secret, stop)
                    )
                )
            try:
                await asyncio.gather(*tasks)
            finally:
                stop.set()
                if scheduler:
                    scheduler.shutdown(wait=False)
    finally:
        app.close()


async def _serve_webhooks(
    app: App, telegram: TelegramChannel, webhook_secret: str, stop: asyncio.Event
) -> None:
    settings = app.settings
    web = build_web_app(telegram=telegram, telegram_secret=webhook_secret)
    config = uvicorn.Config(
        web, host=settings.server.host, port=settings.server.port, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve())
    # Register the webhook only once we listen, so Telegram's first delivery finds us.
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if serving.done():
        await serving  # it could not start (e.g. the port is taken): say why
        return
    if settings.telegram.webhook_url:
        await telegram.set_webhook(settings.telegram.webhook_url, webhook_secret)
    else:
        log.warning("[telegram] webhook_url is not set: register the webhook yourself")
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait({serving, waiter}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await serving
