"""No secret reaches a log line, however verbose: libraries' lines and tracebacks included."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest

from bot.cli import configure_logging
from bot.runner import serve
from tests.fakes.telegram import FakeTelegram, ManualClock
from tests.fakes.whatsapp import FakeWhatsApp
from tests.test_run_faults import configured, free_port, hook_whatsapp, whatsapp_answers

SECRETS = {
    "TELEGRAM_BOT_TOKEN": "123456:LOG-token-x",
    "TELEGRAM_WEBHOOK_SECRET": "tg-hook-secret",
    "WHATSAPP_ACCESS_TOKEN": "WA-access-secret",
    "WHATSAPP_APP_SECRET": "meta-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "verify-secret",
}


@pytest.fixture
def stderr_lines(monkeypatch, caplog):
    """The command line's logging as `-v` sets it up, with a handler writing like stderr."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    configure_logging(verbose=True)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def everything_logged(caplog, stream: io.StringIO) -> str:
    return "\n".join([caplog.text, stream.getvalue(), *(r.getMessage() for r in caplog.records)])


async def test_verbose_run_never_logs_a_secret(settings, app, stderr_lines, caplog) -> None:
    port = free_port()
    token = SECRETS["TELEGRAM_BOT_TOKEN"]
    async with (
        FakeTelegram(token=token, clock=ManualClock(), user_pause=1.0) as api,
        FakeWhatsApp(
            access_token=SECRETS["WHATSAPP_ACCESS_TOKEN"],
            app_secret=SECRETS["WHATSAPP_APP_SECRET"],
            clock=ManualClock(),
            user_pause=7.0,
        ) as graph,
    ):
        stop = asyncio.Event()
        running = asyncio.ensure_future(serve(configured(settings, api, graph, port), stop))
        try:
            siti = api.user(111, "Siti", phone="+6281234567890")
            await siti.send_text("/start")
            await api.wait_until(lambda: siti.last_text and "Selamat" in siti.last_text, 10)
            await hook_whatsapp(graph, port, verify_token=SECRETS["WHATSAPP_VERIFY_TOKEN"])
            await whatsapp_answers(graph)
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=15)
    logged = everything_logged(caplog, stderr_lines)
    # python-telegram-bot logged the URL that carries the token (aiohttp logs no requests)
    assert "Set Bot API URL: " in logged and "/bot***" in logged
    for name, value in SECRETS.items():
        assert value not in logged, f"{name} reached the log"


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_a_secret_in_an_exception_is_masked_in_the_traceback(name, stderr_lines, caplog) -> None:
    value = SECRETS[name]
    library = logging.getLogger("httpcore.connection")
    try:
        raise ConnectionError(f"could not reach https://example.invalid/{value}/path")
    except ConnectionError:
        library.exception("request to %s failed", f"https://example.invalid/{value}")
    logged = everything_logged(caplog, stderr_lines)
    assert "ConnectionError: could not reach https://example.invalid/***/path" in logged
    assert value not in logged
