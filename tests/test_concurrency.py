"""People handled at once, each person in order, and the event loop free while the database
waits (issue 13): through the real Telegram channel over the fake Bot API, and the console."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.channels.telegram import TelegramChannel
from bot.config import TelegramSettings
from models.db import make_engine
from tests.fakes.telegram import FakeTelegram, FakeUser

TOKEN = "123456:TEST-token"
LATENCY = 0.05  # each Bot API call takes 50 ms, as over the internet
# What each text is answered with first: a person's answers must come in this order.
SAID = [
    ("/start", "Selamat datang"),
    ("/bantuan", "Bantuan"),
    ("/batal", "Tidak ada yang sedang berjalan"),
    ("halo", "Halo juga"),
]
SAFETY_NET_SECONDS = 3.0  # old code blocks the loop: the lock is let go from a thread then


@contextlib.asynccontextmanager
async def polling(app, api: FakeTelegram):
    """The channel as `run` builds it, long polling the fake until the block ends."""
    settings = TelegramSettings(
        enabled=True, base_url=api.base_url, base_file_url=api.base_file_url, poll_timeout=1
    )
    channel = TelegramChannel.create(
        token=TOKEN, settings=settings, engine=app.engine, catalog=app.catalog
    )
    await channel.start()
    stop = asyncio.Event()
    poller = asyncio.create_task(channel.poll(stop))
    try:
        yield channel
    finally:
        stop.set()
        await poller
        await channel.stop()


def first_lines(user: FakeUser) -> list[str]:
    """The markers of SAID found in what the person was sent, in the order sent."""
    found = []
    for message in user.inbox:
        for _, marker in SAID:
            if marker in (message.text or "") and marker != "Selamat datang":
                found.append(marker)
    return found


async def test_a_burst_from_many_people_is_answered_at_once_each_person_in_order(app) -> None:
    async with FakeTelegram(
        token=TOKEN, latency=LATENCY, per_chat_per_second=None, global_per_second=None
    ) as api:
        people = [api.user(5000 + n, f"Orang {n}") for n in range(20)]
        for text, _ in SAID:
            for person in people:
                await person.send_text(text)
        async with polling(app, api):
            await api.wait_until(
                lambda: all(len(first_lines(person)) == len(SAID) - 1 for person in people),
                timeout=60,
                what="every answer",
            )
        assert api.crashes == []
    # Sequentially at most one reply is on its way at a time; here many people's are.
    assert api.in_flight.most["sendMessage"] >= 5
    for person in people:
        assert first_lines(person) == ["Bantuan", "Tidak ada yang sedang berjalan", "Halo juga"]
        assert "Selamat datang" in person.inbox[0].text


@contextlib.contextmanager
def held(app, person_id: int | None = None) -> Iterator[callable]:
    """Hold what the engine's transaction waits for, from another connection: SQLite's one
    write lock, or on PostgreSQL the person's lock. Yields `release` (safe to call twice)."""
    database = make_engine(str(app.database.url.render_as_string(hide_password=False)))
    connection = database.connect()
    transaction = connection.begin()  # SQLite: BEGIN IMMEDIATE takes the write lock
    if database.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": person_id})
    done = threading.Lock()

    def release() -> None:
        if done.acquire(blocking=False):
            transaction.commit()

    safety_net = threading.Timer(SAFETY_NET_SECONDS, release)
    safety_net.start()
    try:
        yield release
    finally:
        safety_net.cancel()
        release()
        connection.close()
        database.dispose()


def person_id_of(app, phone: str) -> int:
    with app.database.connect() as connection:
        return connection.execute(
            sa.text("SELECT id FROM person WHERE phone = :phone"), {"phone": phone}
        ).scalar_one()


async def test_the_event_loop_goes_on_while_a_transaction_waits_for_a_lock(app, chat_as) -> None:
    siti = chat_as("+6281234567890")
    await siti.say("halo")
    ticks = 0
    with held(app, person_id_of(app, "+6281234567890")) as release:
        answer = asyncio.create_task(siti.say("bantuan"))
        while not answer.done() and ticks < 1000:
            ticks += 1
            if ticks == 5:  # the loop ticked while the message waited: now let it in
                await asyncio.to_thread(release)
            await asyncio.sleep(0.01)
        replies = await answer
    assert ticks >= 5
    assert "Bantuan" in replies[0].title or "Bantuan" in replies[0].text


async def test_a_person_held_on_a_lock_does_not_hold_up_another(app, postgres_url) -> None:
    if not postgres_url:
        pytest.skip("SQLite lets one writer in at a time: everyone waits for a held writer")
    async with FakeTelegram(token=TOKEN, per_chat_per_second=None, global_per_second=None) as api:
        siti, budi = api.user(7001, "Siti"), api.user(7002, "Budi")
        async with polling(app, api):
            await siti.send_text("/start")
            await api.wait_until(lambda: len(siti.inbox) == 1, what="Siti's welcome")
            with held(app, _person_of_telegram(app, "7001")) as release:
                await siti.send_text("/bantuan")
                await budi.send_text("/start")
                await api.wait_until(lambda: len(budi.inbox) == 1, what="Budi's welcome")
                assert len(siti.inbox) == 1  # Siti's answer still waits for her lock
                release()
                await api.wait_until(lambda: len(siti.inbox) == 3, what="Siti's answer")
    assert "Bantuan" in siti.inbox[1].text


def _person_of_telegram(app, account_id: str) -> int:
    with app.database.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT person_id FROM channel_account"
                " WHERE channel = 'telegram' AND external_id = :account"
            ),
            {"account": account_id},
        ).scalar_one()
