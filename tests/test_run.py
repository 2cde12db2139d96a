"""`python -m bot run` end to end: settings in, the Telegram channel served, in both modes."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import httpx
import pytest

from bot.config import Settings
from bot.runner import serve
from models import Person
from tests.fakes.telegram import FakeTelegram, ManualClock

TOKEN = "123456:RUN-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings_for(settings: Settings, api: FakeTelegram, **telegram) -> Settings:
    return settings.model_copy(
        update={
            "telegram": settings.telegram.model_copy(
                update={
                    "enabled": True,
                    "base_url": api.base_url,
                    "base_file_url": api.base_file_url,
                    "poll_timeout": 1,
                    **telegram,
                }
            ),
            "server": settings.server.model_copy(update={"port": free_port()}),
        }
    )


async def run_until(settings: Settings, check, api: FakeTelegram) -> None:
    stop = asyncio.Event()
    running = asyncio.ensure_future(serve(settings, stop))
    try:
        await api.wait_until(check, timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=10)


@pytest.fixture
def token(monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "hook-secret")


async def test_run_serves_telegram_by_long_polling(settings, token, app) -> None:
    async with FakeTelegram(token=TOKEN, clock=ManualClock(), user_pause=1.0) as api:
        siti = api.user(111, "Siti", phone="+6281234567890")
        await siti.send_text("/start")
        await run_until(
            settings_for(settings, api), lambda: siti.last_text and "Selamat" in siti.last_text, api
        )
        assert {c["command"] for c in api.commands} >= {"start", "produk", "bimtek"}


async def test_run_serves_telegram_by_webhook(settings, token, app) -> None:
    async with FakeTelegram(token=TOKEN, clock=ManualClock(), user_pause=1.0) as api:
        configured = settings_for(settings, api, mode="webhook")
        configured.telegram.webhook_url = (
            f"http://127.0.0.1:{configured.server.port}/webhooks/telegram"
        )
        siti = api.user(111, "Siti", phone="+6281234567890")
        stop = asyncio.Event()
        running = asyncio.ensure_future(serve(configured, stop))
        try:
            await api.wait_until(lambda: api.webhook.get("url"), timeout=10)
            await siti.send_text("halo")
            await api.wait_until(lambda: siti.last_text and "Selamat" in siti.last_text, 10)
            await api.wait_until(lambda: api.webhook_deliveries, 10)
            assert [d.status for d in api.webhook_deliveries] == [200]
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=10)
    from sqlmodel import Session, select

    with Session(app.database) as session:
        assert session.exec(select(Person)).one().phone is None  # linked later by contact


async def test_run_serves_whatsapp_webhooks(settings, app, monkeypatch) -> None:
    from tests.fakes.whatsapp import FakeWhatsApp

    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "TEST-TOKEN")
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "app-secret")
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", "verify-me")
    async with FakeWhatsApp(app_secret="app-secret", clock=ManualClock(), user_pause=7.0) as graph:
        configured = settings.model_copy(
            update={
                "whatsapp": settings.whatsapp.model_copy(
                    update={
                        "enabled": True,
                        "base_url": graph.base_url,
                        "api_version": graph.api_version,
                        "phone_number_id": graph.phone_number_id,
                    }
                ),
                "server": settings.server.model_copy(update={"port": free_port()}),
            }
        )
        stop = asyncio.Event()
        running = asyncio.ensure_future(serve(configured, stop))
        try:
            url = f"http://127.0.0.1:{configured.server.port}/webhooks/whatsapp"
            for _ in range(100):  # until uvicorn listens (bounded)
                with contextlib.suppress(httpx.ConnectError):
                    if (await graph.verify(url, "verify-me", "ok"))[0] == 200:
                        break
                await asyncio.sleep(0.05)
            await graph.set_webhook(url, verify_token="verify-me")
            siti = graph.person(wa_id="6281234567890", name="Siti")
            await siti.send_text("halo")
            await graph.wait_until(lambda: siti.last_text and "Selamat" in siti.last_text, 10)
            await siti.tap_button("Setuju")
            await graph.wait_until(lambda: "Saya pelaku IKM" in siti.last_buttons, 10)
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=10)
