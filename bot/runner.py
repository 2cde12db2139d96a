"""`python -m bot run`: the network channels and the scheduler, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import uvicorn

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel
from bot.config import TELEGRAM_SECRET_ENV, TELEGRAM_TOKEN_ENV, Settings, secret
from bot.web import build_web_app
from scheduler.runner import build_scheduler

log = logging.getLogger(__name__)


class NoChannelEnabled(Exception):
    """config.toml enables no network channel: there is nothing to serve."""


def enabled_channels(settings: Settings) -> list[str]:
    return ["telegram"] if settings.telegram.enabled else []


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or the process is interrupted)."""
    if not enabled_channels(settings):
        raise NoChannelEnabled()
    stop = stop or asyncio.Event()
    token = secret(TELEGRAM_TOKEN_ENV, "the Telegram bot token (from @BotFather)")
    webhook_secret = None
    if settings.telegram.mode == "webhook":
        webhook_secret = secret(TELEGRAM_SECRET_ENV, "the secret Telegram sends with webhooks")
    app = build_app(settings)
    telegram = TelegramChannel.create(
        token=token, settings=settings.telegram, engine=app.engine, catalog=app.catalog
    )
    scheduler = build_scheduler(app) if settings.scheduler.enabled else None
    await telegram.start()
    if scheduler:
        scheduler.start()
    try:
        if settings.telegram.mode == "polling":
            await telegram.poll(stop)
        else:
            await _serve_webhooks(app, telegram, webhook_secret, stop)
    finally:
        if scheduler:
            scheduler.shutdown(wait=False)
        await telegram.stop()
        app.close()


async def _serve_webhooks(
    app: App, telegram: TelegramChannel, webhook_secret: str, stop: asyncio.Event
) -> None:
    settings = app.settings
    if settings.telegram.webhook_url:
        await telegram.set_webhook(settings.telegram.webhook_url, webhook_secret)
    else:
        log.warning("[telegram] webhook_url is not set: register the webhook yourself")
    web = build_web_app(telegram=telegram, telegram_secret=webhook_secret)
    config = uvicorn.Config(
        web, host=settings.server.host, port=settings.server.port, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve())
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait({serving, waiter}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await serving
