"""`run` under faults: a channel's failure stops that channel at most, and logs say so once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import select

from bot.config import Settings
from bot.runner import Backoff, NothingLeftToServe, serve
from bot.services import outbox
from models import ChannelAccount
from models.db import transaction
from tests.fakes.telegram import FakeTelegram, ManualClock
from tests.fakes.whatsapp import FakeWhatsApp
from tests.test_run import free_port

TOKEN = "123456:FAULT-token"
WA_TOKEN = "WA-ACCESS-token"
QUICK = Backoff(first=0.05, cap=1.0)


@pytest.fixture
def secrets(monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", WA_TOKEN)
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "app-secret")
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", "verify-me")


def configured(
    settings: Settings, api: FakeTelegram, graph: FakeWhatsApp | None, port: int
) -> Settings:
    update = {
        "telegram": settings.telegram.model_copy(
            update={
                "enabled": True,
                "base_url": api.base_url,
                "base_file_url": api.base_file_url,
                "poll_timeout": 1,
                "poll_retry_seconds": 0.01,
            }
        ),
        "server": settings.server.model_copy(update={"port": port}),
    }
    if graph is not None:
        update["whatsapp"] = settings.whatsapp.model_copy(
            update={
                "enabled": True,
                "base_url": graph.base_url,
                "api_version": graph.api_version,
                "phone_number_id": graph.phone_number_id,
            }
        )
    return settings.model_copy(update=update)


@contextlib.asynccontextmanager
async def running(settings: Settings):
    stop = asyncio.Event()
    task = asyncio.ensure_future(serve(settings, stop, QUICK))
    try:
        yield task
    finally:
        stop.set()
        with contextlib.suppress(NothingLeftToServe):
            await asyncio.wait_for(task, timeout=15)


async def hook_whatsapp(graph: FakeWhatsApp, port: int, verify_token: str = "verify-me") -> str:
    url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
    for _ in range(200):  # until uvicorn listens (bounded)
        with contextlib.suppress(httpx.ConnectError):
            if (await graph.verify(url, verify_token, "ok"))[0] == 200:
                break
        await asyncio.sleep(0.05)
    await graph.set_webhook(url, verify_token=verify_token)
    return url


async def whatsapp_answers(graph: FakeWhatsApp, wa_id: str = "6281234567890"):
    person = graph.person(wa_id=wa_id, name="Siti")
    await person.send_text("halo")
    await graph.wait_until(lambda: person.last_text and "Selamat" in person.last_text, 10)
    return person


def queue_announcement(app, wa_id: str, text: str) -> None:
    with transaction(app.database) as session:
        account = session.exec(
            select(ChannelAccount).where(
                ChannelAccount.channel == "whatsapp", ChannelAccount.external_id == wa_id
            )
        ).one()
        outbox.enqueue(
            session,
            person_id=account.person_id,
            key=f"fault-test:{wa_id}",
            template="announcement",
            params={"text": text, "image_ref": None},
            now=datetime.now(UTC),
        )


def lines(caplog, needle: str, level: int = logging.WARNING) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.levelno >= level and needle in r.getMessage()
    ]


def conflicts(api: FakeTelegram) -> int:
    return sum(1 for call in api.calls_to("getUpdates") if call.status == 409)


async def test_a_second_poller_stops_nothing_but_telegram_polling(
    settings, app, secrets, caplog
) -> None:
    caplog.set_level(logging.INFO)
    port = free_port()
    async with (
        FakeTelegram(token=TOKEN, clock=ManualClock(), user_pause=1.0) as api,
        FakeWhatsApp(
            access_token=WA_TOKEN, app_secret="app-secret", clock=ManualClock(), user_pause=7.0
        ) as graph,
    ):
        api.force_conflict(times=100_000)  # another copy of the bot polls the same token
        async with running(configured(settings, api, graph, port)) as task:
            await api.wait_until(lambda: conflicts(api) >= 3, 10)
            await hook_whatsapp(graph, port)
            siti = await whatsapp_answers(graph)
            queue_announcement(app, siti.wa_id, "Pasar IKM Sabtu ini")
            await graph.wait_until(lambda: "Pasar IKM" in (siti.last_text or ""), 10)
            assert not task.done()
            assert conflicts(api) >= 4
            assert len(lines(caplog, "409 Conflict")) == 1  # said once, not per attempt

            api.end_forced()  # the other poller is gone: polling resumes by itself
            budi = api.user(222, "Budi", phone="+6281299990000")
            await budi.send_text("/start")
            await api.wait_until(lambda: budi.last_text and "Selamat" in budi.last_text, 10)
            assert len(lines(caplog, "getUpdates works again", logging.INFO)) == 1
            assert not task.done()


async def test_a_refused_token_ends_telegram_polling_and_whatsapp_goes_on(
    settings, app, secrets, caplog
) -> None:
    port = free_port()
    async with (
        FakeTelegram(token=TOKEN, clock=ManualClock(), user_pause=1.0) as api,
        FakeWhatsApp(
            access_token=WA_TOKEN, app_secret="app-secret", clock=ManualClock(), user_pause=7.0
        ) as graph,
        running(configured(settings, api, graph, port)) as task,
    ):
        await api.wait_until(lambda: api.waiting_polls, 10)
        api.token = "123456:REVOKED"  # the token was revoked at @BotFather
        await api.wait_until(lambda: any(c.status == 401 for c in api.calls_to("getUpdates")), 10)
        await hook_whatsapp(graph, port)
        await whatsapp_answers(graph)
        assert not task.done()
    assert len(lines(caplog, "bot token was refused")) == 1
    assert lines(caplog, "telegram polling has ended")


async def test_run_ends_non_zero_when_no_channel_is_left(settings, app, secrets, caplog) -> None:
    async with FakeTelegram(token=TOKEN, clock=ManualClock(), user_pause=1.0) as api:
        stop = asyncio.Event()
        task = asyncio.ensure_future(serve(configured(settings, api, None, free_port()), stop))
        try:
            await api.wait_until(lambda: api.waiting_polls, 10)
            api.token = "123456:REVOKED"
            with pytest.raises(NothingLeftToServe):
                await asyncio.wait_for(asyncio.shield(task), timeout=15)
        finally:
            stop.set()
            with contextlib.suppress(NothingLeftToServe):
                await asyncio.wait_for(task, timeout=15)
    assert lines(caplog, "no channel is left running", logging.ERROR)


async def test_a_taken_port_ends_the_web_server_and_polling_goes_on(
    settings, app, secrets, caplog
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        async with (
            FakeTelegram(token=TOKEN, clock=ManualClock(), user_pause=1.0) as api,
            FakeWhatsApp(
                access_token=WA_TOKEN, app_secret="app-secret", clock=ManualClock()
            ) as graph,
            running(configured(settings, api, graph, port)) as task,
        ):
            siti = api.user(111, "Siti", phone="+6281234567890")
            await siti.send_text("/start")
            await api.wait_until(lambda: siti.last_text and "Selamat" in siti.last_text, 10)
            assert not task.done()
    assert len(lines(caplog, "cannot listen on", logging.ERROR)) == 1


async def test_a_failing_part_is_started_again(settings, app, secrets, caplog) -> None:
    async with FakeTelegram(token=TOKEN, clock=ManualClock(), user_pause=1.0) as api:
        api.force_garbage(times=2)  # not the Bot API's answer: polling fails and is restarted
        async with running(configured(settings, api, None, free_port())) as task:
            siti = api.user(111, "Siti", phone="+6281234567890")
            await siti.send_text("/start")
            await api.wait_until(lambda: siti.last_text and "Selamat" in siti.last_text, 10)
            assert not task.done()
    assert len(lines(caplog, "telegram polling failed; starting it again", logging.ERROR)) == 2


async def test_a_telegram_that_cannot_start_leaves_whatsapp_served(
    settings, app, secrets, caplog
) -> None:
    port = free_port()
    async with (
        FakeTelegram(token="999:OTHER", clock=ManualClock()) as api,  # refuses our token
        FakeWhatsApp(
            access_token=WA_TOKEN, app_secret="app-secret", clock=ManualClock(), user_pause=7.0
        ) as graph,
        running(configured(settings, api, graph, port)) as task,
    ):
        await hook_whatsapp(graph, port)
        await whatsapp_answers(graph)
        assert not task.done()
    assert len(lines(caplog, "Telegram channel stays off", logging.ERROR)) == 1
