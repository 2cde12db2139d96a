"""Stored WhatsApp webhook bodies are processed by one process (issue 13): a body is claimed
by the process that received it and answered as it arrives; bodies no process is working on
are claimed by one worker (two workers on one database process each body once); a body
whose process died is taken over once its lease has run out; statuses take effect before
their webhook is answered, without their body being kept."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.app import build_app
from bot.channels.whatsapp import WhatsAppChannel
from bot.services import inbound
from models import ChannelAccount, DeliveryStatus, InboundEvent
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


def text_body(wa_id: str, wamid: str, text: str) -> dict:
    """A message webhook body as Meta sends it (for one written by an earlier process)."""
    value = {
        "messaging_product": "whatsapp",
        "contacts": [{"profile": {"name": "Orang"}, "wa_id": wa_id}],
        "messages": [
            {"from": wa_id, "id": wamid, "timestamp": "1", "type": "text", "text": {"body": text}}
        ],
    }
    changes = [{"field": "messages", "value": value}]
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": changes}]}


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
    # Bodies no process is working on (a stopped process kept them before processing).
    with transaction(app.database) as session:
        for n, person in enumerate(people):
            person.last_inbound = whatsapp.graph.clock()
            payload = text_body(person.wa_id, f"wamid.left.{n}", "halo")
            inbound.store(session, channel="whatsapp", payload=payload, now=clock.now())
    try:
        rounds = await asyncio.gather(
            whatsapp.channel.process_pending(), other_worker.process_pending()
        )
        await whatsapp.graph.idle()
    finally:
        await other_worker.close()
        second.close()
    stored, processed = stored_bodies(app)
    assert processed == stored == 12
    assert sum(rounds) == stored  # no body was taken by both workers
    for person in people:
        welcomes = [m for m in person.inbox if "Selamat datang" in (m.text or "")]
        assert len(welcomes) == 1
    # Different people's answers were on their way at the same time.
    assert whatsapp.graph.in_flight.most["messages"] > 1


async def test_a_body_whose_process_died_is_taken_over_after_the_lease(whatsapp, app) -> None:
    siti = whatsapp.graph.person(wa_id="6281234567890", name="Siti")
    siti.last_inbound = whatsapp.graph.clock()
    # A process kept the body (claimed by itself, as every webhook is) and died at once.
    batch = inbound.Batch("whatsapp", bodies=[text_body(siti.wa_id, "wamid.1", "halo")])
    with transaction(app.database) as session:
        assert len(inbound.write(session, batch, now=app.engine.clock.now())) == 1
    assert await whatsapp.channel.process_pending() == 0
    assert siti.last_text is None
    whatsapp.pass_time(inbound.LEASE - timedelta(seconds=1))
    assert await whatsapp.channel.process_pending() == 0
    whatsapp.pass_time(timedelta(seconds=2))
    assert await whatsapp.channel.process_pending() == 1
    await whatsapp.graph.idle()
    assert "Selamat datang" in siti.last_text
    assert stored_bodies(app) == (1, 1)


async def test_a_message_is_answered_as_it_arrives_without_a_worker_round(whatsapp, app) -> None:
    siti = whatsapp.graph.person(wa_id="6281234567890", name="Siti")
    await siti.send_text("halo")  # no process_pending: no worker runs in this test
    reply = await siti.next_message()
    assert "Selamat datang" in (reply.text or "")
    await whatsapp.channel.close()  # waits for what it took on arrival
    await whatsapp.graph.idle()
    assert stored_bodies(app) == (1, 1)  # the message's body; the statuses were not kept


async def test_statuses_take_effect_before_their_200_and_are_not_kept(whatsapp, app) -> None:
    siti = whatsapp.graph.person(wa_id="6281234567890", name="Siti")
    await siti.send_text("halo")
    await siti.next_message()
    whatsapp.graph.fail_delivery(siti.wa_id, code=131026)
    await siti.tap_button("Setuju")
    await whatsapp.graph.wait_until(lambda: whatsapp.graph.statuses() and failed_of(whatsapp))
    await whatsapp.graph.idle()
    # The process dies here: nothing more runs in it. Every status Meta had an answer for
    # is in the database, through another process on it.
    acknowledged = [d for d in whatsapp.graph.deliveries_of("status") if d.ok]
    assert acknowledged
    with transaction(app.database) as session:
        found = sa.select(DeliveryStatus.platform_message_id, DeliveryStatus.status)
        recorded = dict(session.execute(found).all())
        blocked = session.scalar(sa.select(ChannelAccount.blocked))
    for delivery in acknowledged:
        status = delivery.value["statuses"][0]
        assert recorded[status["id"]] in furthest_from(status["status"])
    assert blocked  # the failed delivery (131026) marked the number
    assert stored_bodies(app)[0] == 2  # the two messages; no status body


def failed_of(whatsapp) -> bool:
    return any(status["status"] == "failed" for status in whatsapp.graph.statuses())


def furthest_from(status: str) -> set[str]:
    """The statuses as far as `status` or further (a later one may have overtaken it)."""
    order = ["sent", "delivered", "read", "failed"]
    return set(order[order.index(status) :]) if status != "failed" else {"failed"}
