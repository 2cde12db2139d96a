"""The outbox: idempotent enqueue, claims, retries, blocked accounts, crash and restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.sending import Delivery, OutboxSender, Outgoing, RateLimit, SenderSettings
from bot.services import inbound, outbox
from bot.services.inbound import StatusReport
from models import ChannelAccount, OutboxMessage, Person
from models.db import transaction

FAST = RateLimit(per_second=10_000)


class RecordingTransport:
    channel = "telegram"

    def __init__(self, *, hang_on_call: int | None = None, script: dict | None = None) -> None:
        self.delivered: list[tuple[str, str]] = []
        self.calls = 0
        self.hang_on_call = hang_on_call
        self.hanging = asyncio.Event()
        self.script = script or {}  # account_id -> list of Delivery outcomes to return first

    async def deliver(self, message: Outgoing) -> Delivery:
        account_id, reply = message.account_id, message.reply
        self.calls += 1
        if self.hang_on_call == self.calls:
            self.hanging.set()
            await asyncio.Event().wait()  # in flight when the process is killed
        planned = self.script.get(account_id)
        if planned:
            return planned.pop(0)
        self.delivered.append((account_id, reply.text))
        return Delivery("sent")


def people(app, count: int, channel: str = "telegram") -> list[int]:
    ids = []
    with transaction(app.database) as session:
        for number in range(count):
            person = Person(phone=f"+62812555{number:05d}", language="id", role="ikm")
            session.add(person)
            session.flush()
            session.add(
                ChannelAccount(person_id=person.id, channel=channel, external_id=str(1000 + number))
            )
            ids.append(person.id)
    return ids


def announce(app, person_ids: list[int], key: str = "test") -> None:
    with transaction(app.database) as session:
        for person_id in person_ids:
            outbox.enqueue(
                session,
                person_id=person_id,
                key=f"{key}:person:{person_id}",
                template="announcement",
                params={"text": f"halo {person_id}", "image_ref": None},
                now=app.engine.clock.now(),
                batch=key,
            )


def sender(app, transport, **settings) -> OutboxSender:
    return OutboxSender(
        database=app.database,
        transports={"telegram": transport},
        limits={"telegram": FAST},
        render=app.engine.render,
        clock=app.engine.clock,
        settings=SenderSettings(**{"concurrency": 1, **settings}),
    )


async def drain_until_hanging(app, transport: RecordingTransport, **settings) -> asyncio.Future:
    """A drain left running with a send in flight that never returns."""
    draining = asyncio.ensure_future(sender(app, transport, **settings).drain_once())
    await asyncio.wait_for(transport.hanging.wait(), timeout=5)
    return draining


async def stop(draining: asyncio.Future) -> None:
    draining.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await draining


def states(app) -> Counter:
    with Session(app.database) as session:
        return Counter(row.state for row in session.exec(select(OutboxMessage)))


async def test_enqueue_is_idempotent(app) -> None:
    ids = people(app, 3)
    announce(app, ids)
    announce(app, ids)
    assert states(app) == Counter({"pending": 3})


async def test_drain_sends_each_once_and_records_it(app) -> None:
    announce(app, people(app, 5))
    transport = RecordingTransport()
    counts = await sender(app, transport).drain_once()
    assert counts == Counter({"sent": 5})
    assert len(transport.delivered) == 5
    assert await sender(app, transport).drain_once() == Counter()
    assert states(app) == Counter({"sent": 5})


async def test_a_crash_midway_loses_nothing_and_resends_only_what_was_in_flight(app, clock) -> None:
    ids = people(app, 10)
    announce(app, ids)
    first = RecordingTransport(hang_on_call=5)
    draining = await drain_until_hanging(app, first, batch_size=6)
    await stop(draining)  # what went out is recorded on the way out (a kill -9: below)
    assert len(first.delivered) == 4
    assert states(app) == Counter({"sent": 4, "sending": 2, "pending": 4})

    clock.advance(timedelta(seconds=61))  # the dead sender's lease runs out
    second = RecordingTransport()
    await sender(app, second).drain_once()
    delivered = Counter(account for account, _ in first.delivered + second.delivered)
    assert set(delivered) == {str(1000 + n) for n in range(10)}
    assert max(delivered.values()) == 1
    assert states(app) == Counter({"sent": 10})


async def test_outcomes_are_written_in_groups_so_a_kill_resends_at_most_a_group(app) -> None:
    announce(app, people(app, 10))
    transport = RecordingTransport(hang_on_call=8)
    draining = await drain_until_hanging(app, transport, record_group=3, record_interval=60)
    # What a kill -9 now would leave: two groups of three written, the 7th sent but not
    # yet written (it would go again after the lease, with the 8th in flight).
    assert states(app) == Counter({"sent": 6, "sending": 4})
    await stop(draining)
    assert states(app) == Counter({"sent": 7, "sending": 3})


async def test_outcomes_are_written_within_the_interval_however_slow_the_sends(app) -> None:
    announce(app, people(app, 3))
    transport = RecordingTransport(hang_on_call=3)
    draining = await drain_until_hanging(app, transport, record_group=100, record_interval=0.01)
    await asyncio.sleep(0.05)
    assert states(app) == Counter({"sent": 2, "sending": 1})
    await stop(draining)


async def test_retry_after_then_success_and_blocked_skips_the_rest(app, clock) -> None:
    ids = people(app, 2)
    announce(app, ids, key="first")
    announce(app, [ids[1]], key="second")
    transport = RecordingTransport(
        script={
            "1000": [Delivery("retry", "429", retry_after=5)],
            "1001": [Delivery("blocked", "403 Forbidden: bot was blocked by the user")],
        }
    )
    counts = await sender(app, transport).drain_once()
    assert counts == Counter({"retry": 1, "blocked": 2})
    # The blocked account's other message is not sent either, now or later.
    assert states(app) == Counter({"pending": 1, "failed": 2})
    with Session(app.database) as session:
        blocked = session.exec(select(ChannelAccount).where(ChannelAccount.external_id == "1001"))
        assert blocked.one().blocked
    assert await sender(app, transport).drain_once() == Counter()  # not due yet
    clock.advance(timedelta(seconds=6))
    assert await sender(app, transport).drain_once() == Counter({"sent": 1})
    assert transport.delivered == [("1000", f"halo {ids[0]}")]


async def test_permanent_failures_stop_after_max_attempts(app, clock) -> None:
    announce(app, people(app, 1))
    failing = RecordingTransport(script={"1000": [Delivery("retry", "502")] * 10})
    for _ in range(3):
        await sender(app, failing, max_attempts=3).drain_once()
        clock.advance(timedelta(minutes=10))
    assert states(app) == Counter({"failed": 1})


async def test_console_messages_wait_in_the_inbox(app, chat_as) -> None:
    chat = chat_as("+6281234567890")
    await chat.say("halo")
    with Session(app.database) as session:
        person_id = session.exec(select(Person.id)).one()
    announce(app, [person_id])
    assert states(app) == Counter({"waiting": 1})
    replies = await chat.open()
    assert replies[0].text == f"halo {person_id}"
    assert replies[0].title == "Pengumuman Dinas Perindustrian"
    assert (await chat.open())[0].text != replies[0].text  # delivered once
    assert states(app) == Counter({"sent": 1})


async def test_rate_limiter_spaces_messages_per_chat() -> None:
    from bot.sending import RateLimiter

    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(
        RateLimit(10, per_chat_per_second=1), monotonic=lambda: now[0], sleep=sleep
    )
    for _ in range(3):
        await limiter.wait_turn("chat-1")
    await limiter.wait_turn("chat-2")
    # chat-1 waits a second each time; chat-2 only for the next 0.1 s slot of the channel.
    assert slept == pytest.approx([1.0, 1.0, 0.1])
    assert now[0] == pytest.approx(2.1)


async def test_two_senders_at_once_send_each_message_once(app, settings) -> None:
    """Two workers draining together (PostgreSQL: SKIP LOCKED; SQLite: serialized claims)."""
    from bot.app import build_app

    announce(app, people(app, 60))
    other_process = build_app(settings, clock=app.engine.clock)
    try:
        first, second = RecordingTransport(), RecordingTransport()

        class Yielding(RecordingTransport):
            def __init__(self, inner: RecordingTransport) -> None:
                self.inner = inner
                self.channel = "telegram"

            async def deliver(self, message):
                await asyncio.sleep(0)  # let the other worker claim meanwhile
                return await self.inner.deliver(message)

        await asyncio.gather(
            sender(app, Yielding(first), batch_size=7, concurrency=3).drain_once(),
            sender(other_process, Yielding(second), batch_size=7, concurrency=3).drain_once(),
        )
    finally:
        other_process.close()
    delivered = Counter(account for account, _ in first.delivered + second.delivered)
    assert len(delivered) == 60 and max(delivered.values()) == 1
    assert first.delivered and second.delivered  # both did work
    assert states(app) == Counter({"sent": 60})


def test_concurrent_claims_on_postgres_never_overlap(app, postgres_url) -> None:
    """Two transactions claiming at the same moment get disjoint rows (SKIP LOCKED)."""
    import threading

    if not postgres_url:
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite serializes writers instead")
    announce(app, people(app, 20))
    claimed: dict[str, list[int]] = {}
    both_claimed = threading.Barrier(2, timeout=10)

    def claim(name: str) -> None:
        with transaction(app.database) as session:
            rows = outbox.claim_due(
                session,
                channels=["telegram"],
                now=app.engine.clock.now(),
                limit=15,
                lease=timedelta(seconds=60),
            )
            claimed[name] = [row.id for row in rows]
            both_claimed.wait()  # hold the locks until the other has claimed too

    workers = [threading.Thread(target=claim, args=(name,)) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=15)
    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 20


async def test_an_account_blocked_in_one_drain_is_tried_again_in_the_next(app, clock) -> None:
    ids = people(app, 1)
    announce(app, ids, key="first")
    blocking = RecordingTransport(script={"1000": [Delivery("blocked", "403")]})
    running = sender(app, blocking)  # `run` keeps one sender for the whole process
    assert (await running.drain_once())["blocked"] == 1
    with transaction(app.database) as session:  # the person writes again: reachable
        session.exec(select(ChannelAccount)).one().blocked = False
    announce(app, ids, key="second")
    assert (await running.drain_once())["sent"] == 1


async def test_kills_before_a_message_is_tried_do_not_use_up_its_attempts(app, clock) -> None:
    """A sender killed again and again while a message waits its turn in a claimed batch:
    its first real try that meets a 5xx is retried, not given up (a crash loses nothing)."""
    announce(app, people(app, 2))
    for _ in range(3):  # each time the first message is in flight, the second not yet tried
        killed = RecordingTransport(hang_on_call=1)
        await stop(await drain_until_hanging(app, killed, batch_size=2, max_attempts=3))
        clock.advance(timedelta(seconds=61))  # the dead sender's lease runs out
    flaky = RecordingTransport(script={"1001": [Delivery("retry", "502 Bad Gateway")]})
    assert await sender(app, flaky, max_attempts=3).drain_once() == Counter(sent=1, retry=1)
    assert states(app) == Counter({"sent": 1, "pending": 1})
    clock.advance(timedelta(seconds=1))  # the first retry waits half a second
    assert await sender(app, flaky, max_attempts=3).drain_once() == Counter(sent=1)
    assert [account for account, _ in flaky.delivered] == ["1000", "1001"]


class IdentifiedTransport(RecordingTransport):
    """Sends as WhatsApp does: the platform answers with its id for the message."""

    async def deliver(self, message: Outgoing) -> Delivery:
        await super().deliver(message)
        return Delivery("sent", platform_message_id=f"wamid.{message.account_id}")


def report_failed(app, account_id: str, code: int | None, title: str | None) -> None:
    failed = StatusReport(
        channel="telegram",
        platform_message_id=f"wamid.{account_id}",
        recipient=account_id,
        status="failed",
        error_code=code,
        error_title=title,
    )
    with transaction(app.database) as session:
        inbound.record_statuses(session, [failed], now=app.engine.clock.now())


def outcome_of(app, account_id: str) -> tuple[str, str | None]:
    with Session(app.database) as session:
        mine = select(OutboxMessage).where(OutboxMessage.account_id == account_id)
        row = session.exec(mine).one()
        return row.state, row.last_error


@pytest.mark.parametrize("reported", ["after the send was recorded", "before it was recorded"])
async def test_a_message_reported_failed_once_accepted_is_failed_whichever_comes_first(
    app, reported
) -> None:
    """The platform's failure comes by webhook, which may be committed before or after the
    sender records the send: either way the message ends failed, with the platform's words."""
    first, second, third = people(app, 3)
    announce(app, [first, second, third])
    if reported == "before it was recorded":
        report_failed(app, "1000", 131026, "Message undeliverable")
        report_failed(app, "1001", None, None)
    await sender(app, IdentifiedTransport()).drain_once()
    if reported == "after the send was recorded":
        report_failed(app, "1000", 131026, "Message undeliverable")
        report_failed(app, "1001", None, None)
    assert outcome_of(app, "1000") == ("failed", "131026 Message undeliverable")
    assert outcome_of(app, "1001") == ("failed", "failed after sending")
    assert outcome_of(app, "1002") == ("sent", None)
