"""An announcement to one sector reaches exactly that sector's IKM, once, over Telegram,
even when the sending process is killed midway and started again."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta

from sqlmodel import Session, select
from telegram import Bot

from bot.channels.telegram import TelegramChannel
from bot.config import TelegramSettings
from bot.sending import OutboxSender, RateLimit, SenderSettings
from bot.services import audience
from models import Announcement, ChannelAccount, IkmProfile, Person
from models.db import transaction
from tests.fakes.telegram import FakeTelegram, ManualClock

TOKEN = "123456:TEST-token"


def ikm_on_telegram(app, user_id: int, sector: str) -> None:
    with transaction(app.database) as session:
        person = Person(phone=f"+6281277{user_id:06d}", language="id", role="ikm")
        session.add(person)
        session.flush()
        session.add(
            ChannelAccount(person_id=person.id, channel="telegram", external_id=str(user_id))
        )
        session.add(
            IkmProfile(
                person_id=person.id,
                owner_name=f"Pemilik {user_id}",
                business_name=f"Usaha {user_id}",
                sector=sector,
                kecamatan="Cibitung",
            )
        )


class KilledMidway:
    """Wraps the real channel; the process dies while the n-th message is in flight."""

    channel = "telegram"

    def __init__(self, inner: TelegramChannel, die_on: int) -> None:
        self.inner = inner
        self.die_on = die_on
        self.calls = 0
        self.dying = asyncio.Event()

    async def deliver(self, message):
        self.calls += 1
        if self.calls == self.die_on:
            self.dying.set()
            await asyncio.Event().wait()
        return await self.inner.deliver(message)


def make_sender(app, transport) -> OutboxSender:
    return OutboxSender(
        database=app.database,
        transports={"telegram": transport},
        limits={"telegram": RateLimit(10_000)},
        render=app.engine.render,
        clock=app.engine.clock,
        settings=SenderSettings(concurrency=1, batch_size=5),
    )


async def test_sector_announcement_survives_a_kill_and_restart(app, clock) -> None:
    garment_makers = [201, 202, 203, 204, 205, 206, 207]
    food_makers = [301, 302]
    for user_id in garment_makers:
        ikm_on_telegram(app, user_id, "14")
    for user_id in food_makers:
        ikm_on_telegram(app, user_id, "10")
    with transaction(app.database) as session:
        officer = Person(phone="+6281100000002", language="id", role="dinas")
        session.add(officer)
        session.flush()
        announcement = audience.announce(
            session,
            author=officer,
            text="Pameran produk IKM di Jababeka, 5 Desember.",
            image_ref=None,
            audience={"kind": "sector", "values": ["14"]},
            now=clock.now(),
        )
        announcement_id = announcement.id

    async with FakeTelegram(
        token=TOKEN, clock=ManualClock(), per_chat_per_second=None, global_per_second=None
    ) as api:
        users = {
            uid: api.user(uid, f"U{uid}", started=True) for uid in garment_makers + food_makers
        }
        bot = Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url)
        channel = TelegramChannel(
            bot=bot, engine=app.engine, catalog=app.catalog, settings=TelegramSettings(enabled=True)
        )
        async with bot:
            dying = KilledMidway(channel, die_on=3)
            first_run = asyncio.ensure_future(make_sender(app, dying).drain_once())
            await asyncio.wait_for(dying.dying.wait(), timeout=5)
            first_run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await first_run

            clock.advance(timedelta(seconds=61))  # the dead process's claims expire
            await make_sender(app, channel).drain_once()

        received = Counter(
            uid
            for uid, user in users.items()
            for message in user.inbox
            if "Pameran produk IKM" in message.visible_text
        )
    assert received == Counter({uid: 1 for uid in garment_makers})
    with Session(app.database) as session:
        progress = audience.progress(
            session, announcement=session.get(Announcement, announcement_id)
        )
        assert (progress.total, progress.sent, progress.pending) == (7, 7, 0)
        assert session.exec(select(Announcement)).one().recipients == 7
