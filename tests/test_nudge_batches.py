"""The monthly nudge at scale: short transactions over batches, the same messages as one by one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.core.messages import Incoming
from bot.services import outbox
from bot.services.batches import PEOPLE_PER_BATCH
from models import ChannelAccount, IkmProfile, OutboxMessage, Person
from models.db import transaction
from scheduler.jobs import nudge_inactive_ikm

PEOPLE = 3_000


def seed_ikm(app, count: int) -> None:
    """`count` IKM, most silent for months: on WhatsApp, on Telegram, on both (the most recent
    account wins), blocked, with no account at all, or recently active."""
    now = app.engine.clock.now()
    people = []
    for number in range(count):
        silent = number % 7 != 0
        people.append(
            {
                "phone": f"+62812{number:07d}",
                "language": "en" if number % 5 == 0 else "id",
                "role": "ikm" if number % 11 else "company",
                "created_at": now - timedelta(days=400),
                "last_active_at": now - timedelta(days=90 if silent else 3),
            }
        )
    with transaction(app.database) as session:
        session.execute(sa.insert(Person), people)
        ids = session.exec(select(Person.id).order_by(Person.id)).all()
        accounts, profiles = [], []
        for person_id in ids:
            kind = person_id % 6
            if kind in (0, 1, 4):
                accounts.append(account(person_id, "whatsapp", now - timedelta(days=80)))
            if kind in (1, 2):
                accounts.append(account(person_id, "telegram", now - timedelta(days=70)))
            if kind == 3:
                accounts.append(account(person_id, "whatsapp", None, blocked=True))
            profiles.append(
                {
                    "person_id": person_id,
                    "owner_name": f"Pemilik {person_id}",
                    "business_name": f"Usaha {person_id}",
                    "sector": "14",
                    "kecamatan": "Cibitung",
                }
            )
        session.execute(sa.insert(ChannelAccount), accounts)
        session.execute(sa.insert(IkmProfile), profiles)


def account(person_id: int, channel: str, last_inbound, blocked: bool = False) -> dict:
    return {
        "person_id": person_id,
        "channel": channel,
        "external_id": f"{channel}-{person_id}",
        "last_inbound_at": last_inbound,
        "blocked": blocked,
    }


def nudges_one_by_one(app) -> set[tuple]:
    """What the nudge must write: outbox.enqueue, person by person, as it always did."""
    now = app.engine.clock.now()
    month = now.astimezone(app.settings.tz).strftime("%Y-%m")
    expected = set()
    with Session(app.database) as session:
        rows = session.exec(
            select(Person.id, Person.language, IkmProfile.business_name)
            .join(IkmProfile, IkmProfile.person_id == Person.id)
            .where(Person.role == "ikm", Person.last_active_at < now - timedelta(days=60))
        ).all()
        for person_id, language, business_name in rows:
            reachable = outbox.reachable_account(session, person_id)
            if reachable is None:
                continue
            expected.add(
                (
                    f"nudge:{month}:person:{person_id}",
                    person_id,
                    reachable.channel,
                    reachable.external_id,
                    "ikm.nudge",
                    language,
                    "pending",
                    (("business_name", business_name),),
                )
            )
    return expected


def nudges_written(app) -> set[tuple]:
    with Session(app.database) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "ikm.nudge")).all()
    return {
        (
            row.idempotency_key,
            row.person_id,
            row.channel,
            row.account_id,
            row.content["template"],
            row.language,
            row.state,
            tuple(sorted(row.content["params"].items())),
        )
        for row in rows
    }


def count_commits(database: sa.Engine) -> list[int]:
    commits = [0]

    def counted(_connection) -> None:
        commits[0] += 1

    sa.event.listen(database, "commit", counted)
    return commits


async def test_the_nudge_runs_in_short_transactions_and_writes_what_one_by_one_would(app) -> None:
    seed_ikm(app, PEOPLE)
    expected = nudges_one_by_one(app)
    assert len(expected) > 1_500  # most silent IKM are reachable

    commits = count_commits(app.database)
    assert await nudge_inactive_ikm(app) == len(expected)
    assert commits[0] >= 2  # batches, not one long transaction
    assert commits[0] >= -(-len(expected) // PEOPLE_PER_BATCH)
    assert nudges_written(app) == expected

    assert await nudge_inactive_ikm(app) == 0  # the same month: nothing more
    assert nudges_written(app) == expected


async def test_two_processes_nudging_at_once_write_each_message_once(app) -> None:
    seed_ikm(app, 600)
    expected = nudges_one_by_one(app)
    counts = await asyncio.gather(
        asyncio.to_thread(asyncio.run, nudge_inactive_ikm(app)),
        asyncio.to_thread(asyncio.run, nudge_inactive_ikm(app)),
    )
    assert sum(counts) == len(expected)
    assert nudges_written(app) == expected


async def test_a_new_months_nudge_supersedes_last_months_unsent_one(app, clock) -> None:
    seed_ikm(app, 60)
    assert await nudge_inactive_ikm(app) > 0
    first = {row[1] for row in nudges_written(app)}
    clock.advance(timedelta(days=31))
    await nudge_inactive_ikm(app)
    with Session(app.database) as session:
        states = session.exec(
            select(OutboxMessage.person_id, OutboxMessage.state).where(
                OutboxMessage.kind == "ikm.nudge"
            )
        ).all()
    for person_id in first:
        mine = sorted(state for who, state in states if who == person_id)
        assert mine == ["pending", "superseded"]


async def test_a_chat_message_goes_between_two_batches_of_the_nudge(app) -> None:
    """On SQLite the boundary has one database thread: a message that arrives while the nudge
    runs waits for the batch in progress only, not for the whole job."""
    seed_ikm(app, PEOPLE)
    job = asyncio.create_task(nudge_inactive_ikm(app))
    await asyncio.sleep(0)  # the job asks for its first transaction
    replies = await app.engine.handle(
        Incoming(channel="console", account_id="+6281377770000", text="halo")
    )
    assert replies and "Selamat datang" in replies[0].text
    assert not job.done()  # more batches to go after the message was answered
    assert await job > 1_500
