"""Health and metrics for /healthz and /metrics (Prometheus text format).

Two kinds of figures. What this process did (messages handled, how long each took) is
counted in memory. What the deployment holds (the outbox, stored webhook bodies, the
scheduler lease) is read from the database at scrape time, in one short transaction, so
every process reports the same shared truth whichever one the scraper reaches.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import Session

from bot.core.messages import Incoming, Reply
from bot.services import inbound
from models.base import as_utc
from models.conversation import InboundEvent
from models.outbox import OutboxMessage, OutboxState
from scheduler.lease import Lease, current_holder

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Up to a few seconds: a message that waits longer than that is an incident, not a bucket.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_DUE = (OutboxState.PENDING, OutboxState.SENDING)


@dataclass(frozen=True)
class Health:
    """What /healthz says: the database answers, and some process holds the scheduler lease."""

    database: bool
    scheduler_holder: str | None

    @property
    def ok(self) -> bool:
        return self.database and self.scheduler_holder is not None

    def as_json(self) -> dict:
        return {
            "status": "ok" if self.ok else "unavailable",
            "database": "ok" if self.database else "unreachable",
            "scheduler_lease": self.scheduler_holder,
        }


class Metrics:
    """One process's registry: in-memory counters plus the database read at scrape time."""

    def __init__(self, database: sa.Engine, *, now: Callable[[], datetime] | None = None) -> None:
        self.database = database
        self.lease: Lease | None = None
        self.registry = CollectorRegistry(auto_describe=True)
        self.messages = Counter(
            "sinergi_messages_handled",
            "Messages from people handled by this process, by channel.",
            ["channel"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "sinergi_message_seconds",
            "Time to handle one message (the engine's step and its transaction), by channel.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(
            DatabaseCollector(
                database,
                now or (lambda: datetime.now(UTC)),
                holder=lambda: current_holder(database, self.lease),
            )
        )

    def watch_lease(self, lease: Lease) -> None:
        """The lease of this process: on SQLite, the only one there is."""
        self.lease = lease

    def observe(self, channel: str, seconds: float) -> None:
        self.messages.labels(channel=channel).inc()
        self.latency.labels(channel=channel).observe(seconds)

    def exposition(self) -> bytes:
        """The Prometheus text format (reads the database: call it off the event loop)."""
        return generate_latest(self.registry)

    def health(self) -> Health:
        """Database and lease, read now (blocking: call it off the event loop)."""
        try:
            with self.database.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return Health(True, current_holder(self.database, self.lease))
        except Exception as error:
            log.warning("[health] the database does not answer: %s", error)
            return Health(False, None)


Handle = Callable[[Incoming], Awaitable[list[Reply]]]


def instrument(engine: object, metrics: Metrics) -> None:
    """Count and time every message the channels hand to `engine.handle`."""
    engine.handle = timed(engine.handle, metrics)


def timed(handle: Handle, metrics: Metrics) -> Handle:
    @functools.wraps(handle)
    async def handle_timed(incoming: Incoming) -> list[Reply]:
        started = time.perf_counter()
        try:
            return await handle(incoming)
        finally:
            metrics.observe(incoming.channel, time.perf_counter() - started)

    return handle_timed


class DatabaseCollector(Collector):
    """The deployment's shared figures, read in one short transaction per scrape."""

    def __init__(
        self,
        database: sa.Engine,
        now: Callable[[], datetime],
        holder: Callable[[], str | None],
    ) -> None:
        self.database = database
        self.now = now
        self.holder = holder

    def describe(self) -> list:
        return []  # read at scrape time only: registering must not touch the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.now()
        with Session(self.database) as session, session.begin():
            yield from _outbox_figures(session, now)
            yield from _inbound_figures(session)
        yield lease_gauge(self.holder())


def _outbox_figures(session: Session, now: datetime) -> Iterator[GaugeMetricFamily]:
    by_state = GaugeMetricFamily(
        "sinergi_outbox_messages",
        "Outbox rows by state and channel: pending and sending are the depth; sent, failed,"
        " expired, superseded and cancelled are the sends by outcome.",
        labels=["state", "channel"],
    )
    rows = session.execute(
        sa.select(OutboxMessage.state, OutboxMessage.channel, sa.func.count()).group_by(
            OutboxMessage.state, OutboxMessage.channel
        )
    )
    for state, channel, count in rows:
        by_state.add_metric([state, channel], count)
    yield by_state
    depth = GaugeMetricFamily(
        "sinergi_outbox_depth", "Outbox rows still to send (pending or being sent)."
    )
    depth.add_metric(
        [],
        session.execute(
            sa.select(sa.func.count()).where(OutboxMessage.state.in_(_DUE))
        ).scalar_one(),
    )
    yield depth
    oldest = session.execute(
        sa.select(sa.func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now
        )
    ).scalar()
    age = GaugeMetricFamily(
        "sinergi_outbox_oldest_due_seconds",
        "How long the oldest due outbox message has waited (0 when none is due).",
    )
    age.add_metric([], max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest else 0.0)
    yield age


def _inbound_figures(session: Session) -> Iterator[GaugeMetricFamily]:
    backlog = GaugeMetricFamily(
        "sinergi_webhook_backlog",
        "Stored webhook bodies not yet processed (quarantined ones not counted), by channel.",
        labels=["channel"],
    )
    rows = session.execute(
        sa.select(InboundEvent.channel, sa.func.count())
        .where(InboundEvent.processed_at.is_(None), InboundEvent.quarantined_at.is_(None))
        .group_by(InboundEvent.channel)
    )
    for channel, count in rows:
        backlog.add_metric([channel], count)
    yield backlog
    quarantined = GaugeMetricFamily(
        "sinergi_webhook_quarantined",
        "Webhook bodies set aside after failing (they wait for a person to look).",
        labels=["channel"],
    )
    for channel, count in inbound.quarantined_counts(session).items():
        quarantined.add_metric([channel], count)
    yield quarantined


def lease_gauge(holder: str | None) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(
        "sinergi_scheduler_lease_held", "1 when some process holds the scheduler lease."
    )
    gauge.add_metric([], 1 if holder else 0)
    return gauge
