"""One bot process on WhatsApp for the tests: the channel over the strict fake Graph API with
its webhook served on loopback, people scripted as they chat, and the outbox sender."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from bot.channels.render import shorten
from bot.channels.whatsapp import BUTTON_TITLE_LIMIT, ROW_TITLE_LIMIT, WhatsAppChannel
from bot.config import WhatsAppSettings, WhatsAppTemplate, load_settings
from bot.sending import OutboxSender, RateLimit, SenderSettings
from bot.web import build_web_app
from tests.fakes.telegram import LoopbackServer, ManualClock
from tests.fakes.whatsapp import FakePerson, FakeTemplate, FakeWhatsApp
from tests.stored import outbox_due

VERIFY = "verify-me"
SECRET = "app-secret"
ROUND_GAP = 7.0  # seconds between two rounds of the outbox sender (one per person per 6 s)
CONFIG = Path(__file__).resolve().parent.parent / "config.toml"


def configured_templates() -> dict[str, WhatsAppTemplate]:
    """The templates of the project's own config.toml, as the Dinas registers them."""
    return load_settings(CONFIG, environ={}).whatsapp.templates


def approved(templates: dict[str, WhatsAppTemplate]) -> dict[str, dict[str, FakeTemplate]]:
    """Those templates as Meta holds them once approved: body text and quick-reply buttons."""
    found: dict[str, dict[str, FakeTemplate]] = {}
    for configured in templates.values():
        for template in (configured, configured.for_language("en")):
            assert template.body is not None, f"{template.name}: no body text to submit to Meta"
            spec = FakeTemplate(template.body, tuple(template.buttons))
            found.setdefault(template.name, {})[template.language] = spec
    return found


class Harness:
    """`process()` handles the webhooks people sent; `deliver()` sends what the outbox holds."""

    def __init__(
        self,
        graph: FakeWhatsApp,
        app,
        server_url: str,
        templates: dict[str, WhatsAppTemplate],
    ) -> None:
        self.graph = graph
        self.app = app
        self.channel = WhatsAppChannel(
            settings=WhatsAppSettings(
                enabled=True,
                base_url=graph.base_url,
                api_version=graph.api_version,
                phone_number_id=graph.phone_number_id,
                templates=templates,
            ),
            engine=app.engine,
            catalog=app.catalog,
            access_token=graph.access_token,
            app_secret=SECRET,
            verify_token=VERIFY,
        )
        self.url = f"{server_url}/webhooks/whatsapp"

    async def process(self) -> None:
        await self.graph.idle()
        await self.channel.process_pending()
        await self.graph.idle()
        await self.channel.process_pending()  # the statuses of the replies

    def sender(self) -> OutboxSender:
        return OutboxSender(
            database=self.app.database,
            transports={"whatsapp": self.channel},
            limits={"whatsapp": RateLimit(1000)},
            render=self.app.engine.render,
            clock=self.app.engine.clock,
            settings=SenderSettings(concurrency=1),
        )

    async def deliver(self, rounds: int = 5) -> Counter[str]:
        """What the outbox sender does over a few rounds, a little time passing before each
        (a 131056 from the strict fake is retried once the pair's rate allows)."""
        outcomes: Counter[str] = Counter()
        for _ in range(rounds):
            self.pass_time(timedelta(seconds=ROUND_GAP))
            outcomes += await self.sender().drain_once()
            await self.process()
            if not outbox_due(self.app, "whatsapp"):
                break
        return outcomes

    def pass_time(self, how_long: timedelta) -> None:
        """Both clocks move: the bot's, and the one the fake keeps the 24-hour window by."""
        self.graph.clock.advance(how_long.total_seconds())
        self.app.engine.clock.advance(how_long)


@asynccontextmanager
async def whatsapp_bot(
    app,
    *,
    templates: dict[str, WhatsAppTemplate],
    approved_templates: dict,
    user_pause: float = 7.0,
) -> AsyncIterator[Harness]:
    """The bot's WhatsApp channel (with `templates` configured) behind its web app on
    loopback, and the fake Graph API (with `approved_templates`) posting webhooks to it."""
    async with FakeWhatsApp(
        app_secret=SECRET,
        clock=ManualClock(),
        user_pause=user_pause,
        templates=approved_templates,
    ) as graph:
        holder: dict = {}  # the web app, built once the channel knows the server's address
        async with LoopbackServer(_Deferred(holder)) as server:
            harness = Harness(graph, app, server.url, templates)
            holder["app"] = build_web_app(whatsapp=harness.channel)
            await graph.set_webhook(harness.url, verify_token=VERIFY)
            try:
                yield harness
            finally:
                await harness.channel.close()
        assert graph.crashes == []


class _Deferred:
    """An ASGI app that forwards to the one put in `holder` (built after the server)."""

    def __init__(self, holder: dict) -> None:
        self.holder = holder

    async def __call__(self, scope, receive, send) -> None:
        await self.holder["app"](scope, receive, send)


async def act(harness: Harness, action) -> None:
    await action
    await harness.process()


async def say(harness: Harness, person: FakePerson, text: str) -> str | None:
    await act(harness, person.send_text(text))
    return person.last_text


async def tap(harness: Harness, person: FakePerson, label: str) -> str | None:
    """Tap the option labelled `label` on the latest interactive message: a reply button,
    or a list row (paging on with "Lainnya" until it shows). Titles are matched as the
    channel shortens them, or a row by its description (where a long label goes whole)."""
    for _ in range(6):
        message = person._latest_interactive()
        if message.interactive_type == "button":
            await act(harness, person.tap_button(shorten(label, BUTTON_TITLE_LIMIT)))
            return person.last_text
        for row in message.rows:
            if row["title"] == shorten(label, ROW_TITLE_LIMIT) or row.get("description") == label:
                await act(harness, person.choose_row(row["title"]))
                return person.last_text
        assert "Lainnya" in message.row_titles, f"no option {label!r} in {message.row_titles}"
        await act(harness, person.choose_row("Lainnya"))
    raise AssertionError(f"no option {label!r} after paging")


def texts_since(person: FakePerson, start: int) -> str:
    """Everything the person was shown from their `start`-th message on."""
    return "\n".join(message.text or "" for message in person.inbox[start:])
