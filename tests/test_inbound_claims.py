"""Stored WhatsApp webhook bodies are claimed by one worker (issue 13): two workers on one
database process each body once, people's messages are answered at once, and a body whose
worker died is taken over once its lease has run out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.app import build_app
from bot.channels.whatsapp import WhatsAppChannel
from bot.services import inbound
from models import InboundEvent
from models.db import transaction
from tests.whatsapp_chat import SECRET, VERIFY, whatsapp_bot

LATENCY = 0.05  # each Graph API call takes 50 ms


@pytest.fixture
async def whatsapp(app):
    async with whatsapp_bot(app, templates={}, approved_templates={}) as harness:
        harness.graph.in_flight.latency = LATENCY
        yield harness


def stored_bodies(app) -> tuple[int, int]:
    """(bodies stored, bodies processed)."""
    with transaction(app.database) as session:
        stored = session.scalar(sa.select(sa.func.count()).select_from(InboundEvent))
        processed = session.scalar(
            sa.select(sa.func.count()).where(InboundEvent.processed_at.is_not(None))
        )
    return stored, processed


async def test_two_workers_on_one_database_process_each_body_once(
    whatsapp, app, settings, clock
) -> None:
    second = build_app(settings, clock=clock)  # another process on the same database
    other_worker = WhatsAppChannel(
        settings=whatsapp.channel.settings,
        engine=second.engine,
        catalog=second.catalog,
        access_token=whatsapp.graph.access_token,
        app_secret=SECRET,
        verify_token=VERIFY,
    )
    people = [whatsapp.graph.person(wa_id=f"62812000{n:05d}", name=f"Orang {n}") for n in range(12)]
    for person in people:
        await person.send_text("halo")
    taken = 0
    try:
        for _ in range(5):  # the bodies, then the statuses of the replies
            await whatsapp.graph.idle()
            rounds = await asyncio.gather(
                whatsapp.channel.process_pending(), other_worker.process_pending()
            )
            taken += sum(rounds)
            if not any(rounds):
                break
    finally:
        await other_worker.close()
        second.close()
    stored, processed = stored_bodies(app)
    assert processed == stored
    assert taken == stored  # no body was taken by both workers
    for person in people:
        welcomes = [m for m in person.inbox if "Selamat datang" in (m.text or "")]
        assert len(welcomes) == 1
    # Different people's answers were on their way at the same time.
    assert whatsapp.graph.in_flight.most["messages"] > 1


async def test_a_body_whose_worker_died_is_taken_over_after_the_lease(whatsapp, app) -> None:
    siti = whatsapp.graph.person(wa_id="6281234567890", name="Siti")
    await siti.send_text("halo")
    await whatsapp.graph.idle()
    with transaction(app.database) as session:  # a worker claims it, then dies
        assert len(inbound.claim(session, channel="whatsapp", now=app.engine.clock.now())) == 1
    assert await whatsapp.channel.process_pending() == 0
    assert siti.last_text is None
    whatsapp.pass_time(inbound.LEASE - timedelta(seconds=1))
    assert await whatsapp.channel.process_pending() == 0
    whatsapp.pass_time(timedelta(seconds=2))
    assert await whatsapp.channel.process_pending() >= 1
    assert "Selamat datang" in siti.last_text
    assert stored_bodies(app)[1] >= 1
