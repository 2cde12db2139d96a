"""The console served for real: uvicorn on 127.0.0.1 (a random port) in a thread of its own,
over a test database with the demo data; sign-in through the link the bot sends in the chat."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from bot.app import App, build_app
from bot.config import Settings
from bot.core.clock import FixedClock
from bot.demo import DINAS_OFFICER, load_demo_data
from bot.runner import web_console
from bot.web import build_web_app
from models.db import transaction
from tests.chat import Chat

LINK = re.compile(r"https?://\S+/dinas/masuk/\S+")


@dataclass
class Site:
    """A running console: its address, the bot behind it (same database) and its clock."""

    url: str
    app: App
    clock: FixedClock

    def chat(self, phone: str = DINAS_OFFICER) -> Chat:
        return Chat(self.app, phone)

    async def link(self, phone: str = DINAS_OFFICER) -> str:
        """The sign-in link the bot sends `phone` for `dasbor` (on the console channel),
        after the officer's first hello and consent, as in the chat."""
        chat = self.chat(phone)
        await chat.say("halo")
        if "Setuju" in chat.options:
            await chat.tap("Setuju")
        return link_in(await chat.say("dasbor"))

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)


def link_in(replies: list) -> str:
    text = "\n".join(reply.text or "" for reply in replies)
    found = LINK.search(text)
    assert found, f"no sign-in link in {text!r}"
    return found.group(0)


@contextmanager
def running_site(
    settings: Settings, clock: FixedClock, *, demo: bool = True, public_url: str | None = None
) -> Iterator[Site]:
    """`public_url`: the address the links name, when it is not the site's own (a proxy)."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listening.getsockname()[1]}"
    console = settings.console.model_copy(update={"enabled": True, "public_url": public_url or url})
    settings = settings.model_copy(update={"console": console})
    app = build_app(settings, clock=clock)
    if demo:
        with transaction(app.database) as session:
            load_demo_data(session, now=clock.now())
    server = uvicorn.Server(
        uvicorn.Config(build_web_app(console=web_console(app)), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve([listening])), daemon=True)
    thread.start()
    try:
        for _ in range(400):  # bounded: 20 s at most
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "the console did not start"
        yield Site(url=url, app=app, clock=clock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listening.close()
        app.close()


def sign_in(client: httpx.Client, link: str) -> httpx.Response:
    """Open the link and press its button, as a person does; the session cookie is kept."""
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}").status_code == 200
    return client.post(f"/{path}")
