"""`python -m bot run`: the network channels and the scheduler, until stopped."""

from __future__ import annotations

import asyncio
import logging

from bot.app import build_app
from bot.config import Settings
from scheduler.runner import build_scheduler

log = logging.getLogger(__name__)


class NoChannelEnabled(Exception):
    """config.toml enables no network channel: there is nothing to serve."""


def enabled_channels(settings: Settings) -> list[str]:
    """Network channels switched on in config.toml (Telegram and WhatsApp come next)."""
    return []


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    if not enabled_channels(settings):
        raise NoChannelEnabled()
    app = build_app(settings)
    scheduler = build_scheduler(app) if settings.scheduler.enabled else None
    if scheduler:
        scheduler.start()
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        if scheduler:
            scheduler.shutdown(wait=False)
        app.close()
