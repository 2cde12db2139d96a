"""One bot process on Telegram for the tests: the channel over the strict fake Bot API,
people scripted as they chat, and the outbox sender delivering proactive messages."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from telegram import Update

from bot.channels.telegram import TelegramChannel, TolerantBot
from bot.channels.telegram_aiohttp import AiohttpRequest
from bot.config import TelegramSettings
from bot.sending import OutboxSender, RateLimit, SenderSettings
from tests.fakes.telegram import FakeTelegram, FakeUser, ManualClock
from tests.stored import outbox_due

TOKEN = "123456:TEST-token"
ROUND_GAP = 2.0  # seconds between two rounds of the outbox sender


class Harness:
    """`pump()` handles what people sent; `deliver()` sends what the outbox holds."""

    def __init__(self, api: FakeTelegram, app) -> None:
        self.api = api
        self.app = app
        self.slept: list[float] = []
        self.offset: int | None = None
        self.handled: list[Update] = []
        self.bot = TolerantBot(  # the transport `TelegramChannel.create` gives the bot
            TOKEN,
            base_url=api.base_url,
            base_file_url=api.base_file_url,
            request=AiohttpRequest(),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
        )
        self.channel = TelegramChannel(
            bot=self.bot,
            engine=app.engine,
            catalog=app.catalog,
            settings=TelegramSettings(enabled=True, poll_timeout=0),
            sleep=self._sleep,
        )

    async def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.api.clock.advance(seconds)

    async def start(self) -> None:
        await self.channel.start()

    async def stop(self) -> None:
        await self.channel.stop()

    async def pump(self) -> int:
        """Fetch and handle every queued update (what one polling round does)."""
        handled = 0
        for _ in range(20):
            updates = await self.bot.get_updates(offset=self.offset, timeout=0)
            if not updates:
                return handled
            for update in updates:
                self.offset = update.update_id + 1
                await self.channel.process_update(update)
                self.handled.append(update)
                handled += 1
        return handled

    async def replay_last(self) -> None:
        """The last update once more, as Telegram re-sends a webhook it saw no answer to."""
        await self.channel.process_update(self.handled[-1])

    async def deliver(self, rounds: int = 5) -> Counter[str]:
        """What the outbox sender does over a few rounds, a little time passing before each
        (a 429 from the strict fake is retried once its `retry_after` has passed)."""
        sender = OutboxSender(
            database=self.app.database,
            transports={"telegram": self.channel},
            limits={"telegram": RateLimit(1_000)},
            render=self.app.engine.render,
            clock=self.app.engine.clock,
            settings=SenderSettings(concurrency=1),
        )
        outcomes: Counter[str] = Counter()
        for _ in range(rounds):
            self.api.clock.advance(ROUND_GAP)
            self.app.engine.clock.advance(timedelta(seconds=ROUND_GAP))
            outcomes += await sender.drain_once()
            if not outbox_due(self.app, "telegram"):
                break
        return outcomes


@asynccontextmanager
async def telegram_bot(app) -> AsyncIterator[Harness]:
    async with FakeTelegram(token=TOKEN, clock=ManualClock(), user_pause=1.0) as api:
        harness = Harness(api, app)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()
        assert api.crashes == []


async def say(harness: Harness, user: FakeUser, text: str) -> str:
    await user.send_text(text)
    await harness.pump()
    return user.last_text


async def press(harness: Harness, user: FakeUser, label: str) -> str:
    await user.press(label)
    await harness.pump()
    return user.last_text


async def onboard(harness: Harness, user: FakeUser) -> None:
    """Consent and a shared contact: what every Telegram user does before choosing a role."""
    await say(harness, user, "/start")
    assert "Selamat datang" in user.last_text
    await press(harness, user, "Setuju")
    assert user.reply_keyboard_labels == ["Bagikan nomor HP"]
    await user.share_contact()
    await harness.pump()
