"""Rows kept only for the machinery (webhook bodies, handled message ids, delivery
statuses) are deleted by the scheduler once no platform can redeliver; nothing younger,
and never a webhook body that has not been processed yet."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot.core.messages import Incoming
from bot.services import accounts, inbound, outbox, retention
from models import Consent, DeliveryStatus, HandledMessage, InboundEvent, OutboxMessage
from models.db import transaction
from scheduler.jobs import prune_records


def count(app, table) -> int:
    with Session(app.database) as session:
        return len(session.exec(select(table)).all())


def a_webhook_and_a_status(app, *, processed: bool, message: str) -> None:
    now = app.engine.clock.now()
    with transaction(app.database) as session:
        # Statuses are kept only for accounts we know (not for a person erased since).
        accounts.find_or_create(
            session,
            channel="whatsapp",
            external_id="6281234567890",
            phone="+6281234567890",
            now=now,
            language="id",
        )
        event_id = inbound.store(
            session, channel="whatsapp", payload={"text": message, "from": "6281234567890"}, now=now
        )
        if processed:
            inbound.mark_processed(session, event_id=event_id, now=now)
        inbound.record_status(
            session,
            channel="whatsapp",
            platform_message_id=f"wamid.{message}",
            recipient="6281234567890",
            status="delivered",
            now=now,
        )


async def test_a_message_redelivered_within_a_week_is_still_recognised(app, clock) -> None:
    await app.engine.handle(
        Incoming(channel="whatsapp", account_id="6281234567890", text="halo", message_id="w1")
    )
    agreed = Incoming(
        channel="whatsapp", account_id="6281234567890", text="Setuju", message_id="w2"
    )
    assert (await app.engine.handle(agreed))[0].text == "Terima kasih."
    clock.advance(timedelta(days=7, hours=23))
    await prune_records(app)
    again = await app.engine.handle(agreed)  # WhatsApp's last retry: not handled twice
    assert "Terima kasih." not in [reply.text for reply in again]
    assert count(app, Consent) == 1

    clock.advance(timedelta(days=1))
    assert await prune_records(app) >= 1
    assert count(app, HandledMessage) == 0


async def test_expired_bodies_and_statuses_go_unprocessed_bodies_stay(app, clock) -> None:
    a_webhook_and_a_status(app, processed=True, message="old")
    a_webhook_and_a_status(app, processed=False, message="stuck")
    clock.advance(timedelta(days=31))
    a_webhook_and_a_status(app, processed=True, message="fresh")

    pruned = await prune_records(app)

    assert pruned == 1 + 2  # the old processed body; the two statuses older than 30 days
    with Session(app.database) as session:
        bodies = [event.payload["text"] for event in session.exec(select(InboundEvent))]
        statuses = [row.platform_message_id for row in session.exec(select(DeliveryStatus))]
    assert sorted(bodies) == ["fresh", "stuck"]  # "stuck" waits for processing, however old
    assert statuses == ["wamid.fresh"]
    assert await prune_records(app) == 0  # a second run finds nothing


async def test_a_backlog_is_pruned_in_steps(app, clock) -> None:
    with transaction(app.database) as session:
        for number in range(12):
            session.add(
                HandledMessage(channel="telegram", message_id=f"u{number}", handled_at=clock.now())
            )
    clock.advance(timedelta(days=9))
    with transaction(app.database) as session:
        first = retention.prune(session, now=clock.now(), limit=5)
    assert first.handled == 5
    assert await prune_records(app) == 7
    assert count(app, HandledMessage) == 0


def waiting_for(app, phone: str, key: str, template: str, params: dict) -> None:
    """A message for someone reached only when they write (the console's inbox)."""
    now = app.engine.clock.now()
    with transaction(app.database) as session:
        _, person = accounts.find_or_create(
            session, channel="console", external_id=phone, phone=phone, now=now, language="id"
        )
        outbox.enqueue(
            session, person_id=person.id, key=key, template=template, params=params, now=now
        )


def states_by_key(app) -> dict[str, str]:
    with Session(app.database) as session:
        return {row.idempotency_key: row.state for row in session.exec(select(OutboxMessage))}


async def test_messages_that_waited_past_their_worth_expire(app, clock) -> None:
    """Someone who never writes again: what waited for them stops counting as waiting once
    it is no longer worth sending (a digest after 3 days, a nudge after 30), and a message
    still worth it waits on."""
    waiting_for(app, "+6281200000001", "digest", "need.digest", {"count": 2, "titles": "x"})
    waiting_for(app, "+6281200000002", "nudge", "ikm.nudge", {"business_name": "Boneka"})
    clock.advance(timedelta(days=4))
    assert await prune_records(app) == 1
    assert states_by_key(app) == {"digest": "expired", "nudge": "waiting"}
    clock.advance(timedelta(days=27))
    assert await prune_records(app) == 1
    assert states_by_key(app) == {"digest": "expired", "nudge": "expired"}
    with Session(app.database) as session:
        assert outbox.waiting_count(session) == 0
