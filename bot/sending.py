"""The outbox sender: drains due messages through the channels, under rate limits.

Messages are claimed in a short transaction and sent; their outcomes are written
together, a few at a time (`record_group`, `record_interval`): a crash loses nothing and
resends at most the messages in flight and those sent but not yet written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from bot.core.boundary import Boundary
from bot.core.clock import Clock
from bot.core.messages import Reply
from bot.services import accounts
from bot.services import outbox as outbox_service
from models.db import transaction

log = logging.getLogger(__name__)

Outcome = Literal["sent", "retry", "blocked", "failed", "waiting", "outside_window"]


@dataclass(frozen=True)
class Delivery:
    """What one attempt to deliver came to."""

    outcome: Outcome
    error: str | None = None
    retry_after: float | None = None
    platform_message_id: str | None = None  # e.g. a WhatsApp wamid, to match statuses


@dataclass(frozen=True)
class Outgoing:
    """One outbox message on its way: the rendered reply and what it was rendered from.

    A channel may need the kind (`template`: WhatsApp picks its approved template by it
    outside the 24-hour window); what it shows comes from `reply` only, including the
    display texts in `reply.fields`, never from the raw `params`."""

    account_id: str
    reply: Reply
    template: str
    params: dict
    language: str


class Transport(Protocol):
    """A channel as the sender sees it: one attempt, classified, never retried inside."""

    channel: str

    async def deliver(self, message: Outgoing) -> Delivery: ...


@dataclass(frozen=True)
class RateLimit:
    per_second: float  # all chats together
    per_chat_per_second: float | None = None


class RateLimiter:
    """A token bucket for the channel and a minimum gap per chat, on the monotonic clock."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self._monotonic = monotonic
        self._sleep = sleep
        self._next_slot = 0.0
        self._chat_next: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def wait_turn(self, chat: str) -> None:
        async with self._lock:
            now = self._monotonic()
            start = max(now, self._next_slot, self._chat_next.get(chat, 0.0))
            self._next_slot = start + 1.0 / self.limit.per_second
            if self.limit.per_chat_per_second:
                self._chat_next[chat] = start + 1.0 / self.limit.per_chat_per_second
            if len(self._chat_next) > 100_000:  # forget chats long past their gap
                self._chat_next = {k: v for k, v in self._chat_next.items() if v > now}
        if start > now:
            await self._sleep(start - now)

    def hold_off(self, seconds: float) -> None:
        """The platform said slow down (429): nobody sends on this channel for a while."""
        self._next_slot = max(self._next_slot, self._monotonic() + seconds)


@dataclass(frozen=True)
class SenderSettings:
    batch_size: int = 200
    concurrency: int = 16
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 8
    idle_wait: float = 1.0
    # Outcomes are written in one transaction per `record_group` messages, and at least
    # every `record_interval` seconds: a kill -9 resends at most those besides the ones
    # in flight.
    record_group: int = 16
    record_interval: float = 0.1


@dataclass(frozen=True)
class _Claimed:
    message_id: int
    channel: str
    account_id: str
    content: dict
    language: str
    attempts: int  # tries before this one


@dataclass(frozen=True)
class _Outcome:
    """A message's delivery, not yet written."""

    message: _Claimed
    delivery: Delivery
    at: datetime


class OutboxSender:
    def __init__(
        self,
        *,
        database: sa.Engine,
        transports: dict[str, Transport],
        limits: dict[str, RateLimit],
        render: Callable[[dict, str], Reply],
        clock: Clock,
        settings: SenderSettings | None = None,
        boundary: Boundary | None = None,
    ) -> None:
        self.database = database
        # Claims and outcomes are written in worker threads: a send never waits on them.
        self.boundary = boundary or Boundary(threads=2)
        self.render = render
        self.transports = transports
        self.clock = clock
        self.settings = settings or SenderSettings()
        self.limiters = {channel: RateLimiter(limits[channel]) for channel in transports}
        # Accounts found blocked during this run: their other claimed messages are skipped.
        self._blocked: set[tuple[str, str]] = set()
        self._unwritten: list[_Outcome] = []

    async def drain_once(self) -> Counter[str]:
        """Send everything due now, once; counts by outcome."""
        outcomes: Counter[str] = Counter()
        if not self.transports:
            return outcomes
        self._blocked.clear()  # a person who wrote again since is reachable again
        while batch := await self.boundary.run_sync(self._claim):
            try:
                await self._send_batch(batch, outcomes)
            finally:  # what went out is recorded, also when stopped midway
                await self._write_outcomes()
        return outcomes

    def _claim(self) -> list[_Claimed]:
        with transaction(self.database) as session:
            claimed = outbox_service.claim_due(
                session,
                channels=list(self.transports),
                now=self.clock.now(),
                limit=self.settings.batch_size,
                lease=self.settings.lease,
            )
            return [
                _Claimed(
                    row.id, row.channel, row.account_id, row.content, row.language, row.attempts
                )
                for row in claimed
            ]

    async def _send_batch(self, batch: list[_Claimed], outcomes: Counter[str]) -> None:
        """`concurrency` workers take the batch's messages in turn."""
        queue = iter(batch)

        async def work() -> None:
            for message in queue:
                outcomes[await self._send(message)] += 1

        # A task group: if one send dies, the others stop too instead of running on.
        async with asyncio.TaskGroup() as group:
            workers = {
                group.create_task(work()) for _ in range(min(self.settings.concurrency, len(batch)))
            }
            while workers:
                _, workers = await asyncio.wait(workers, timeout=self.settings.record_interval)
                await self._write_outcomes()

    async def run(self, stop: asyncio.Event) -> None:
        """Drain continuously until `stop` is set."""
        while not stop.is_set():
            try:
                sent = await self.drain_once()
            except Exception:
                log.exception("outbox drain failed; trying again")
                sent = Counter()
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.idle_wait)

    async def _send(self, message: _Claimed) -> str:
        channel, account_id = message.channel, message.account_id
        if (channel, account_id) in self._blocked:
            delivery = Delivery("blocked", "blocked earlier in this run")
            await self._done(message, delivery)
            return delivery.outcome
        limiter = self.limiters[channel]
        await limiter.wait_turn(account_id)
        try:
            outgoing = Outgoing(
                account_id=account_id,
                reply=self.render(message.content, message.language),
                template=message.content["template"],
                params=message.content["params"],
                language=message.language,
            )
            delivery = await self.transports[channel].deliver(outgoing)
        except Exception as error:  # a bug or an unexpected library error: try again later
            log.exception("delivering outbox message %s failed", message.message_id)
            delivery = Delivery("retry", error=repr(error))
        if delivery.outcome == "retry" and delivery.retry_after:
            limiter.hold_off(delivery.retry_after)
        if delivery.outcome == "blocked":
            self._blocked.add((channel, account_id))
        await self._done(message, delivery)
        return delivery.outcome

    async def _done(self, message: _Claimed, delivery: Delivery) -> None:
        self._unwritten.append(_Outcome(message, delivery, self.clock.now()))
        if len(self._unwritten) >= self.settings.record_group:
            await self._write_outcomes()

    async def _write_outcomes(self) -> None:
        """Write the outcomes gathered so far in one transaction (in a worker thread)."""
        outcomes, self._unwritten = self._unwritten, []
        if outcomes:
            await self.boundary.run_sync(self._write, outcomes)

    def _write(self, outcomes: list[_Outcome]) -> None:
        with transaction(self.database) as session:
            sent = [o for o in outcomes if o.delivery.outcome == "sent"]
            outbox_service.mark_sent(
                session,
                [(o.message.message_id, o.at, o.delivery.platform_message_id) for o in sent],
            )
            for outcome in outcomes:
                if outcome.delivery.outcome != "sent":
                    self._record(session, outcome)

    def _record(self, session: Session, outcome: _Outcome) -> None:
        message, delivery, now = outcome.message, outcome.delivery, outcome.at
        message_id, attempt = message.message_id, message.attempts + 1
        match delivery.outcome:
            case "waiting" | "outside_window":
                outbox_service.mark_waiting(session, message_id, error=delivery.error or "")
            case "blocked":
                error = delivery.error or "blocked"
                outbox_service.mark_failed(session, message_id, error=error)
                accounts.set_blocked(
                    session, channel=message.channel, external_id=message.account_id, blocked=True
                )
                outbox_service.skip_blocked(
                    session, channel=message.channel, account_id=message.account_id, error=error
                )
            case "failed":
                outbox_service.mark_failed(session, message_id, error=delivery.error or "")
            case "retry" if attempt >= self.settings.max_attempts:
                outbox_service.mark_failed(session, message_id, error=f"gave up: {delivery.error}")
            case "retry":
                # 0.5 s, 2 s, 8 s, 32 s, ... : a passing hiccup is retried at once.
                wait = delivery.retry_after or min(300.0, 0.5 * 4 ** (attempt - 1))
                outbox_service.mark_retry(
                    session,
                    message_id,
                    at=now + timedelta(seconds=wait),
                    error=delivery.error or "",
                )
